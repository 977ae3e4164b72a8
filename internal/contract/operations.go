package contract

import (
	"net/http"
	"reflect"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Auth says how an operation authenticates.
type Auth int

// How operations authenticate.
const (
	// ProjectKey is a project's API key, or the operator key
	// (Authorization: Bearer).
	ProjectKey Auth = iota
	// Public needs no key.
	Public
	// OperatorKey is the operator key only (SWITCHBOARD_ADMIN_KEY): a
	// project key gets 403 operatorKeyRequired.
	OperatorKey
)

// Param is a query parameter of an operation.
type Param struct {
	Name        string
	Description string
	Schema      Schema
}

// Operation describes one route the server answers: what it takes, what it
// answers and which errors it can give. The route-coverage test holds the
// table to the router: every served route has exactly one operation here.
type Operation struct {
	Method, Path string
	// ID is the operationId: the method name of generated clients.
	ID      string
	Tag     string
	Summary string
	// Description adds to the summary.
	Description string
	Auth        Auth
	// Request is the request body's type; nil when the operation takes
	// none. Its schema is named for the operation (createPorting →
	// CreatePortingRequest).
	Request reflect.Type
	// Response is the type of a success body; for a List, of its items.
	Response reflect.Type
	// ResponseSchema names a schema built elsewhere (the event envelope)
	// instead of Response.
	ResponseSchema string
	// Status is the success status.
	Status int
	// List answers a page of a list: it takes the pagination parameters.
	List bool
	// Query are the operation's query parameters (besides pagination).
	Query []Param
	// Conflict says the operation can answer 409 for the resource's state
	// (besides idempotency-key conflicts, which every POST can answer).
	Conflict bool
	// Content is the media type of a success body other than JSON.
	Content string
	// ShowsSecret says the success shows a secret once; its idempotent
	// retry answers 409 idempotentSecretNotReplayed.
	ShowsSecret bool
	// Simulator says the route is the simulator's: in test projects only
	// (403 testModeOnly in live ones).
	Simulator bool
	// Errors are further error statuses the operation can give.
	Errors []int
	// Redirects says the operation can answer 303 See Other.
	Redirects bool
	// AnyMethod says the route is a subtree every method reaches (a
	// method-less ServeMux pattern); the document describes its GET.
	AnyMethod bool
}

// Route returns the ServeMux pattern of the route the operation describes.
func (op Operation) Route() string {
	if op.AnyMethod {
		return op.Path
	}
	return op.Method + " " + op.Path
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var (
	versionParam = Param{Name: "version", Description: "The API version to render events in; the newest when absent.",
		Schema: Schema{"type": "string", "enum": anys(switchboard.Versions)}}
	statusParam = func(values ...string) Param {
		return Param{Name: "status", Description: "Only items with this status.", Schema: Schema{"type": "string", "enum": anys(values)}}
	}
	userParam = Param{Name: "user", Description: "Only items of this user.", Schema: Schema{"type": "string"}}
)

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Operations is every route the server answers.
var Operations = []Operation{
	// Projects and their API keys.
	{Method: "POST", Path: "/projects", ID: "createProject", Tag: "Projects", Summary: "Create a project", Auth: OperatorKey,
		Request: typeOf[project.CreateParams](), Response: typeOf[project.Project](), Status: 201, Conflict: true},
	{Method: "GET", Path: "/projects", ID: "listProjects", Tag: "Projects", Summary: "List projects", Auth: OperatorKey,
		Response: typeOf[project.Project](), List: true},
	{Method: "GET", Path: "/projects/{project}", ID: "getProject", Tag: "Projects", Summary: "Retrieve a project",
		Description: "A project key may read its own project.", Response: typeOf[project.Project]()},
	{Method: "PATCH", Path: "/projects/{project}", ID: "updateProject", Tag: "Projects", Summary: "Update a project", Auth: OperatorKey,
		Description: "A project's mode never changes.", Request: typeOf[project.UpdateParams](), Response: typeOf[project.Project]()},
	{Method: "POST", Path: "/projects/{project}/apiKeys", ID: "createApiKey", Tag: "Projects", Summary: "Create an API key",
		Description: "The response shows the whole token, once; everywhere else it is redacted.",
		Request:     typeOf[apikey.CreateParams](), Response: typeOf[switchboard.APIKey](), Status: 201, ShowsSecret: true},
	{Method: "GET", Path: "/projects/{project}/apiKeys", ID: "listApiKeys", Tag: "Projects", Summary: "List API keys",
		Response: typeOf[switchboard.APIKey](), List: true},
	{Method: "GET", Path: "/projects/{project}/apiKeys/{id}", ID: "getApiKey", Tag: "Projects", Summary: "Retrieve an API key",
		Response: typeOf[switchboard.APIKey]()},
	{Method: "DELETE", Path: "/projects/{project}/apiKeys/{id}", ID: "deleteApiKey", Tag: "Projects", Summary: "Revoke an API key",
		Description: "Revokes the key at once.", Response: typeOf[switchboard.APIKey]()},

	// Users.
	{Method: "POST", Path: "/projects/{project}/users", ID: "createUser", Tag: "Users", Summary: "Create a user",
		Request: typeOf[user.Params](), Response: typeOf[switchboard.User](), Status: 201, Conflict: true},
	{Method: "GET", Path: "/projects/{project}/users", ID: "listUsers", Tag: "Users", Summary: "List users",
		Response: typeOf[switchboard.User](), List: true},
	{Method: "DELETE", Path: "/projects/{project}/users/{id}", ID: "deleteUser", Tag: "Users", Summary: "Delete a user",
		Description: "Ends the user's subscriptions (cause userDeleted), cancels their portings, and answers the user as it was; a deleted user is userNotFound.",
		Response:    typeOf[switchboard.User](), Conflict: true},
	{Method: "GET", Path: "/projects/{project}/users/{id}", ID: "getUser", Tag: "Users", Summary: "Retrieve a user",
		Response: typeOf[switchboard.User]()},
	{Method: "PATCH", Path: "/projects/{project}/users/{id}", ID: "updateUser", Tag: "Users", Summary: "Update a user",
		Request: typeOf[user.Params](), Response: typeOf[switchboard.User](), Conflict: true},

	// Portings.
	{Method: "POST", Path: "/projects/{project}/portings", ID: "createPorting", Tag: "Portings", Summary: "Create a porting",
		Description: "Creates a draft porting of a phone number from a donor carrier.",
		Request:     typeOf[porting.CreateParams](), Response: typeOf[switchboard.Porting](), Status: 201, Conflict: true},
	{Method: "GET", Path: "/projects/{project}/portings", ID: "listPortings", Tag: "Portings", Summary: "List portings",
		Response: typeOf[switchboard.Porting](), List: true,
		Query: []Param{statusParam(switchboard.PortingDraft, switchboard.PortingPending, switchboard.PortingInformationRequired,
			switchboard.PortingRequested, switchboard.PortingDeclined, switchboard.PortingCompleted, switchboard.PortingCanceled,
			switchboard.PortingExpired), userParam,
			{Name: "subscription", Description: "Only the porting of this subscription.", Schema: Schema{"type": "string"}}}},
	{Method: "GET", Path: "/projects/{project}/portings/{id}", ID: "getPorting", Tag: "Portings", Summary: "Retrieve a porting",
		Response: typeOf[switchboard.Porting]()},
	{Method: "PATCH", Path: "/projects/{project}/portings/{id}", ID: "updatePorting", Tag: "Portings", Summary: "Update a porting",
		Description: "Updating a declined or informationRequired porting with corrected details retries it.",
		Request:     typeOf[porting.UpdateParams](), Response: typeOf[switchboard.Porting](), Conflict: true},
	{Method: "POST", Path: "/projects/{project}/portings/{id}/cancel", ID: "cancelPorting", Tag: "Portings", Summary: "Cancel a porting",
		Response: typeOf[switchboard.Porting](), Conflict: true},
	{Method: "DELETE", Path: "/projects/{project}/portings/{id}", ID: "deletePorting", Tag: "Portings", Summary: "Delete a draft porting",
		Response: typeOf[switchboard.Porting](), Conflict: true},
	{Method: "POST", Path: "/projects/{project}/portings/{id}/simulate", ID: "simulatePorting", Tag: "Simulator",
		Summary:     "Simulate the network provider's next step",
		Description: "Request, decline (with a decline code), require information, complete or expire the porting, as the network provider would. 404 simulatorDisabled when the server runs with --simulator false.",
		Request:     typeOf[api.SimulatePortingParams](), Response: typeOf[switchboard.Porting](), Conflict: true, Simulator: true},

	// Subscriptions.
	{Method: "POST", Path: "/projects/{project}/subscriptions", ID: "createSubscription", Tag: "Subscriptions", Summary: "Create a subscription",
		Description: "With a porting, the subscription waits for the porting to complete; without one it activates at once with a new number.",
		Request:     typeOf[subscription.CreateParams](), Response: typeOf[switchboard.Subscription](), Status: 201, Conflict: true},
	{Method: "GET", Path: "/projects/{project}/subscriptions", ID: "listSubscriptions", Tag: "Subscriptions", Summary: "List subscriptions",
		Response: typeOf[switchboard.Subscription](), List: true,
		Query: []Param{statusParam(switchboard.SubscriptionPending, switchboard.SubscriptionActive, switchboard.SubscriptionEnded), userParam}},
	{Method: "GET", Path: "/projects/{project}/subscriptions/{id}", ID: "getSubscription", Tag: "Subscriptions", Summary: "Retrieve a subscription",
		Response: typeOf[switchboard.Subscription]()},
	{Method: "POST", Path: "/projects/{project}/subscriptions/{id}/cancel", ID: "cancelSubscription", Tag: "Subscriptions", Summary: "Cancel a subscription",
		Description: "At the end of the current period (it can be resumed until then), or immediately and for good.",
		Request:     typeOf[subscription.CancelParams](), Response: typeOf[switchboard.Subscription](), Conflict: true},
	{Method: "POST", Path: "/projects/{project}/subscriptions/{id}/resume", ID: "resumeSubscription", Tag: "Subscriptions", Summary: "Resume a subscription",
		Description: "Undoes a scheduled cancellation before the subscription ends.",
		Response:    typeOf[switchboard.Subscription](), Conflict: true},
	{Method: "POST", Path: "/projects/{project}/subscriptions/{id}/portOutCredentials", ID: "issuePortOutCredentials", Tag: "Subscriptions",
		Summary:     "Issue port-out credentials",
		Description: "The response is the only place the PIN is ever shown.",
		Response:    typeOf[switchboard.PortOutCredentials](), Status: 201, Conflict: true, ShowsSecret: true},

	{Method: "POST", Path: "/projects/{project}/subscriptions/{id}/simulate", ID: "simulateSubscription", Tag: "Simulator",
		Summary: "Simulate the outside world ending a subscription",
		Description: "A port-out of the number to another carrier, with the PIN of the subscription's port-out credentials " +
			"(cause phoneNumberPortedOut), or a failed or disputed payment. 404 simulatorDisabled when the server runs with --simulator false.",
		Request: typeOf[api.SimulateSubscriptionParams](), Response: typeOf[switchboard.Subscription](), Conflict: true, Simulator: true},

	// Catalog.
	{Method: "GET", Path: "/serviceProviders", ID: "listServiceProviders", Tag: "Catalog", Summary: "List donor carriers",
		Response: typeOf[switchboard.ServiceProvider](), List: true,
		Query: []Param{{Name: "recipientProvider", Description: "Only carriers that can port to this network provider.", Schema: Schema{"type": "string"}}}},
	{Method: "POST", Path: "/projects/{project}/plans", ID: "createPlan", Tag: "Catalog", Summary: "Create a plan",
		Request: typeOf[catalog.PlanParams](), Response: typeOf[switchboard.Plan](), Status: 201},
	{Method: "GET", Path: "/projects/{project}/plans", ID: "listPlans", Tag: "Catalog", Summary: "List plans",
		Response: typeOf[switchboard.Plan](), List: true, Query: []Param{{Name: "status", Description: "Only plans with this status.", Schema: Schema{"type": "string"}}}},
	{Method: "GET", Path: "/projects/{project}/plans/{id}", ID: "getPlan", Tag: "Catalog", Summary: "Retrieve a plan",
		Response: typeOf[switchboard.Plan]()},
	{Method: "GET", Path: "/projects/{project}/sims", ID: "listSims", Tag: "Catalog", Summary: "List SIMs",
		Response: typeOf[switchboard.Sim](), List: true, Query: []Param{statusParam(catalog.SimInactive, "active", catalog.SimRetired)}},
	{Method: "GET", Path: "/projects/{project}/sims/{id}", ID: "getSim", Tag: "Catalog", Summary: "Retrieve a SIM",
		Response: typeOf[switchboard.Sim]()},

	// Events.
	{Method: "GET", Path: "/projects/{project}/events", ID: "listEvents", Tag: "Events", Summary: "List events",
		Description:    "Newest first, rendered in the requested version.",
		ResponseSchema: "Event", List: true,
		Query: []Param{versionParam, {Name: "type", Description: "Only events of these types (comma-separated or repeated).",
			Schema: Schema{"type": "string"}},
			{Name: "resource", Description: "Only events about this resource (its ID): the resource's timeline.",
				Schema: Schema{"type": "string"}}}},
	{Method: "GET", Path: "/projects/{project}/events/{id}", ID: "getEvent", Tag: "Events", Summary: "Retrieve an event",
		ResponseSchema: "Event", Query: []Param{versionParam}},
	{Method: "GET", Path: "/projects/{project}/events/{id}/deliveries", ID: "listEventDeliveries", Tag: "Deliveries",
		Summary: "List an event's deliveries", Response: typeOf[api.DeliveryObject](), List: true},
	{Method: "POST", Path: "/projects/{project}/events/{id}/resend", ID: "resendEvent", Tag: "Deliveries", Summary: "Resend an event",
		Description: "Queues the event again for every matching endpoint, or for one.",
		Request:     typeOf[api.ResendParams](), Response: typeOf[api.DeliveryObject](), List: true, Conflict: true},

	// Webhook endpoints.
	{Method: "POST", Path: "/projects/{project}/webhookEndpoints", ID: "createWebhookEndpoint", Tag: "Webhook endpoints",
		Summary: "Create a webhook endpoint", Description: "The response shows the signing secret, once.",
		Request: typeOf[endpoint.Input](), Response: typeOf[api.EndpointObject](), Status: 201, ShowsSecret: true},
	{Method: "GET", Path: "/projects/{project}/webhookEndpoints", ID: "listWebhookEndpoints", Tag: "Webhook endpoints",
		Summary: "List webhook endpoints", Response: typeOf[api.EndpointObject](), List: true},
	{Method: "GET", Path: "/projects/{project}/webhookEndpoints/{id}", ID: "getWebhookEndpoint", Tag: "Webhook endpoints",
		Summary: "Retrieve a webhook endpoint", Response: typeOf[api.EndpointObject]()},
	{Method: "PATCH", Path: "/projects/{project}/webhookEndpoints/{id}", ID: "updateWebhookEndpoint", Tag: "Webhook endpoints",
		Summary: "Update a webhook endpoint", Description: `{"status":"enabled"} resumes a disabled endpoint.`,
		Request: typeOf[endpoint.Patch](), Response: typeOf[api.EndpointObject]()},
	{Method: "DELETE", Path: "/projects/{project}/webhookEndpoints/{id}", ID: "deleteWebhookEndpoint", Tag: "Webhook endpoints",
		Summary: "Delete a webhook endpoint", Response: typeOf[api.EndpointObject]()},
	{Method: "POST", Path: "/projects/{project}/webhookEndpoints/{id}/rotateSecret", ID: "rotateWebhookEndpointSecret", Tag: "Webhook endpoints",
		Summary: "Rotate the signing secret", Description: "Both secrets sign during the grace period. The response shows the new secret, once.",
		Response: typeOf[api.EndpointObject](), ShowsSecret: true},
	{Method: "GET", Path: "/projects/{project}/webhookEndpoints/{id}/deliveries", ID: "listWebhookEndpointDeliveries", Tag: "Deliveries",
		Summary: "List an endpoint's deliveries", Response: typeOf[api.DeliveryObject](), List: true},
	{Method: "POST", Path: "/projects/{project}/webhookEndpoints/{id}/recover", ID: "recoverWebhookEndpoint", Tag: "Deliveries",
		Summary: "Queue failed deliveries again", Description: "Queues again every failed delivery to the endpoint since a time.",
		Request: typeOf[api.RecoverParams](), Response: typeOf[api.RecoveryObject]()},

	// Simulator.
	{Method: "GET", Path: "/projects/{project}/simulator/clock", ID: "getSimulatorClock", Tag: "Simulator", Summary: "Read the project's test clock",
		Response: typeOf[api.ClockObject](), Simulator: true},
	{Method: "POST", Path: "/projects/{project}/simulator/clock/advance", ID: "advanceSimulatorClock", Tag: "Simulator", Summary: "Advance the project's test clock",
		Description: "Moves the project's clock forward and runs the timers that fall due (expiries, renewals, scheduled ends).",
		Request:     typeOf[api.AdvanceClockParams](), Response: typeOf[api.ClockObject](), Simulator: true},

	// Operations.
	{Method: "GET", Path: "/healthz", ID: "health", Tag: "Operations", Summary: "Liveness", Auth: Public, Content: "text/plain"},
	{Method: "GET", Path: "/readyz", ID: "ready", Tag: "Operations", Summary: "Readiness: the database answers", Auth: Public,
		Content: "text/plain", Errors: []int{http.StatusServiceUnavailable}},
	{Method: "GET", Path: "/metrics", ID: "metrics", Tag: "Operations", Summary: "Prometheus metrics", Auth: OperatorKey, Content: "text/plain",
		Description: "With the operator key; served here unless serve --metrics-addr puts it on a listener of its own."},

	// The dashboard, for people.
	{Method: "GET", Path: "/", ID: "root", Tag: "Operations", Summary: "Redirect to the dashboard", Auth: Public,
		Status: 303, Redirects: true},
	{Method: "GET", Path: "/dashboard/", ID: "dashboard", Tag: "Operations", Summary: "The dashboard", Auth: Public,
		Content: "text/html", Redirects: true, AnyMethod: true,
		Description: "The operator's and developers' dashboard: HTML pages and forms for people under /dashboard/, " +
			"signed in with a key (a session cookie). It is not an API: use the operations above from code."},

	// Contracts.
	{Method: "GET", Path: "/openapi.json", ID: "getOpenAPI", Tag: "Contracts", Summary: "This OpenAPI 3.1 document", Auth: Public,
		ResponseSchema: "-object"},
	{Method: "GET", Path: "/asyncapi.json", ID: "getAsyncAPI", Tag: "Contracts", Summary: "The AsyncAPI 3.0 document of the webhooks",
		Auth: Public, ResponseSchema: "-object"},
	{Method: "GET", Path: "/schemas/events/{type}", ID: "getEventSchema", Tag: "Contracts",
		Summary: "The JSON Schema (2020-12) of an event type in a version", Auth: Public, ResponseSchema: "-object",
		Content: "application/schema+json",
		Query:   []Param{versionParam}, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}},
	{Method: "GET", Path: "/docs", ID: "getDocs", Tag: "Contracts", Summary: "The API reference, as HTML", Auth: Public, Content: "text/html"},
}
