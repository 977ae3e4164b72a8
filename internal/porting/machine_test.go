package porting

import (
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/failure"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func porting(status string, required ...string) *record {
	return &record{Porting: switchboard.Porting{Status: status, Required: required}}
}

// TestTransitions checks every provider and customer transition from every
// status: where it is allowed, the status it leads to; where it is not,
// the conflict code.
func TestTransitions(t *testing.T) {
	type op struct {
		name string
		do   func(*record) error
	}
	ops := []op{
		{"request", func(r *record) error { return r.request(now) }},
		{"decline", func(r *record) error { return r.decline("portingDeclined", now) }},
		{"requireInformation", func(r *record) error { return r.requireInformation() }},
		{"complete", func(r *record) error { return r.complete(now) }},
		{"cancel", func(r *record) error { return r.cancel(now) }},
		{"expire", func(r *record) error { return r.expire(now) }},
	}
	// want[status][op] is the resulting status, or the conflict code.
	want := map[string]map[string]string{
		switchboard.PortingDraft: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "portingNotCancelable", "expire": "portingNotExpirable"},
		switchboard.PortingPending: {"request": "requested", "decline": "portingNotDeclinable",
			"requireInformation": "informationRequired", "complete": "portingNotCompletable",
			"cancel": "canceled", "expire": "expired"},
		switchboard.PortingInformationRequired: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "canceled", "expire": "expired"},
		switchboard.PortingRequested: {"request": "portingNotRequestable", "decline": "declined",
			"requireInformation": "informationRequired", "complete": "completed",
			"cancel": "canceled", "expire": "expired"},
		switchboard.PortingDeclined: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "portingNotCancelable", "expire": "expired"},
		switchboard.PortingCompleted: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "portingNotCancelable", "expire": "portingNotExpirable"},
		switchboard.PortingCanceled: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "portingAlreadyCanceled", "expire": "portingNotExpirable"},
		switchboard.PortingExpired: {"request": "portingNotRequestable", "decline": "portingNotDeclinable",
			"requireInformation": "portingNotUpdatable", "complete": "portingNotCompletable",
			"cancel": "portingNotCancelable", "expire": "portingNotExpirable"},
	}
	for status, outcomes := range want {
		for _, o := range ops {
			t.Run(status+"/"+o.name, func(t *testing.T) {
				r := porting(status)
				err := o.do(r)
				w := outcomes[o.name]
				if statusEvent[w] != "" || w == switchboard.PortingPending {
					if err != nil || r.Status != w {
						t.Fatalf("got status %s, err %v; want %s", r.Status, err, w)
					}
					return
				}
				if !failure.Is(err, failure.Conflict, w) {
					t.Fatalf("got %v, want conflict %s", err, w)
				}
				if r.Status != status {
					t.Fatalf("a refused transition changed the status to %s", r.Status)
				}
			})
		}
	}
}

func TestDeclineRecordsAttempt(t *testing.T) {
	r := porting(switchboard.PortingRequested)
	if err := r.decline("portingPhoneNumberPortProtected", now); err != nil {
		t.Fatal(err)
	}
	if r.DeclinedAttempts != 1 || *r.DeclinedCode != "portingPhoneNumberPortProtected" ||
		*r.DeclinedMessage != DeclineMessages["portingPhoneNumberPortProtected"] || !r.LastDeclinedAt.Equal(now) {
		t.Fatalf("declined porting %+v", r.Porting)
	}
	if err := porting(switchboard.PortingRequested).decline("nope", now); !failure.Is(err, failure.Invalid, "invalidDeclinedCode") {
		t.Fatalf("unknown code: got %v", err)
	}
}

func TestMissingAndSettle(t *testing.T) {
	all := []string{catalog.FieldAccountNumber, catalog.FieldAccountPin, catalog.FieldAddress, catalog.FieldBirthday,
		catalog.FieldDonorProvider, catalog.FieldDonorProviderApproval, catalog.FieldFirstName, catalog.FieldLastName}
	r := porting(switchboard.PortingDraft, all...)
	want := []string{catalog.FieldAccountNumber, catalog.FieldAccountPin, catalog.FieldAddress, catalog.FieldBirthday,
		catalog.FieldDonorProvider, catalog.FieldFirstName, catalog.FieldLastName}
	if got := r.missing(); !slices.Equal(got, want) {
		t.Fatalf("missing = %v, want %v (approval only once asked)", got, want)
	}
	r.AccountNumber, r.AccountPinExists, r.Address, r.Birthday = ptr("1"), true, &switchboard.Address{}, ptr("1990-01-01")
	r.DonorProvider, r.FirstName, r.LastName = &switchboard.ServiceProvider{}, ptr("A"), ptr("B")
	r.settle()
	if r.Status != switchboard.PortingPending {
		t.Fatalf("complete porting settled to %s, want pending", r.Status)
	}
	r.Status = switchboard.PortingRequested
	if err := r.requireInformation(); err != nil || r.Status != switchboard.PortingInformationRequired {
		t.Fatalf("requireInformation: %v, status %s", err, r.Status)
	}
	if got := r.missing(); !slices.Equal(got, []string{catalog.FieldDonorProviderApproval}) {
		t.Fatalf("missing after the approval was asked = %v", got)
	}
	r.DonorProviderApproval = ptr(true)
	r.retry()
	if r.Status != switchboard.PortingPending {
		t.Fatalf("after approval: %s, want pending", r.Status)
	}
}

func TestUpdatableAfterDecline(t *testing.T) {
	tests := []struct {
		code string
		ok   bool
	}{
		{"portingAccountPinRequiredOrInvalid", true},
		{"portingZipCodeRequiredOrInvalid", true},
		{"portingPhoneNumberPortProtected", true},
		{"portingPhoneNumberPrepaid", false},
		{"portingDuplicated", false},
	}
	for _, tt := range tests {
		r := porting(switchboard.PortingDeclined)
		r.DeclinedCode = &tt.code
		err := r.updatable()
		if (err == nil) != tt.ok {
			t.Errorf("%s: updatable() = %v, want ok %v", tt.code, err, tt.ok)
		}
		if tt.ok {
			r.retry()
			if r.Status != switchboard.PortingPending || r.DeclinedCode != nil {
				t.Errorf("%s: retried to %s with code %v", tt.code, r.Status, r.DeclinedCode)
			}
		}
	}
}
