package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Request bodies, as the API takes them.
type (
	// UserParams creates or updates a user.
	UserParams = user.Params
	// PortingParams creates a porting.
	PortingParams = porting.CreateParams
	// PortingUpdate gives or corrects a porting's details.
	PortingUpdate = porting.UpdateParams
	// SubscriptionParams creates a subscription.
	SubscriptionParams = subscription.CreateParams
	// CancelParams cancels a subscription.
	CancelParams = subscription.CancelParams
)

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, p UserParams) (*switchboard.User, error) {
	var u switchboard.User
	return &u, c.Do(ctx, http.MethodPost, c.projectPath("/users"), nil, p, &u)
}

// UpdateUser changes a user.
func (c *Client) UpdateUser(ctx context.Context, id string, p UserParams) (*switchboard.User, error) {
	var u switchboard.User
	return &u, c.Do(ctx, http.MethodPatch, c.projectPath("/users/%s", id), nil, p, &u)
}

// DeleteUser deletes a user: its subscriptions end (cause userDeleted) and
// its open portings are canceled. It returns the user as it was.
func (c *Client) DeleteUser(ctx context.Context, id string) (*switchboard.User, error) {
	var u switchboard.User
	return &u, c.Do(ctx, http.MethodDelete, c.projectPath("/users/%s", id), nil, nil, &u)
}

// ListPlans returns a page of the project's plans.
func (c *Client) ListPlans(ctx context.Context, p Page) (*List[switchboard.Plan], error) {
	var l List[switchboard.Plan]
	return &l, c.Do(ctx, http.MethodGet, c.projectPath("/plans"), p.query(nil), nil, &l)
}

// ListServiceProviders returns a page of the donor carriers that port to the
// recipient network provider (all when recipient is empty).
func (c *Client) ListServiceProviders(ctx context.Context, recipient string, p Page) (*List[switchboard.ServiceProvider], error) {
	q := p.query(nil)
	if recipient != "" {
		q.Set("recipientProvider", recipient)
	}
	var l List[switchboard.ServiceProvider]
	return &l, c.Do(ctx, http.MethodGet, "/serviceProviders", q, nil, &l)
}

// CreatePorting creates a draft porting.
func (c *Client) CreatePorting(ctx context.Context, p PortingParams) (*switchboard.Porting, error) {
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/portings"), nil, p, &out)
}

// GetPorting returns a porting.
func (c *Client) GetPorting(ctx context.Context, id string) (*switchboard.Porting, error) {
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodGet, c.projectPath("/portings/%s", id), nil, nil, &out)
}

// UpdatePorting gives or corrects a porting's details.
func (c *Client) UpdatePorting(ctx context.Context, id string, p PortingUpdate) (*switchboard.Porting, error) {
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodPatch, c.projectPath("/portings/%s", id), nil, p, &out)
}

// CancelPorting cancels a porting.
func (c *Client) CancelPorting(ctx context.Context, id string) (*switchboard.Porting, error) {
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/portings/%s/cancel", id), nil, struct{}{}, &out)
}

// DeletePorting deletes a draft porting.
func (c *Client) DeletePorting(ctx context.Context, id string) (*switchboard.Porting, error) {
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodDelete, c.projectPath("/portings/%s", id), nil, nil, &out)
}

// SimulatePorting performs a network provider's action on the porting
// (request, decline with declinedCode, requireInformation, complete,
// expire); the server must run its simulator.
func (c *Client) SimulatePorting(ctx context.Context, id, action, declinedCode string) (*switchboard.Porting, error) {
	body := struct {
		Action       string `json:"action"`
		DeclinedCode string `json:"declinedCode,omitempty"`
	}{action, declinedCode}
	var out switchboard.Porting
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/portings/%s/simulate", id), nil, body, &out)
}

// CreateSubscription creates a subscription.
func (c *Client) CreateSubscription(ctx context.Context, p SubscriptionParams) (*switchboard.Subscription, error) {
	var out switchboard.Subscription
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/subscriptions"), nil, p, &out)
}

