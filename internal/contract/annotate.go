package contract

import (
	"reflect"
	"slices"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// note is what a Go type cannot say about a field: its allowed values,
// format or pattern, a description, and (in a request) whether it is
// required. The field "" describes the object itself.
type note struct {
	enum        []string
	constant    string
	pattern     string
	format      string
	maxLength   int
	minimum     *int64
	maximum     *int64
	description string
	required    bool
	// items annotates the elements of an array field.
	items *note
}

// apply adds the note's keywords to s, keeping null allowed where s allows
// it.
func (n note) apply(s Schema) Schema {
	if inner, ok := s["anyOf"].([]any); ok && len(inner) == 2 {
		out := clone(s)
		out["anyOf"] = []any{n.apply(inner[0].(Schema)), inner[1]}
		return out
	}
	s = clone(s)
	null := false
	if ts, ok := s["type"].([]any); ok && slices.Contains(ts, any("null")) {
		null = true
	}
	if n.items != nil {
		if it, ok := s["items"].(Schema); ok {
			s["items"] = n.items.apply(it)
		}
	}
	if len(n.enum) > 0 {
		vals := make([]any, 0, len(n.enum)+1)
		for _, v := range n.enum {
			vals = append(vals, v)
		}
		if null {
			vals = append(vals, nil)
		}
		s["enum"] = vals
	}
	if n.constant != "" {
		s["const"] = n.constant
	}
	if n.pattern != "" {
		s["pattern"] = n.pattern
	}
	if n.format != "" {
		s["format"] = n.format
	}
	if n.maxLength > 0 {
		s["maxLength"] = n.maxLength
	}
	if n.minimum != nil {
		s["minimum"] = *n.minimum
	}
	if n.maximum != nil {
		s["maximum"] = *n.maximum
	}
	if n.description != "" {
		s["description"] = n.description
	}
	return s
}

func ptr(v int64) *int64 { return &v }

// idOf is the note of an identifier with the prefix.
func idOf(prefix string) note {
	return note{pattern: "^" + prefix + "_[0-9A-Za-z]+$", maxLength: 64}
}

// Patterns and formats the platform documents.
var (
	e164    = note{pattern: `^\+[1-9][0-9]{1,14}$`, description: "A phone number in E.164 format."}
	date    = note{format: "date", pattern: `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`}
	country = note{pattern: "^[A-Z]{2}$", description: "ISO 3166-1 alpha-2 country code."}
	eventID = idOf(id.Event)
)

// objectNote is the note of an object's "object" field.
func objectNote(name string) note { return note{constant: name} }

// declineCodes lists the decline codes, sorted.
func declineCodes() []string {
	codes := make([]string, 0, len(porting.DeclineMessages))
	for c := range porting.DeclineMessages {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// portingFields are the fields a porting's required list may name.
var portingFields = []string{"accountNumber", "accountPin", "address", "birthday", "donorProvider",
	"donorProviderApproval", "firstName", "lastName"}

// publicNames name the schemas of the API's unexported wire types.
var publicNames = map[reflect.Type]string{
	reflect.TypeFor[api.ErrorObject]():    "Error",
	reflect.TypeFor[api.EndpointObject](): "WebhookEndpoint",
	reflect.TypeFor[api.DeliveryObject](): "WebhookDelivery",
	reflect.TypeFor[api.AttemptObject]():  "DeliveryAttempt",
	reflect.TypeFor[api.RecoveryObject](): "WebhookRecovery",
	reflect.TypeFor[api.ClockObject]():    "Clock",
	reflect.TypeFor[api.ListObject]():     "List",
}

// annotations are the notes by Go type and JSON field name.
var annotations = map[reflect.Type]map[string]note{
	reflect.TypeFor[switchboard.Porting](): {
		"":                 {description: "A porting moves a phone number in from another carrier. The account PIN is write-only: only accountPinExists is shown."},
		"object":           objectNote("porting"),
		"id":               idOf(id.Porting),
		"birthday":         date,
		"declinedCode":     {enum: declineCodes()},
		"declinedAttempts": {minimum: ptr(0)},
		"phoneNumber":      e164,
		"provider":         {description: "The recipient network provider."},
		"required":         {items: &note{enum: portingFields}, description: "The fields the donor and recipient providers need."},
		"status": {enum: []string{switchboard.PortingDraft, switchboard.PortingPending, switchboard.PortingInformationRequired,
			switchboard.PortingRequested, switchboard.PortingDeclined, switchboard.PortingCompleted,
			switchboard.PortingCanceled, switchboard.PortingExpired}},
		"subscription": idOf(id.Subscription),
		"user":         idOf(id.User),
	},
	reflect.TypeFor[switchboard.Address](): {
		"city":       {required: true},
		"country":    {required: true, pattern: country.pattern, description: country.description},
		"line1":      {required: true},
		"postalCode": {required: true},
	},
	reflect.TypeFor[switchboard.ServiceProvider](): {
		"":       {description: "A carrier a number can be ported from, with the recipient network providers it can port to."},
		"object": objectNote("serviceProvider"),
		"id":     idOf(id.ServiceProvider),
	},
	reflect.TypeFor[switchboard.PortOutCredentials](): {
		"":             {description: "Credentials that let a customer move a number out to another carrier. accountPin is shown only by the response that issues them; it is null in every event."},
		"object":       objectNote("portOutCredentials"),
		"subscription": idOf(id.Subscription),
	},
	reflect.TypeFor[switchboard.Subscription](): {
		"":            {description: "A user's plan on a SIM, with the objects it refers to embedded whole."},
		"object":      objectNote("subscription"),
		"id":          idOf(id.Subscription),
		"phoneNumber": e164,
		"status":      {enum: []string{switchboard.SubscriptionPending, switchboard.SubscriptionActive, switchboard.SubscriptionEnded}},
	},
	reflect.TypeFor[switchboard.CancellationDetails](): {
		"cause": {enum: []string{switchboard.CauseCancellationRequested, switchboard.CausePaymentDisputed,
			switchboard.CausePaymentFailed, switchboard.CausePhoneNumberPortedOut, switchboard.CausePortingExpired,
			switchboard.CauseSubscriptionEnded, switchboard.CauseUserDeleted}},
		"userReason": {enum: subscription.UserReasons()},
	},
	reflect.TypeFor[switchboard.Period](): {
		"number": {minimum: ptr(1)},
	},
	reflect.TypeFor[switchboard.Plan](): {
		"object":   objectNote("plan"),
		"id":       idOf(id.Plan),
		"simTypes": {items: &note{enum: []string{"eSIM", "pSIM"}}},
		"provider": {description: "The network provider (p1, p3, p9, …)."},
	},
	reflect.TypeFor[switchboard.Coverage](): {
		"object":    objectNote("coverage"),
		"countries": {items: &country},
	},
	reflect.TypeFor[switchboard.Price](): {
		"currency": {pattern: "^[A-Z]{3}$", description: "ISO 4217 currency code."},
	},
	reflect.TypeFor[switchboard.Requirements](): {
		"address":       {enum: []string{"present", "none"}},
		"device":        {enum: []string{"present", "none"}},
		"user.birthday": {enum: []string{"present", "none"}},
		"user.fullName": {enum: []string{"present", "none"}},
	},
	reflect.TypeFor[switchboard.Validity](): {
		"type": {enum: []string{switchboard.ValidityRecurring, switchboard.ValidityOneTime}},
		"unit": {enum: []string{switchboard.UnitDay, switchboard.UnitMonth}},
	},
	reflect.TypeFor[switchboard.Sim](): {
		"object": objectNote("sim"),
		"id":     idOf(id.Sim),
		"iccid":  {pattern: "^[0-9]{19,20}$"},
		"status": {enum: []string{catalog.SimInactive, "active", catalog.SimRetired}},
		"type":   {enum: []string{"eSIM", "pSIM"}},
	},
	reflect.TypeFor[switchboard.User](): {
		"":         {description: "An end user of the platform's customer."},
		"object":   objectNote("user"),
		"id":       idOf(id.User),
		"birthday": date,
		"email":    {format: "email"},
	},
	reflect.TypeFor[switchboard.Actor](): {
		"":       {description: "Who caused a change."},
		"type":   {enum: []string{switchboard.ActorUser, switchboard.ActorAPIKey, switchboard.ActorMember, switchboard.ActorSystem}},
		"apiKey": idOf(id.APIKey),
		"user":   idOf(id.User),
	},

	reflect.TypeFor[switchboard.APIKey](): {
		"":       {description: "One of a project's API keys. token is whole only in the response that creates it; everywhere else (lists, the key, the com.gigs.apiKey.created event) it is redacted."},
		"object": objectNote("apiKey"),
		"id":     idOf(id.APIKey),
	},
	reflect.TypeFor[project.Project](): {
		"":       {description: "A project: its own users, portings, subscriptions, events, webhook endpoints and API keys. Test projects have the simulator and a test clock."},
		"object": objectNote("project"),
		"id":     {pattern: "^[a-z0-9][a-z0-9-]{0,62}$"},
		"mode":   {enum: []string{project.Test, project.Live}},
	},
	reflect.TypeFor[project.CreateParams](): {
		"id":   {required: true, pattern: "^[a-z0-9][a-z0-9-]{0,62}$"},
		"name": {required: true},
		"mode": {required: true, enum: []string{project.Test, project.Live}},
	},
	reflect.TypeFor[project.UpdateParams](): {
		"mode": {enum: []string{project.Test, project.Live}, description: "May be given only with the project's mode: it never changes."},
	},
	reflect.TypeFor[apikey.CreateParams](): {
		"name": {required: true},
	},

	reflect.TypeFor[api.ErrorObject](): {
		"":       {description: "The platform's error object. A request that fails changes nothing."},
		"object": objectNote("error"),
		"type": {enum: []string{failure.Malformed, failure.Unauthenticated, failure.PermissionDenied, failure.NotFound,
			failure.Conflict, failure.Invalid, failure.TooManyRequests, failure.Internal, failure.NotImplemented,
			failure.Unavailable}},
		"code":    {description: "A stable, machine-readable code, e.g. portingNotFound."},
		"message": {description: "A human-readable explanation; never shows a secret."},
	},
	reflect.TypeFor[api.EndpointObject](): {
		"":               {description: "A webhook endpoint. secret is shown only by the responses to create and rotateSecret."},
		"object":         objectNote("webhookEndpoint"),
		"id":             idOf(id.Endpoint),
		"url":            {format: "uri"},
		"version":        {enum: switchboard.Versions},
		"status":         {enum: []string{endpoint.Enabled, endpoint.Disabled}},
		"secret":         {pattern: "^whsec_[A-Za-z0-9+/=]+$"},
		"rateLimit":      {minimum: ptr(1)},
		"enabledEvents":  {description: "Event types or wildcards (com.gigs.porting.*, *)."},
		"disabledReason": {description: "Why the platform disabled the endpoint."},
	},
	reflect.TypeFor[api.DeliveryObject](): {
		"object":   objectNote("webhookDelivery"),
		"id":       idOf(id.Delivery),
		"endpoint": idOf(id.Endpoint),
		"event":    eventID,
		"status":   {enum: []string{store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed}},
	},
	reflect.TypeFor[api.RecoveryObject](): {
		"object":   objectNote("webhookRecovery"),
		"endpoint": idOf(id.Endpoint),
		"requeued": {minimum: ptr(0)},
	},
	reflect.TypeFor[api.ClockObject](): {
		"object":        objectNote("clock"),
		"offsetSeconds": {description: "How far the platform clock runs ahead of the wall clock."},
		"timersFired":   {description: "How many timers the advance fired."},
	},

	// Request bodies.
	reflect.TypeFor[porting.CreateParams](): {
		"phoneNumber": {required: true, description: e164.description, pattern: e164.pattern},
		"user":        {required: true, pattern: idOf(id.User).pattern},
		"provider":    {required: true, enum: catalog.NetworkProviders},
	},
	reflect.TypeFor[porting.UpdateParams](): {
		"accountPin":    {description: "Write-only: never shown again.", pattern: "^[0-9]{1,20}$"},
		"birthday":      date,
		"donorProvider": idOf(id.ServiceProvider),
	},
	reflect.TypeFor[subscription.CreateParams](): {
		"user":    {required: true, pattern: idOf(id.User).pattern},
		"plan":    {required: true, pattern: idOf(id.Plan).pattern},
		"porting": idOf(id.Porting),
		"sim":     idOf(id.Sim),
	},
	reflect.TypeFor[subscription.CancelParams](): {
		"userReason": {enum: subscription.UserReasons()},
	},
	reflect.TypeFor[user.Params](): {
		"email":    {format: "email"},
		"birthday": date,
	},
	reflect.TypeFor[catalog.PlanParams](): {
		"name":     {required: true},
		"provider": {required: true, enum: catalog.NetworkProviders},
		"validity": {required: true},
		"simTypes": {items: &note{enum: []string{"eSIM", "pSIM"}}},
	},
	reflect.TypeFor[endpoint.Input](): {
		"url":     {required: true, format: "uri"},
		"version": {enum: switchboard.Versions},
	},
	reflect.TypeFor[endpoint.Patch](): {
		"url":     {format: "uri"},
		"version": {enum: switchboard.Versions},
		"status":  {enum: []string{endpoint.Enabled, endpoint.Disabled}},
	},
	reflect.TypeFor[api.SimulatePortingParams](): {
		"action":       {required: true, enum: porting.Actions},
		"declinedCode": {enum: declineCodes(), description: "The decline code; only with the action decline."},
	},
	reflect.TypeFor[api.SimulateSubscriptionParams](): {
		"action":     {required: true, enum: api.SubscriptionActions()},
		"accountPin": {pattern: "^[0-9]{1,20}$"},
	},
	reflect.TypeFor[api.AdvanceClockParams](): {
		"seconds": {required: true, minimum: ptr(1), maximum: ptr(10 * 365 * 24 * 3600)},
	},
	reflect.TypeFor[api.ResendParams](): {
		"endpoint": idOf(id.Endpoint),
	},
	reflect.TypeFor[api.RecoverParams](): {
		"since": {required: true},
	},
}

func init() {
	annotations[reflect.TypeFor[switchboard.Event]()] = map[string]note{
		"":                {description: "A CloudEvents 1.0 event: every change is recorded as one."},
		"object":          objectNote("event"),
		"id":              eventID,
		"datacontenttype": {constant: "application/json"},
		"source":          {format: "uri"},
		"specversion":     {constant: "1.0"},
		"type":            {pattern: `^com\.gigs\.`, description: "com.gigs.<resource>.<action>. Consumers must ignore types they do not know."},
		"version":         {enum: switchboard.Versions, description: "The API version the event is rendered in."},
		"project":         {description: "The project where the event occurred."},
	}
}
