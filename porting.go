package switchboard

import "time"

// Porting statuses.
const (
	PortingDraft               = "draft"
	PortingPending             = "pending"
	PortingInformationRequired = "informationRequired"
	PortingRequested           = "requested"
	PortingDeclined            = "declined"
	PortingCompleted           = "completed"
	PortingCanceled            = "canceled"
	PortingExpired             = "expired"
)

// Porting moves a phone number in from another carrier. The account PIN is
// write-only: only AccountPinExists is ever shown.
type Porting struct {
	Object                string           `json:"object"`
	ID                    string           `json:"id"`
	AccountNumber         *string          `json:"accountNumber"`
	AccountPinExists      bool             `json:"accountPinExists"`
	Address               *Address         `json:"address"`
	Birthday              *string          `json:"birthday"`
	DeclinedAttempts      int              `json:"declinedAttempts"`
	DeclinedCode          *string          `json:"declinedCode"`
	DeclinedMessage       *string          `json:"declinedMessage"`
	DonorProvider         *ServiceProvider `json:"donorProvider"`
	DonorProviderApproval *bool            `json:"donorProviderApproval"`
	FirstName             *string          `json:"firstName"`
	LastName              *string          `json:"lastName"`
	PhoneNumber           string           `json:"phoneNumber"`
	Provider              string           `json:"provider"`
	RecipientProvider     ServiceProvider  `json:"recipientProvider"`
	Required              []string         `json:"required"`
	Status                string           `json:"status"`
	Subscription          *string          `json:"subscription"`
	User                  string           `json:"user"`
	CanceledAt            *time.Time       `json:"canceledAt"`
	CompletedAt           *time.Time       `json:"completedAt"`
	CreatedAt             time.Time        `json:"createdAt"`
	ExpiredAt             *time.Time       `json:"expiredAt"`
	LastDeclinedAt        *time.Time       `json:"lastDeclinedAt"`
	LastRequestedAt       *time.Time       `json:"lastRequestedAt"`
}

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	City       string  `json:"city"`
	Country    string  `json:"country"`
	Line1      string  `json:"line1"`
	Line2      *string `json:"line2"`
	PostalCode string  `json:"postalCode"`
	State      *string `json:"state"`
}

// ServiceProvider is a carrier a number can be ported from, with the
// recipient network providers it can port to.
type ServiceProvider struct {
	Object             string   `json:"object"`
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	RecipientProviders []string `json:"recipientProviders"`
}

// PortOutCredentials let a customer move a number out to another carrier.
// AccountPin is null in every event; only the response that issues the
// credentials shows it.
type PortOutCredentials struct {
	Object        string    `json:"object"`
	AccountNumber string    `json:"accountNumber"`
	AccountPin    *string   `json:"accountPin"`
	Subscription  string    `json:"subscription"`
	ExpiresAt     time.Time `json:"expiresAt"`
}
