package portout_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

func ptr[T any](v T) *T { return &v }

func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := failure.As(err); ok {
		return f.Code
	}
	return "!" + err.Error()
}

// services are the services port-out credentials need, over one store.
type services struct {
	st       *store.Store
	clk      *clock.Offset
	users    *user.Service
	portings *porting.Service
	subs     *subscription.Service
	portOut  *portout.Service
	plan     string
}

const lifetime = 48 * time.Hour

func newServices(t *testing.T, b storetest.Backend) *services {
	t.Helper()
	ctx := context.Background()
	st := b.Open(t)
	clk := &clock.Offset{}
	src := clock.Same{Clock: clk}
	log := eventlog.New(eventlog.Config{Clock: src, Endpoints: endpoint.Targets})
	s := &services{st: st, clk: clk, users: &user.Service{Store: st, Events: log, Clock: src}}
	s.subs = subscription.New(subscription.Service{Store: st, Events: log, Clock: src}, porting.Service{Store: st, Events: log, Clock: src})
	s.portings = s.subs.Portings
	s.portOut = &portout.Service{Store: st, Events: log, Clock: src, Subscriptions: s.subs, Lifetime: lifetime}
	storetest.Update(t, st, func(tx *store.Tx) error {
		if err := catalog.SeedProviders(ctx, tx); err != nil {
			return err
		}
		if err := catalog.SeedPlans(ctx, tx, "p", clock.Second(clk.Now())); err != nil {
			return err
		}
		items, _, err := tx.List(ctx, store.Query{Kind: catalog.PlanKind, Project: "p", Page: store.Page{Limit: 1}})
		if err != nil || len(items) == 0 {
			t.Fatalf("seeded plans: %d, %v", len(items), err)
		}
		var plan switchboard.Plan
		if err := json.Unmarshal(items[0], &plan); err != nil {
			return err
		}
		s.plan = plan.ID
		return nil
	})
	return s
}

// credentials returns the stored bodies of the project's credentials of
// the status, as JSON text.
func (s *services) credentials(t *testing.T, status string) []string {
	t.Helper()
	var out []string
	storetest.View(t, s.st, func(tx *store.Tx) error {
		items, _, err := tx.List(context.Background(), store.Query{Kind: portout.Kind, Project: "p", Status: status, Page: store.Page{Limit: 200}})
		for _, b := range items {
			out = append(out, string(b))
		}
		return err
	})
	return out
}

