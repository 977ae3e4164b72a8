package id

import (
	"strings"
	"testing"
)

func TestNewShapeAndOrder(t *testing.T) {
	tests := []struct {
		prefix string
		length int
	}{
		{Event, 28}, {Porting, 28}, {ServiceProvider, 22},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			prev := ""
			for range 10000 {
				got := New(tt.prefix)
				suffix, ok := strings.CutPrefix(got, tt.prefix+"_")
				if !ok || len(suffix) != tt.length {
					t.Fatalf("New(%q) = %q, want prefix and %d-character suffix", tt.prefix, got, tt.length)
				}
				for _, c := range suffix {
					if !strings.ContainsRune(alphabet, c) {
						t.Fatalf("New(%q) = %q has non-base62 %q", tt.prefix, got, c)
					}
				}
				if got <= prev {
					t.Fatalf("New(%q) = %q, not after %q", tt.prefix, got, prev)
				}
				prev = got
			}
		})
	}
}

func TestIncrementCarries(t *testing.T) {
	s := []byte("0z")
	increment(s)
	if string(s) != "10" {
		t.Fatalf("increment(0z) = %s, want 10", s)
	}
}
