package switchboard

import (
	"encoding/json"
	"time"
)

// Event is the CloudEvents 1.0 envelope in which every change is published.
// Its fields are encoded in the platform's order.
type Event struct {
	Object string `json:"object"`
	ID     string `json:"id"`
	// Actor names who caused the change; present from version 2025-05-22
	// on, right after id (the public 2025-05-22 envelopes read object, id,
	// actor, data, datacontenttype, …).
	Actor           *Actor          `json:"actor,omitempty"`
	Data            json.RawMessage `json:"data"`
	DataContentType string          `json:"datacontenttype"`
	// PreviousData is present only on *.updated events: for every top-level
	// field of Data that changed, its value before the change.
	PreviousData json.RawMessage `json:"previousData,omitempty"`
	Project      string          `json:"project"`
	Source       string          `json:"source"`
	SpecVersion  string          `json:"specversion"`
	Time         time.Time       `json:"time"`
	Type         string          `json:"type"`
	Version      string          `json:"version"`
}

// Actor names who caused a change.
type Actor struct {
	// Type is one of ActorUser, ActorAPIKey, ActorMember or ActorSystem.
	Type   string `json:"type"`
	APIKey string `json:"apiKey,omitempty"`
	User   string `json:"user,omitempty"`
	Member string `json:"member,omitempty"`
}

// Actor types.
const (
	ActorUser   = "user"
	ActorAPIKey = "apiKey"
	ActorMember = "member"
	ActorSystem = "system"
)

// API versions in which events can be rendered, oldest first.
const (
	Version20240829 = "2024-08-29"
	Version20241028 = "2024-10-28"
	// Version20241220 renders our resources as 2024-10-28 does: the public
	// pages show no field difference for them (see eventlog.Changes).
	Version20241220 = "2024-12-20"
	Version20250522 = "2025-05-22"
	// LatestVersion is the newest supported version.
	LatestVersion = Version20250522
)

// Versions lists the supported API versions, oldest first.
var Versions = []string{Version20240829, Version20241028, Version20241220, Version20250522}

// Event types. Consumers must ignore types they do not know.
const (
	TypePortingCreated             = "com.gigs.porting.created"
	TypePortingUpdated             = "com.gigs.porting.updated"
	TypePortingInformationRequired = "com.gigs.porting.informationRequired"
	TypePortingRequested           = "com.gigs.porting.requested"
	TypePortingDeclined            = "com.gigs.porting.declined"
	TypePortingCompleted           = "com.gigs.porting.completed"
	TypePortingCanceled            = "com.gigs.porting.canceled"
	TypePortingExpired             = "com.gigs.porting.expired"
	TypePortingDeleted             = "com.gigs.porting.deleted"

	TypeSubscriptionCreated   = "com.gigs.subscription.created"
	TypeSubscriptionActivated = "com.gigs.subscription.activated"
	TypeSubscriptionRenewed   = "com.gigs.subscription.renewed"
	TypeSubscriptionCanceled  = "com.gigs.subscription.canceled"
	TypeSubscriptionResumed   = "com.gigs.subscription.resumed"
	TypeSubscriptionEnded     = "com.gigs.subscription.ended"
	TypeSubscriptionUpdated   = "com.gigs.subscription.updated"

	// TypePortOutCredentialsIssued is the only port-out credentials event
	// the platform documents: credentials that expire, or that newer ones
	// replace, emit nothing (their expiresAt says when they stop working).
	TypePortOutCredentialsIssued = "com.gigs.portOutCredentials.issued"

	TypeUserCreated = "com.gigs.user.created"
	TypeUserUpdated = "com.gigs.user.updated"

	// TypeUserDeleted fires when a user is deleted; its data is the user as
	// it was.
	TypeUserDeleted = "com.gigs.user.deleted"

	// TypeSimUpdated fires on every change of a SIM (its status follows its
	// subscription), with previousData.
	TypeSimUpdated = "com.gigs.sim.updated"
	// TypeSimRetired fires when a SIM is retired (its subscription ended).
	TypeSimRetired = "com.gigs.sim.retired"

	// TypeAPIKeyCreated fires when an API key is created; its data is the
	// key with its token redacted.
	TypeAPIKeyCreated = "com.gigs.apiKey.created"
)

// EventTypes lists every event type the platform emits.
var EventTypes = []string{
	TypePortingCreated, TypePortingUpdated, TypePortingInformationRequired,
	TypePortingRequested, TypePortingDeclined, TypePortingCompleted,
	TypePortingCanceled, TypePortingExpired, TypePortingDeleted,
	TypeSubscriptionCreated, TypeSubscriptionActivated, TypeSubscriptionRenewed,
	TypeSubscriptionCanceled, TypeSubscriptionResumed, TypeSubscriptionEnded,
	TypeSubscriptionUpdated,
	TypePortOutCredentialsIssued,
	TypeUserCreated, TypeUserUpdated, TypeUserDeleted,
	TypeSimUpdated, TypeSimRetired,
	TypeAPIKeyCreated,
}
