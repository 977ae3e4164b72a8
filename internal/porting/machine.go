package porting

import (
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/failure"
)

// record is a porting as stored: the wire object and what is never shown.
type record struct {
	switchboard.Porting
	// AccountPin is write-only: only AccountPinExists is ever shown.
	AccountPin *string `json:"accountPin,omitempty"`
	// ApprovalAsked: the provider asked for the donor's approval, so
	// donorProviderApproval now counts as a missing field until given.
	ApprovalAsked bool `json:"approvalAsked,omitempty"`
	// OpenedAt is when a subscription took the porting out of draft; the
	// porting expires Timeout after it.
	OpenedAt *time.Time `json:"openedAt,omitempty"`
}

// statusEvent is the event type a porting's entering a status emits.
var statusEvent = map[string]string{
	switchboard.PortingInformationRequired: switchboard.TypePortingInformationRequired,
	switchboard.PortingRequested:           switchboard.TypePortingRequested,
	switchboard.PortingDeclined:            switchboard.TypePortingDeclined,
	switchboard.PortingCompleted:           switchboard.TypePortingCompleted,
	switchboard.PortingCanceled:            switchboard.TypePortingCanceled,
	switchboard.PortingExpired:             switchboard.TypePortingExpired,
}

// open reports whether the porting is still on its way (it holds its
// phone number against other portings).
func (r *record) open() bool {
	switch r.Status {
	case switchboard.PortingDraft, switchboard.PortingPending, switchboard.PortingInformationRequired,
		switchboard.PortingRequested, switchboard.PortingDeclined:
		return true
	}
	return false
}

// missing lists the required fields that are still empty. The PIN counts as
// present when it exists; the donor's approval only once the provider asked.
func (r *record) missing() []string {
	var out []string
	for _, f := range r.Required {
		var empty bool
		switch f {
		case catalog.FieldAccountNumber:
			empty = r.AccountNumber == nil || *r.AccountNumber == ""
		case catalog.FieldAccountPin:
			empty = !r.AccountPinExists
		case catalog.FieldAddress:
			empty = r.Address == nil
		case catalog.FieldBirthday:
			empty = r.Birthday == nil
		case catalog.FieldDonorProvider:
			empty = r.DonorProvider == nil
		case catalog.FieldDonorProviderApproval:
			empty = r.ApprovalAsked && (r.DonorProviderApproval == nil || !*r.DonorProviderApproval)
		case catalog.FieldFirstName:
			empty = r.FirstName == nil
		case catalog.FieldLastName:
			empty = r.LastName == nil
		}
		if empty {
			out = append(out, f)
		}
	}
	return out
}

// settle puts an open, undecided porting into pending when it has every
// required field and into informationRequired when it lacks some.
func (r *record) settle() {
	if len(r.missing()) == 0 {
		r.Status = switchboard.PortingPending
	} else {
		r.Status = switchboard.PortingInformationRequired
	}
}

func conflict(code, format string, args ...any) error {
	return failure.New(failure.Conflict, code, format, args...)
}

// healable are the decline codes the customer can cure by updating the
// porting; the others need a new porting or support.
var healable = []string{
	"portingAccountNumberRequiredOrInvalid", "portingAccountPinRequiredOrInvalid",
	"portingAddressRequiredOrInvalid", "portingZipCodeRequiredOrInvalid",
	"portingFirstNameRequiredOrInvalid", "portingLastNameRequiredOrInvalid",
	"portingPhoneNumberPortProtected",
}

// DeclineMessages are the decline codes and the messages they come with.
var DeclineMessages = map[string]string{
	"portingAccountNumberRequiredOrInvalid": "The account number is missing or invalid.",
	"portingAccountPinRequiredOrInvalid":    "The account PIN is missing or invalid.",
	"portingAddressRequiredOrInvalid":       "The address is missing or invalid.",
	"portingDeclined":                       "The porting was declined by the donor provider.",
	"portingDuplicated":                     "A porting for the phone number is already in progress.",
	"portingFirstNameRequiredOrInvalid":     "The first name is missing or invalid.",
	"portingLastNameRequiredOrInvalid":      "The last name is missing or invalid.",
	"portingPendingOtherProvider":           "The phone number is being ported to another provider.",
	"portingPhoneNumberAdministrative":      "The phone number is an administrative number.",
	"portingPhoneNumberNotActive":           "The phone number is not active on the donor provider.",
	"portingPhoneNumberNotFound":            "The phone number was not found on the donor provider.",
	"portingPhoneNumberPortProtected":       "The phone number has port protection on the provider.",
	"portingPhoneNumberPrepaid":             "The phone number is a prepaid number.",
	"portingSameNewAndOldNetworkProvider":   "The donor and recipient network providers are the same.",
	"portingUserInformationMismatch":        "The account holder's information does not match the donor provider's.",
	"portingZipCodeRequiredOrInvalid":       "The ZIP code is missing or invalid.",
}

