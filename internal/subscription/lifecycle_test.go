package subscription

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
)

func TestAddPeriods(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	monthly := switchboard.Validity{Type: "recurring", Unit: "month", Value: 1}
	tests := []struct {
		name  string
		start string
		v     switchboard.Validity
		n     int
		want  string
	}{
		{"days", "2026-01-30T10:00:00Z", switchboard.Validity{Unit: "day", Value: 7}, 1, "2026-02-06T10:00:00Z"},
		{"days, several", "2026-01-30T10:00:00Z", switchboard.Validity{Unit: "day", Value: 7}, 12, "2026-04-24T10:00:00Z"},
		{"month", "2026-01-15T10:00:00Z", monthly, 1, "2026-02-15T10:00:00Z"},
		{"month from the 31st clamps", "2026-01-31T10:00:00Z", monthly, 1, "2026-02-28T10:00:00Z"},
		{"leap year", "2028-01-31T10:00:00Z", monthly, 1, "2028-02-29T10:00:00Z"},
		{"no drift after a short month", "2026-01-31T10:00:00Z", monthly, 2, "2026-03-31T10:00:00Z"},
		{"over the year", "2026-11-30T10:00:00Z", monthly, 3, "2027-02-28T10:00:00Z"},
		{"quarterly", "2026-01-31T10:00:00Z", switchboard.Validity{Unit: "month", Value: 3}, 1, "2026-04-30T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := addPeriods(at(tt.start), tt.v, tt.n); !got.Equal(at(tt.want)) {
				t.Fatalf("addPeriods(%s, %d) = %s, want %s", tt.start, tt.n, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}
