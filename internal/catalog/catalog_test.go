package catalog

import (
	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"strings"
	"testing"
	"time"
)

func TestICCIDHasLuhnCheckDigit(t *testing.T) {
	for range 100 {
		iccid := NewICCID()
		if len(iccid) != 20 || !strings.HasPrefix(iccid, "89") {
			t.Fatalf("NewICCID() = %q, want 20 digits starting 89", iccid)
		}
		if got, want := int(iccid[19]-'0'), LuhnDigit(iccid[:19]); got != want {
			t.Fatalf("NewICCID() = %q: check digit %d, want %d", iccid, got, want)
		}
	}
}

func TestLuhnDigitKnownICCID(t *testing.T) {
	// The SIM of the platform's documented subscription example.
	const iccid = "89883070000007537119"
	if got := LuhnDigit(iccid[:19]); got != 9 {
		t.Fatalf("LuhnDigit(%s) = %d, want 9", iccid[:19], got)
	}
}

func TestNewPlanValidates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	valid := func() PlanParams {
		return PlanParams{Name: "P", Provider: "p9",
			Validity: &switchboard.Validity{MinimumPeriods: 1, Type: "recurring", Unit: "month", Value: 1}}
	}
	tests := []struct {
		name   string
		change func(*PlanParams)
		code   string
	}{
		{"valid", func(*PlanParams) {}, ""},
		{"no name", func(p *PlanParams) { p.Name = "" }, "fieldRequired"},
		{"unknown provider", func(p *PlanParams) { p.Provider = "p7" }, "invalidValue"},
		{"no validity", func(p *PlanParams) { p.Validity = nil }, "fieldRequired"},
		{"weekly unit", func(p *PlanParams) { p.Validity.Unit = "week" }, "invalidValue"},
		{"zero value", func(p *PlanParams) { p.Validity.Value = 0 }, "invalidValue"},
		{"bad sim type", func(p *PlanParams) { p.SimTypes = []string{"iSIM"} }, "invalidValue"},
		{"negative price", func(p *PlanParams) { p.Price = &switchboard.Price{Amount: -1, Currency: "USD"} }, "invalidValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			plan, err := NewPlan(p, now)
			if tt.code == "" {
				if err != nil || plan.Object != "plan" || plan.CreatedAt != now {
					t.Fatalf("NewPlan = %+v, %v; want a plan", plan, err)
				}
				return
			}
			if !failure.Is(err, failure.Invalid, tt.code) {
				t.Fatalf("NewPlan error = %v, want invalid %s", err, tt.code)
			}
		})
	}
}

func TestProviderIDsAreStable(t *testing.T) {
	a, b := providerID("AT&T"), providerID("AT&T")
	if a != b || len(a) != len("svp_")+22 {
		t.Fatalf("providerID(AT&T) = %q then %q, want one stable 22-character ID", a, b)
	}
	if providerID("Verizon") == a {
		t.Fatal("two carriers share an ID")
	}
}