// updatable reports whether the customer may change the porting's details.
func (r *record) updatable() error {
	switch r.Status {
	case switchboard.PortingDraft, switchboard.PortingPending, switchboard.PortingInformationRequired:
		return nil
	case switchboard.PortingDeclined:
		if r.DeclinedCode != nil && slices.Contains(healable, *r.DeclinedCode) {
			return nil
		}
		return conflict("portingNotUpdatable", "The porting was declined with %s, which an update cannot cure; create a new porting.", deref(r.DeclinedCode))
	}
	return conflict("portingNotUpdatable", "A porting in status %s cannot be updated.", r.Status)
}

// take opens a draft porting for the subscription: it becomes pending, or
// informationRequired while required fields are missing.
func (r *record) take(subscriptionID string, now time.Time) error {
	if r.Status != switchboard.PortingDraft || r.Subscription != nil {
		return conflict("subscriptionPortingAlreadyOpen", "The porting %s is used by a subscription already.", r.ID)
	}
	r.Subscription, r.OpenedAt = &subscriptionID, &now
	r.settle()
	return nil
}

// deletable reports whether the porting may be deleted: only a draft may.
func (r *record) deletable() error {
	if r.Status != switchboard.PortingDraft {
		return conflict("portingNotDeletable", "Only a draft porting can be deleted; this one is %s.", r.Status)
	}
	return nil
}

// retry moves a porting whose details were updated back into the flow: an
// informationRequired or declined porting is retried.
func (r *record) retry() {
	switch r.Status {
	case switchboard.PortingPending, switchboard.PortingInformationRequired, switchboard.PortingDeclined:
		if r.Status == switchboard.PortingDeclined {
			r.DeclinedCode, r.DeclinedMessage = nil, nil
		}
		r.settle()
	}
}

// request: the network provider takes a pending porting.
func (r *record) request(now time.Time) error {
	if r.Status != switchboard.PortingPending {
		return conflict("portingNotRequestable", "Only a pending porting can be requested; this one is %s.", r.Status)
	}
	r.Status, r.LastRequestedAt = switchboard.PortingRequested, &now
	return nil
}

// decline: the donor refused the requested porting.
func (r *record) decline(code string, now time.Time) error {
	msg, ok := DeclineMessages[code]
	if !ok {
		return failure.New(failure.Invalid, "invalidDeclinedCode", "The declined code %q is not known.", code)
	}
	if r.Status != switchboard.PortingRequested {
		return conflict("portingNotDeclinable", "Only a requested porting can be declined; this one is %s.", r.Status)
	}
	r.Status, r.DeclinedCode, r.DeclinedMessage, r.LastDeclinedAt = switchboard.PortingDeclined, &code, &msg, &now
	r.DeclinedAttempts++
	return nil
}

// requireInformation: the provider needs more, namely the donor's approval
// where the donor asks for it.
func (r *record) requireInformation() error {
	if r.Status != switchboard.PortingPending && r.Status != switchboard.PortingRequested {
		return conflict("portingNotUpdatable", "Information can be required only of a pending or requested porting; this one is %s.", r.Status)
	}
	r.ApprovalAsked = true
	if slices.Contains(r.Required, catalog.FieldDonorProviderApproval) {
		r.DonorProviderApproval = nil
	}
	r.Status = switchboard.PortingInformationRequired
	return nil
}

// complete: the number has moved in.
func (r *record) complete(now time.Time) error {
	if r.Status != switchboard.PortingRequested {
		return conflict("portingNotCompletable", "Only a requested porting can complete; this one is %s.", r.Status)
	}
	r.Status, r.CompletedAt = switchboard.PortingCompleted, &now
	return nil
}

// cancel: the customer gives up before the porting completes.
func (r *record) cancel(now time.Time) error {
	switch r.Status {
	case switchboard.PortingPending, switchboard.PortingInformationRequired, switchboard.PortingRequested:
		r.Status, r.CanceledAt = switchboard.PortingCanceled, &now
		return nil
	case switchboard.PortingCanceled:
		return conflict("portingAlreadyCanceled", "The porting is canceled already.")
	}
	return conflict("portingNotCancelable", "A porting in status %s cannot be canceled.", r.Status)
}

// close: the subscription the porting was opened for ended for another
// reason, so the porting is canceled, declined or not.
func (r *record) close(now time.Time) error {
	if !r.open() || r.Status == switchboard.PortingDraft {
		return conflict("portingNotCancelable", "A porting in status %s cannot be closed.", r.Status)
	}
	r.Status, r.CanceledAt = switchboard.PortingCanceled, &now
	return nil
}

// expire: the porting ran out of time.
func (r *record) expire(now time.Time) error {
	if !r.open() || r.Status == switchboard.PortingDraft {
		return conflict("portingNotExpirable", "A porting in status %s cannot expire.", r.Status)
	}
	r.Status, r.ExpiredAt = switchboard.PortingExpired, &now
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
