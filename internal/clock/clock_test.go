package clock_test

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
)

// fixed is a base clock that stands still.
type fixed time.Time

func (f fixed) Now() time.Time { return time.Time(f) }

func TestProjectsKeepOffsetsApart(t *testing.T) {
	base := time.Date(2025, 5, 22, 10, 0, 0, 0, time.UTC)
	p := &clock.Projects{Base: fixed(base)}
	p.Set("a", time.Hour)
	tests := []struct {
		name    string
		set     func()
		project string
		want    time.Time
	}{
		{"moved", func() {}, "a", base.Add(time.Hour)},
		{"another project", func() {}, "b", base},
		{"forward", func() { p.Set("a", 2*time.Hour) }, "a", base.Add(2 * time.Hour)},
		{"never backwards", func() { p.Set("a", time.Minute) }, "a", base.Add(2 * time.Hour)},
		{"the other still", func() {}, "b", base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.set()
			if got := p.For(tt.project).Now(); !got.Equal(tt.want) {
				t.Errorf("%s: %s, want %s", tt.project, got, tt.want)
			}
		})
	}
	if got := p.Offsets(); len(got) != 1 || got["a"] != 2*time.Hour {
		t.Errorf("Offsets = %v, want only a at 2h", got)
	}
}
