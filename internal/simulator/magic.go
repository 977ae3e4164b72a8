package simulator

import "github.com/switchboard-dev/switchboard/internal/porting"

// Outcome is what the simulated provider does with a requested porting of a
// magic number.
type Outcome struct {
	// Action is porting.ActionComplete, porting.ActionDecline,
	// porting.ActionRequireInformation, or "" to leave the porting requested
	// until it expires or is canceled.
	Action string
	// DeclinedCode is the decline code of ActionDecline.
	DeclinedCode string
	// Always declines every attempt. Otherwise only the first attempt is
	// declined and a porting corrected after the decline completes.
	Always bool
}

// Magic is a magic phone number and its outcome.
type Magic struct {
	// PhoneNumber is in E.164 format; every magic number is a valid US
	// number in the 555-01XX block reserved for fiction.
	PhoneNumber string
	Outcome
	// Description explains the number in the documentation.
	Description string
}

// MagicNumbers are the phone numbers whose portings the simulator drives,
// in every simulator mode but "off".
var MagicNumbers = []Magic{
	{PhoneNumber: "+12015550100", Outcome: Outcome{Action: porting.ActionComplete},
		Description: "requested, then completed (the subscription activates)"},

	// Declines the customer can cure by updating the porting.
	{PhoneNumber: "+12015550101", Outcome: decline("portingAccountNumberRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550102", Outcome: decline("portingAccountPinRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550103", Outcome: decline("portingAddressRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550104", Outcome: decline("portingZipCodeRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550105", Outcome: decline("portingFirstNameRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550106", Outcome: decline("portingLastNameRequiredOrInvalid"), Description: healed},
	{PhoneNumber: "+12015550107", Outcome: decline("portingPhoneNumberPortProtected"), Description: healed},

	// Declines that need a new porting or support.
	{PhoneNumber: "+12015550110", Outcome: decline("portingDeclined"), Description: final},
	{PhoneNumber: "+12015550111", Outcome: decline("portingDuplicated"), Description: final},
	{PhoneNumber: "+12015550112", Outcome: decline("portingPendingOtherProvider"), Description: final},
	{PhoneNumber: "+12015550113", Outcome: decline("portingPhoneNumberAdministrative"), Description: final},
	{PhoneNumber: "+12015550114", Outcome: decline("portingPhoneNumberNotActive"), Description: final},
	{PhoneNumber: "+12015550115", Outcome: decline("portingPhoneNumberNotFound"), Description: final},
	{PhoneNumber: "+12015550116", Outcome: decline("portingPhoneNumberPrepaid"), Description: final},
	{PhoneNumber: "+12015550117", Outcome: decline("portingSameNewAndOldNetworkProvider"), Description: final},
	{PhoneNumber: "+12015550118", Outcome: decline("portingUserInformationMismatch"), Description: final},

	{PhoneNumber: "+12015550120", Outcome: Outcome{Action: porting.ActionRequireInformation},
		Description: "requested, then informationRequired: the provider asks for the donor's approval; " +
			"update the porting with donorProviderApproval true and it completes"},
	{PhoneNumber: "+12015550121", Outcome: Outcome{Action: porting.ActionDecline, DeclinedCode: "portingAccountPinRequiredOrInvalid", Always: true},
		Description: "declined with portingAccountPinRequiredOrInvalid on every attempt, corrected or not"},
	{PhoneNumber: "+12015550130", Outcome: Outcome{},
		Description: "requested, then never answered: it stays requested until it is canceled or expires"},
}

const (
	healed = "requested, then declined with the code; after an update of the porting it is retried and completes"
	final  = "requested, then declined with the code, which an update cannot cure"
)

func decline(code string) Outcome {
	return Outcome{Action: porting.ActionDecline, DeclinedCode: code}
}

var magicByNumber = func() map[string]Outcome {
	m := make(map[string]Outcome, len(MagicNumbers))
	for _, n := range MagicNumbers {
		m[n.PhoneNumber] = n.Outcome
	}
	return m
}()

// Lookup returns the outcome of a magic phone number.
func Lookup(phoneNumber string) (Outcome, bool) {
	o, ok := magicByNumber[phoneNumber]
	return o, ok
}

// IsMagic reports whether the phone number is a magic number.
func IsMagic(phoneNumber string) bool {
	_, ok := magicByNumber[phoneNumber]
	return ok
}
