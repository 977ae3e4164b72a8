package project_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"dev", true}, {"acme-live", true}, {"0", true}, {string(make([]byte, 0)), false},
		{"-acme", false}, {"Acme", false}, {"acme_1", false}, {"a/b", false}, {"a%2fb", false},
		{"ü", false}, {"a b", false},
		{"a123456789012345678901234567890123456789012345678901234567890bc", true},   // 63
		{"a123456789012345678901234567890123456789012345678901234567890bcd", false}, // 64
	}
	for _, tt := range tests {
		err := project.ValidID("id", tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidID(%q) = %v, want ok %t", tt.id, err, tt.ok)
		}
	}
}

func TestAdvanceClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		clocks := &clock.Projects{}
		s := &project.Service{Store: b.Open(t), Clock: clock.Wall{}, Clocks: clocks}
		for _, p := range []project.CreateParams{{ID: "t", Name: "T", Mode: project.Test}, {ID: "l", Name: "L", Mode: project.Live}} {
			if _, err := s.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name, project string
			d             time.Duration
			typ, code     string
			offset        time.Duration
		}{
			{"a second", "t", time.Second, "", "", time.Second},
			{"too little", "t", time.Second - 1, failure.Invalid, "invalidValue", time.Second},
			{"backwards", "t", -time.Hour, failure.Invalid, "invalidValue", time.Second},
			{"more than a year", "t", project.MaxAdvance + time.Second, failure.Invalid, "invalidValue", time.Second},
			{"a year", "t", project.MaxAdvance, "", "", project.MaxAdvance + time.Second},
			{"live", "l", time.Hour, failure.PermissionDenied, "testModeOnly", 0},
			{"no such project", "nope", time.Hour, failure.NotFound, "projectNotFound", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.AdvanceClock(ctx, tt.project, tt.d)
				if tt.typ == "" && err != nil || tt.typ != "" && !failure.Is(err, tt.typ, tt.code) {
					t.Fatalf("AdvanceClock(%s, %s) = %v, want %s %s", tt.project, tt.d, err, tt.typ, tt.code)
				}
				if got, err := s.ClockOffset(ctx, tt.project); err != nil || got != tt.offset {
					t.Fatalf("offset %s (%v), want %s", got, err, tt.offset)
				}
			})
		}
		// Up to ten years in all, and not a second more.
		for s.Clocks.Offset("t")+project.MaxAdvance <= project.MaxOffset {
			if _, err := s.AdvanceClock(ctx, "t", project.MaxAdvance); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AdvanceClock(ctx, "t", project.MaxAdvance); !failure.Is(err, failure.Invalid, "clockLimitReached") {
			t.Fatalf("past ten years: %v, want clockLimitReached", err)
		}
		if got := clocks.Offset("t"); got > project.MaxOffset || got <= project.MaxOffset-project.MaxAdvance {
			t.Fatalf("offset %s, want within a year under ten years", got)
		}
	})
}