// GetSubscription returns a subscription.
func (c *Client) GetSubscription(ctx context.Context, id string) (*switchboard.Subscription, error) {
	var out switchboard.Subscription
	return &out, c.Do(ctx, http.MethodGet, c.projectPath("/subscriptions/%s", id), nil, nil, &out)
}

// CancelSubscription cancels a subscription, now or at its period's end.
func (c *Client) CancelSubscription(ctx context.Context, id string, p CancelParams) (*switchboard.Subscription, error) {
	var out switchboard.Subscription
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/subscriptions/%s/cancel", id), nil, p, &out)
}

// ResumeSubscription undoes a cancellation scheduled for the period's end.
func (c *Client) ResumeSubscription(ctx context.Context, id string) (*switchboard.Subscription, error) {
	var out switchboard.Subscription
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/subscriptions/%s/resume", id), nil, struct{}{}, &out)
}

// SimulateSubscription performs an outside action on the subscription:
// portOut (with the account PIN of its port-out credentials),
// paymentFailed or paymentDisputed; each ends it with that cause. The
// server must run its simulator.
func (c *Client) SimulateSubscription(ctx context.Context, id, action, accountPin string) (*switchboard.Subscription, error) {
	body := struct {
		Action     string `json:"action"`
		AccountPin string `json:"accountPin,omitempty"`
	}{action, accountPin}
	var out switchboard.Subscription
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/subscriptions/%s/simulate", id), nil, body, &out)
}

// IssuePortOutCredentials issues port-out credentials for the subscription;
// the answer is the only place their PIN is shown.
func (c *Client) IssuePortOutCredentials(ctx context.Context, subscriptionID string) (*switchboard.PortOutCredentials, error) {
	var out switchboard.PortOutCredentials
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/subscriptions/%s/portOutCredentials", subscriptionID), nil, struct{}{}, &out)
}

// CreateAPIKey makes a new API key for the project; the answer is the only
// place its token is shown.
func (c *Client) CreateAPIKey(ctx context.Context, name string, expiresAt *time.Time) (*switchboard.APIKey, error) {
	in := struct {
		Name      string     `json:"name"`
		ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	}{name, expiresAt}
	var out switchboard.APIKey
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/apiKeys"), nil, in, &out)
}

// RevokeAPIKey revokes one of the project's API keys at once.
func (c *Client) RevokeAPIKey(ctx context.Context, keyID string) (*switchboard.APIKey, error) {
	var out switchboard.APIKey
	return &out, c.Do(ctx, http.MethodDelete, c.projectPath("/apiKeys/%s", keyID), nil, nil, &out)
}

// Clock is a test project's clock.
type Clock struct {
	Project       string    `json:"project"`
	Time          time.Time `json:"time"`
	OffsetSeconds int64     `json:"offsetSeconds"`
	// TimersFired is how many timers an advance fired.
	TimersFired int `json:"timersFired"`
}

// GetClock returns the project's test clock.
func (c *Client) GetClock(ctx context.Context) (*Clock, error) {
	var out Clock
	return &out, c.Do(ctx, http.MethodGet, c.projectPath("/simulator/clock"), nil, nil, &out)
}

// AdvanceClock moves the project's test clock forward by d (whole seconds,
// at least one) and fires the project's timers that fall due.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (*Clock, error) {
	secs := int64((d + time.Second - 1) / time.Second)
	var out Clock
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/simulator/clock/advance"), nil, map[string]int64{"seconds": max(secs, 1)}, &out)
}

// EventFilter selects events to list.
type EventFilter struct {
	// Types are exact event types; all when empty.
	Types []string
	// Version renders the events in that API version; the newest when empty.
	Version string
	Page
}

// ListEvents returns a page of the project's events, newest first.
func (c *Client) ListEvents(ctx context.Context, f EventFilter) (*List[switchboard.Event], error) {
	q := f.query(nil)
	for _, t := range f.Types {
		q.Add("type", t)
	}
	if f.Version != "" {
		q.Set("version", f.Version)
	}
	var l List[switchboard.Event]
	return &l, c.Do(ctx, http.MethodGet, c.projectPath("/events"), q, nil, &l)
}

