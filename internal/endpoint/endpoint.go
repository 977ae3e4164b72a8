package endpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Kind is the store kind of endpoints.
const Kind = "webhookEndpoint"

// Statuses.
const (
	Enabled  = "enabled"
	Disabled = "disabled"
)

// Endpoint is a webhook endpoint as stored, secrets included. Its API
// rendering never shows the secrets after creation.
type Endpoint struct {
	ID            string     `json:"id"`
	Project       string     `json:"project"`
	URL           string     `json:"url"`
	EnabledEvents []string   `json:"enabledEvents"`
	Version       string     `json:"version"`
	Status        string     `json:"status"`
	Description   *string    `json:"description"`
	Ordered       bool       `json:"ordered"`
	RateLimit     *int       `json:"rateLimit"`
	Secrets       []Secret   `json:"secrets"`
	FailingSince  *time.Time `json:"failingSince"`
	// DisabledReason says why the platform disabled the endpoint, if it did.
	DisabledReason *string `json:"disabledReason"`
	// ResumedAt is when the endpoint was last enabled again after it was
	// disabled: its deliveries resumed then, and no Retry-After it asked
	// for before holds them back.
	ResumedAt *time.Time `json:"resumedAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// Secret is a signing secret ("whsec_…"), sealed at rest (see SigningKey); a
// rotated-out secret keeps signing until ExpiresAt.
type Secret struct {
	Value     string     `json:"value"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// Matches reports whether the endpoint wants events of type typ: an exact
// type, "*", or a wildcard such as "com.gigs.porting.*".
func (e *Endpoint) Matches(typ string) bool {
	return Matches(e.EnabledEvents, typ)
}

// Matches reports whether one of the patterns selects the event type.
func Matches(patterns []string, typ string) bool {
	for _, p := range patterns {
		if p == "*" || p == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// ActiveSecrets returns the secrets that sign requests at time now: the
// current one and any rotated-out one still in its grace period.
func (e *Endpoint) ActiveSecrets(now time.Time) []string {
	out := make([]string, 0, len(e.Secrets))
	for _, s := range e.Secrets {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s.Value)
		}
	}
	return out
}

// Record returns the endpoint as a store resource.
func (e *Endpoint) Record() store.Resource {
	return store.Resource{Kind: Kind, Project: e.Project, ID: e.ID, Status: e.Status, Body: e}
}

func init() { store.Memoize(Kind) }

// EnabledIn returns the project's enabled endpoints. The slice and the
// endpoints are shared (the store memoizes them until an endpoint of the
// project changes): callers must not modify them.
func EnabledIn(ctx context.Context, tx *store.Tx, project string) ([]Endpoint, error) {
	v, err := tx.Memo(ctx, Kind, project, func() (any, error) { return listEnabled(ctx, tx, project) })
	if err != nil {
		return nil, err
	}
	return v.([]Endpoint), nil
}

func listEnabled(ctx context.Context, tx *store.Tx, project string) ([]Endpoint, error) {
	var out []Endpoint
	page := store.Page{Limit: 200}
	for {
		items, cur, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Status: Enabled, Page: page})
		if err != nil {
			return nil, fmt.Errorf("endpoint: list enabled: %w", err)
		}
		for _, b := range items {
			var e Endpoint
			if err := json.Unmarshal(b, &e); err != nil {
				return nil, fmt.Errorf("endpoint: decode: %w", err)
			}
			out = append(out, e)
		}
		if cur.MoreAfter == "" {
			return out, nil
		}
		page.After = cur.MoreAfter
	}
}

// Set is a project's enabled endpoints as the event log sees them: an
// eventlog.Endpoints.
type Set []Endpoint

// Len returns how many endpoints there are.
func (e Set) Len() int { return len(e) }

// ID returns the i-th endpoint's ID.
func (e Set) ID(i int) string { return e[i].ID }

// Ordered reports whether the i-th endpoint takes events first in, first
// out.
func (e Set) Ordered(i int) bool { return e[i].Ordered }

// Matches reports whether the i-th endpoint wants events of the type.
func (e Set) Matches(i int, eventType string) bool { return e[i].Matches(eventType) }

// Targets returns the project's enabled endpoints for the event log (an
// eventlog.EndpointsIn).
func Targets(ctx context.Context, tx *store.Tx, project string) (eventlog.Endpoints, error) {
	es, err := EnabledIn(ctx, tx, project)
	if err != nil {
		return nil, err
	}
	return Set(es), nil
}