func TestIssue(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := newServices(t, b)
		u, err := s.users.Create(ctx, "p", user.Params{Email: ptr("ada@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		active, err := s.subs.Create(ctx, "p", subscription.CreateParams{User: u.ID, Plan: s.plan})
		if err != nil {
			t.Fatal(err)
		}
		prt, err := s.portings.Create(ctx, "p", porting.CreateParams{PhoneNumber: "+12015550150", User: u.ID, Provider: "p9"})
		if err != nil {
			t.Fatal(err)
		}
		pending, err := s.subs.Create(ctx, "p", subscription.CreateParams{User: u.ID, Plan: s.plan, Porting: &prt.ID})
		if err != nil {
			t.Fatal(err)
		}
		ended, err := s.subs.Create(ctx, "p", subscription.CreateParams{User: u.ID, Plan: s.plan})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.subs.Cancel(ctx, "p", ended.ID, subscription.CancelParams{Immediately: true}); err != nil {
			t.Fatal(err)
		}
		refused := []struct {
			name, sub, code string
		}{
			{"a pending subscription", pending.ID, "subscriptionNotActive"},
			{"an ended subscription", ended.ID, "subscriptionNotActive"},
			{"an unknown subscription", "sub_nope", "subscriptionNotFound"},
		}
		for _, tt := range refused {
			if _, err := s.portOut.Issue(ctx, "p", tt.sub); code(err) != tt.code {
				t.Errorf("Issue for %s = %q, want %q", tt.name, code(err), tt.code)
			}
		}
		if got := s.credentials(t, ""); len(got) != 0 {
			t.Fatalf("refused issues stored %d credentials", len(got))
		}

		before := clock.Second(s.clk.Now())
		first, err := s.portOut.Issue(ctx, "p", active.ID)
		if err != nil {
			t.Fatal(err)
		}
		after := clock.Second(s.clk.Now())
		if first.AccountPin == nil || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(*first.AccountPin) ||
			!regexp.MustCompile(`^[0-9]{9}$`).MatchString(first.AccountNumber) {
			t.Fatalf("issued %+v, want a 6-digit PIN and a 9-digit account number", first)
		}
		if first.ExpiresAt.Before(before.Add(lifetime)) || first.ExpiresAt.After(after.Add(lifetime)) {
			t.Errorf("expires at %s, want the issue time (%s to %s) plus %s", first.ExpiresAt, before, after, lifetime)
		}
		pin := *first.AccountPin
		// The PIN is shown once: neither the stored record nor the event has it.
		for _, body := range s.credentials(t, "") {
			if strings.Contains(body, pin) || !strings.Contains(body, "pinHash") {
				t.Errorf("stored credentials %s show the PIN or lack its hash", body)
			}
		}
		var evs []store.EventRow
		storetest.View(t, s.st, func(tx *store.Tx) (err error) {
			evs, _, err = tx.ListEvents(ctx, store.EventQuery{Project: "p", Types: []string{switchboard.TypePortOutCredentialsIssued}, Page: store.Page{Limit: 10}})
			return err
		})
		if len(evs) != 1 || strings.Contains(string(evs[0].Data), pin) || !strings.Contains(string(evs[0].Data), `"accountPin":null`) {
			t.Fatalf("issued events %d, first %s; want one, with accountPin null", len(evs), evs[0].Data)
		}

		// Issuing again replaces the earlier credentials.
		if _, err := s.portOut.Issue(ctx, "p", active.ID); err != nil {
			t.Fatal(err)
		}
		if v, r := len(s.credentials(t, portout.Valid)), len(s.credentials(t, portout.Replaced)); v != 1 || r != 1 {
			t.Errorf("after a second issue: %d valid, %d replaced; want 1 and 1", v, r)
		}
	})
}

// TestTick checks the credential timer: it does nothing before the expiry
// and expires the credentials after it.
func TestTick(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := newServices(t, b)
		u, err := s.users.Create(ctx, "p", user.Params{Email: ptr("ada@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := s.subs.Create(ctx, "p", subscription.CreateParams{User: u.ID, Plan: s.plan})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.portOut.Issue(ctx, "p", sub.ID); err != nil {
			t.Fatal(err)
		}
		var id string
		var raw struct{ ID string }
		if err := json.Unmarshal([]byte(s.credentials(t, portout.Valid)[0]), &raw); err != nil {
			t.Fatal(err)
		}
		id = raw.ID
		steps := []struct {
			name    string
			advance time.Duration
			valid   int
		}{
			{"before the expiry", lifetime - time.Minute, 1},
			{"after the expiry", 2 * time.Minute, 0},
			{"again, once expired", time.Hour, 0},
		}
		for _, st := range steps {
			s.clk.Advance(st.advance)
			storetest.Update(t, s.st, func(tx *store.Tx) error { return s.portOut.Tick(ctx, tx, "p", id) })
			if got := len(s.credentials(t, portout.Valid)); got != st.valid {
				t.Errorf("%s: %d valid credentials, want %d", st.name, got, st.valid)
			}
		}
	})
}

// TestPortOut runs port-outs of a subscription's number: refused without
// credentials, with a malformed or wrong PIN (the PIN never in the error),
// or with expired credentials; accepted with the PIN, which ends the
// subscription (phoneNumberPortedOut) and uses the credentials up.
func TestPortOut(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := newServices(t, b)
		u, err := s.users.Create(ctx, "p", user.Params{Email: ptr("ada@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		subscribe := func() string {
			t.Helper()
			sub, err := s.subs.Create(ctx, "p", subscription.CreateParams{User: u.ID, Plan: s.plan})
			if err != nil {
				t.Fatal(err)
			}
			return sub.ID
		}
		issue := func(sub string) string {
			t.Helper()
			c, err := s.portOut.Issue(ctx, "p", sub)
			if err != nil {
				t.Fatal(err)
			}
			return *c.AccountPin
		}
		// wrong returns a PIN of the same length that is not pin.
		wrong := func(pin string) string {
			if pin[0] == '0' {
				return "1" + pin[1:]
			}
			return "0" + pin[1:]
		}
		bare, expiring := subscribe(), subscribe()
		oldPin := issue(expiring)
		s.clk.Advance(lifetime + time.Minute) // expiring's credentials are past expiresAt
		fresh := subscribe()
		freshPin := issue(fresh)
		tests := []struct {
			name, sub, pin string
			code           string
			status         string // the subscription's status afterwards
		}{
			{"no credentials", bare, "123456", "portOutCredentialsNotFound", switchboard.SubscriptionActive},
			{"no PIN", fresh, "", "fieldRequired", switchboard.SubscriptionActive},
			{"a PIN that is no number", fresh, "12a4", "invalidAccountPin", switchboard.SubscriptionActive},
			{"the wrong PIN", fresh, wrong(freshPin), "portingAccountPinRequiredOrInvalid", switchboard.SubscriptionActive},
			{"expired credentials", expiring, oldPin, "portOutCredentialsExpired", switchboard.SubscriptionActive},
			{"the PIN", fresh, freshPin, "", switchboard.SubscriptionEnded},
			{"the PIN again: the credentials are used up", fresh, freshPin, "portOutCredentialsNotFound", switchboard.SubscriptionEnded},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.portOut.PortOut(ctx, "p", tt.sub, tt.pin)
				if code(err) != tt.code {
					t.Fatalf("PortOut = %q (%v), want %q", code(err), err, tt.code)
				}
				if err != nil && tt.pin != "" && strings.Contains(err.Error(), tt.pin) {
					t.Errorf("the error %q shows the PIN", err)
				}
				got, err := s.subs.Get(ctx, "p", tt.sub)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != tt.status {
					t.Errorf("subscription %s, want %s", got.Status, tt.status)
				}
				if tt.code == "" && (got.CancellationDetails == nil || got.CancellationDetails.Cause != switchboard.CausePhoneNumberPortedOut) {
					t.Errorf("cancellation details %+v, want cause %s", got.CancellationDetails, switchboard.CausePhoneNumberPortedOut)
				}
			})
		}
	})
}