// GetEvent returns an event.
func (c *Client) GetEvent(ctx context.Context, id string) (*switchboard.Event, error) {
	var out switchboard.Event
	return &out, c.Do(ctx, http.MethodGet, c.projectPath("/events/%s", id), nil, nil, &out)
}

// Delivery is one event's delivery to one endpoint.
type Delivery struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	// Status is pending, succeeded or failed.
	Status        string     `json:"status"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	Attempts      []Attempt  `json:"attempts"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	AttemptedAt    time.Time `json:"attemptedAt"`
	ResponseStatus *int      `json:"responseStatus"`
	LatencyMs      int64     `json:"latencyMs"`
	Error          *string   `json:"error"`
}

// ResendEvent queues the event again for every matching endpoint, or only
// for endpointID when it is not empty, and returns the new deliveries.
func (c *Client) ResendEvent(ctx context.Context, id, endpointID string) ([]Delivery, error) {
	body := struct {
		Endpoint string `json:"endpoint,omitempty"`
	}{endpointID}
	var l List[Delivery]
	err := c.Do(ctx, http.MethodPost, c.projectPath("/events/%s/resend", id), nil, body, &l)
	return l.Items, err
}

// EventDeliveries returns a page of the event's deliveries.
func (c *Client) EventDeliveries(ctx context.Context, id string, p Page) (*List[Delivery], error) {
	var l List[Delivery]
	return &l, c.Do(ctx, http.MethodGet, c.projectPath("/events/%s/deliveries", id), p.query(nil), nil, &l)
}

// Endpoint is a webhook endpoint.
type Endpoint struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabledEvents"`
	Version       string   `json:"version"`
	// Status is enabled or disabled.
	Status      string  `json:"status"`
	Description *string `json:"description"`
	Ordered     bool    `json:"ordered"`
	RateLimit   *int    `json:"rateLimit"`
	// Secret is the signing secret, shown only when the endpoint is
	// created or its secret rotated.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// EndpointParams creates a webhook endpoint.
type EndpointParams struct {
	URL string `json:"url"`
	// EnabledEvents are event types or wildcards (com.gigs.porting.*, *);
	// every type when nil.
	EnabledEvents []string `json:"enabledEvents,omitempty"`
	// Version is the API version events are rendered in; the newest when
	// empty.
	Version     string  `json:"version,omitempty"`
	Description *string `json:"description,omitempty"`
}

// CreateEndpoint creates a webhook endpoint; the answer carries its secret.
func (c *Client) CreateEndpoint(ctx context.Context, p EndpointParams) (*Endpoint, error) {
	var out Endpoint
	return &out, c.Do(ctx, http.MethodPost, c.projectPath("/webhookEndpoints"), nil, p, &out)
}

// ListEndpoints returns a page of the project's webhook endpoints.
func (c *Client) ListEndpoints(ctx context.Context, p Page) (*List[Endpoint], error) {
	var l List[Endpoint]
	return &l, c.Do(ctx, http.MethodGet, c.projectPath("/webhookEndpoints"), p.query(nil), nil, &l)
}

// GetEndpoint returns a webhook endpoint.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var out Endpoint
	return &out, c.Do(ctx, http.MethodGet, c.projectPath("/webhookEndpoints/%s", id), nil, nil, &out)
}

// DeleteEndpoint deletes a webhook endpoint.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	// The answer is the deleted endpoint; reading it tells a deletion from
	// something else answering 200.
	var out Endpoint
	return c.Do(ctx, http.MethodDelete, c.projectPath("/webhookEndpoints/%s", id), nil, nil, &out)
}

// Raw fetches path (with query) and returns the answer's body unchanged.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, in any) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Do(ctx, method, path, query, in, &raw)
	return raw, err
}

// ResourceID returns the ID of the resource an event is about: data.id, or
// for port-out credentials (which have none) data.subscription.
func ResourceID(e *switchboard.Event) string {
	var d struct {
		ID           string `json:"id"`
		Subscription string `json:"subscription"`
		Object       string `json:"object"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return ""
	}
	if d.ID == "" || d.Object == "portOutCredentials" {
		return d.Subscription
	}
	return d.ID
}
