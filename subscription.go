package switchboard

import "time"

// Subscription statuses.
const (
	SubscriptionPending = "pending"
	SubscriptionActive  = "active"
	SubscriptionEnded   = "ended"
)

// Cancellation causes.
const (
	CauseCancellationRequested = "cancellationRequested"
	CausePaymentDisputed       = "paymentDisputed"
	CausePaymentFailed         = "paymentFailed"
	CausePhoneNumberPortedOut  = "phoneNumberPortedOut"
	CausePortingExpired        = "portingExpired"
	CauseSubscriptionEnded     = "subscriptionEnded"
	CauseUserDeleted           = "userDeleted"
)

// Subscription is a user's plan on a SIM, with the objects it refers to
// embedded whole.
type Subscription struct {
	Object              string               `json:"object"`
	ID                  string               `json:"id"`
	CancellationDetails *CancellationDetails `json:"cancellationDetails"`
	CurrentPeriod       *Period              `json:"currentPeriod"`
	PhoneNumber         *string              `json:"phoneNumber"`
	Plan                Plan                 `json:"plan"`
	Porting             *Porting             `json:"porting"`
	Sim                 *Sim                 `json:"sim"`
	Status              string               `json:"status"`
	User                User                 `json:"user"`
	ActivatedAt         *time.Time           `json:"activatedAt"`
	CanceledAt          *time.Time           `json:"canceledAt"`
	CreatedAt           time.Time            `json:"createdAt"`
	EarliestEndAt       *time.Time           `json:"earliestEndAt"`
	EndedAt             *time.Time           `json:"endedAt"`
	FirstUsageAt        *time.Time           `json:"firstUsageAt"`
}

// CancellationDetails says why a subscription was canceled. UserReason is set
// only for CauseCancellationRequested, UserComment only when UserReason is
// "other".
type CancellationDetails struct {
	Cause       string  `json:"cause"`
	UserReason  *string `json:"userReason"`
	UserComment *string `json:"userComment,omitempty"`
}

// Period is a numbered billing period of an active subscription.
type Period struct {
	Number int       `json:"number"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// Plan is a product a subscription is for.
type Plan struct {
	Object       string       `json:"object"`
	ID           string       `json:"id"`
	Allowances   Allowances   `json:"allowances"`
	Coverage     *Coverage    `json:"coverage"`
	Data         int64        `json:"data"`
	DataUnit     string       `json:"dataUnit"`
	Description  *string      `json:"description"`
	Image        *string      `json:"image"`
	Limits       *Limits      `json:"limits"`
	Name         string       `json:"name"`
	Price        Price        `json:"price"`
	Provider     string       `json:"provider"`
	Requirements Requirements `json:"requirements"`
	SimTypes     []string     `json:"simTypes"`
	SMS          int64        `json:"sms"`
	SMSUnit      string       `json:"smsUnit"`
	Status       string       `json:"status"`
	Validity     Validity     `json:"validity"`
	Voice        int64        `json:"voice"`
	VoiceUnit    string       `json:"voiceUnit"`
	CreatedAt    time.Time    `json:"createdAt"`
}

// Allowances is what a plan includes per period.
type Allowances struct {
	DataBytes    int64 `json:"dataBytes"`
	VoiceSeconds int64 `json:"voiceSeconds"`
	SMSMessages  int64 `json:"smsMessages"`
}

// Coverage names the countries a plan works in.
type Coverage struct {
	Object    string   `json:"object"`
	ID        string   `json:"id"`
	Countries []string `json:"countries"`
	Name      string   `json:"name"`
}

// Limits caps a plan's usage.
type Limits struct {
	DataBytes  *int64      `json:"dataBytes"`
	Throttling *Throttling `json:"throttling"`
}

// Throttling slows the connection past a threshold.
type Throttling struct {
	ThresholdBytes         int64 `json:"thresholdBytes"`
	BandwidthBitsPerSecond int64 `json:"bandwidthBitsPerSecond"`
}

// Price is an amount in the currency's smallest unit.
type Price struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Requirements says what a subscription to the plan needs: "present" or "none".
type Requirements struct {
	Address      string `json:"address"`
	Device       string `json:"device"`
	UserBirthday string `json:"user.birthday"`
	UserFullName string `json:"user.fullName"`
}

// Plan validity types and units.
const (
	ValidityRecurring = "recurring"
	ValidityOneTime   = "oneTime"
	UnitDay           = "day"
	UnitMonth         = "month"
)

// Validity is how long one period of a plan lasts.
type Validity struct {
	MinimumPeriods int    `json:"minimumPeriods"`
	Type           string `json:"type"`
	Unit           string `json:"unit"`
	Value          int    `json:"value"`
}

// Sim is a physical or embedded SIM card.
type Sim struct {
	Object    string    `json:"object"`
	ID        string    `json:"id"`
	ICCID     string    `json:"iccid"`
	Provider  string    `json:"provider"`
	Status    string    `json:"status"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
}

// User is an end user of the platform's customer.
type User struct {
	Object        string  `json:"object"`
	ID            string  `json:"id"`
	Birthday      *string `json:"birthday"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	FullName      *string `json:"fullName"`
	// PreferredLocale is an IETF language tag, never null: the public user
	// schema types it string, not nullable string.
	PreferredLocale string    `json:"preferredLocale"`
	CreatedAt       time.Time `json:"createdAt"`
}
