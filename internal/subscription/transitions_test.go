package subscription_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/subscription"
)

// world is a running server with a user, a plan and a donor to port from.
type world struct {
	c          *servertest.Client
	user, plan string
	donor      string
	numbers    int
}

func newWorld(t *testing.T, b storetest.Backend) *world {
	t.Helper()
	srv := servertest.Start(t, server.Config{DB: b.DB, Schema: b.Schema, APIKey: "sk_test_subscription"})
	w := &world{c: servertest.NewClient(t, srv.URL(), "sk_test_subscription")}
	var u struct{ ID string }
	w.c.Call("POST", "/projects/dev/users", map[string]any{"email": "ada@example.com"}, http.StatusCreated, &u)
	w.user = u.ID
	var list struct {
		Items []struct{ ID, Name string }
	}
	w.c.Call("GET", "/projects/dev/plans?limit=200", nil, http.StatusOK, &list)
	for _, p := range list.Items {
		if p.Name == "Gigs Global" {
			w.plan = p.ID
		}
	}
	w.c.Call("GET", "/serviceProviders?recipientProvider=p9&limit=200", nil, http.StatusOK, &list)
	for _, p := range list.Items {
		if p.Name == "AT&T" {
			w.donor = p.ID
		}
	}
	if w.user == "" || w.plan == "" || w.donor == "" {
		t.Fatalf("setup: user %q, plan %q, donor %q", w.user, w.plan, w.donor)
	}
	return w
}

// newUser creates a user of its own for a scenario that deletes it.
func (w *world) newUser() string {
	w.numbers++
	var u struct{ ID string }
	w.c.Call("POST", "/projects/dev/users", map[string]any{"email": fmt.Sprintf("u%d@example.com", w.numbers)}, http.StatusCreated, &u)
	return u.ID
}

// subscribe creates a subscription, with a porting of a fresh number that
// has every detail the donor needs when porting is set.
func (w *world) subscribe(porting bool) (sub, prt string) {
	return w.subscribeAs(w.user, porting)
}

// subscribeAs is subscribe for the user.
func (w *world) subscribeAs(user string, porting bool) (sub, prt string) {
	body := map[string]any{"user": user, "plan": w.plan}
	if porting {
		w.numbers++
		var p struct{ ID string }
		w.c.Call("POST", "/projects/dev/portings", map[string]any{
			"phoneNumber": fmt.Sprintf("+120155501%02d", 50+w.numbers), "user": user, "provider": "p9",
			"donorProvider": w.donor, "accountNumber": "ACC-1", "accountPin": "1234", "firstName": "Ada",
			"lastName": "Lovelace", "birthday": "1990-01-01",
			"address": map[string]any{"line1": "1 Main St", "city": "New York", "postalCode": "10001", "state": "NY", "country": "US"},
		}, http.StatusCreated, &p)
		body["porting"], prt = p.ID, p.ID
	}
	var s struct{ ID string }
	w.c.Call("POST", "/projects/dev/subscriptions", body, http.StatusCreated, &s)
	return s.ID, prt
}

func (w *world) status(sub string) string {
	var s struct{ Status string }
	w.c.Call("GET", "/projects/dev/subscriptions/"+sub, nil, http.StatusOK, &s)
	return s.Status
}

// TestTransitionTable drives every transition of the table through a real
// server on each backend and checks the statuses before and after. Code
// cannot make a transition the table lacks (record.move refuses it), and
// this test fails for a row no scenario drives, so table and code agree.
func TestTransitionTable(t *testing.T) {
	// Each scenario returns the subscription's status before and after the
	// operation the row names. The timer's row runs last: it moves the
	// server's clock.
	scenarios := map[subscription.Transition]func(w *world) (before, after string){
		{From: "", To: switchboard.SubscriptionPending, On: subscription.OnCreate}: func(w *world) (string, string) {
			sub, _ := w.subscribe(true)
			return "", w.status(sub)
		},
		{From: switchboard.SubscriptionPending, To: switchboard.SubscriptionActive, On: subscription.OnActivate}: func(w *world) (string, string) {
			sub, prt := w.subscribe(true)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/portings/"+prt+"/simulate", map[string]any{"action": "request"}, http.StatusOK, nil)
			w.c.Call("POST", "/projects/dev/portings/"+prt+"/simulate", map[string]any{"action": "complete"}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionPending, To: switchboard.SubscriptionEnded, On: subscription.OnCancel}: func(w *world) (string, string) {
			sub, _ := w.subscribe(true)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/cancel", map[string]any{}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionPending, To: switchboard.SubscriptionEnded, On: subscription.OnPorting}: func(w *world) (string, string) {
			sub, prt := w.subscribe(true)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/portings/"+prt+"/cancel", nil, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionActive, To: switchboard.SubscriptionEnded, On: subscription.OnCancel}: func(w *world) (string, string) {
			sub, _ := w.subscribe(false)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/cancel", map[string]any{"immediately": true}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionPending, To: switchboard.SubscriptionEnded, On: subscription.OnDeleted}: func(w *world) (string, string) {
			user := w.newUser()
			sub, _ := w.subscribeAs(user, true)
			before := w.status(sub)
			w.c.Call("DELETE", "/projects/dev/users/"+user, nil, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionActive, To: switchboard.SubscriptionEnded, On: subscription.OnDeleted}: func(w *world) (string, string) {
			user := w.newUser()
			sub, _ := w.subscribeAs(user, false)
			before := w.status(sub)
			w.c.Call("DELETE", "/projects/dev/users/"+user, nil, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionPending, To: switchboard.SubscriptionEnded, On: subscription.OnBilling}: func(w *world) (string, string) {
			sub, _ := w.subscribe(true)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/simulate", map[string]any{"action": "paymentFailed"}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionActive, To: switchboard.SubscriptionEnded, On: subscription.OnBilling}: func(w *world) (string, string) {
			sub, _ := w.subscribe(false)
			before := w.status(sub)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/simulate", map[string]any{"action": "paymentDisputed"}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionActive, To: switchboard.SubscriptionEnded, On: subscription.OnPortOut}: func(w *world) (string, string) {
			sub, _ := w.subscribe(false)
			before := w.status(sub)
			var creds struct{ AccountPin string }
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/portOutCredentials", nil, http.StatusCreated, &creds)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/simulate", map[string]any{"action": "portOut", "accountPin": creds.AccountPin}, http.StatusOK, nil)
			return before, w.status(sub)
		},
		{From: switchboard.SubscriptionActive, To: switchboard.SubscriptionEnded, On: subscription.OnEnd}: func(w *world) (string, string) {
			sub, _ := w.subscribe(false)
			w.c.Call("POST", "/projects/dev/subscriptions/"+sub+"/cancel", map[string]any{}, http.StatusOK, nil)
			var s struct {
				Status  string
				EndedAt time.Time
			}
			w.c.Call("GET", "/projects/dev/subscriptions/"+sub, nil, http.StatusOK, &s)
			var clk struct{ Time time.Time }
			w.c.Call("GET", "/projects/dev/simulator/clock", nil, http.StatusOK, &clk)
			// Just past the scheduled end (the plan's minimum term, maybe).
			past := s.EndedAt.Sub(clk.Time) + time.Minute
			w.c.Call("POST", "/projects/dev/simulator/clock/advance", map[string]any{"seconds": int(past.Seconds())}, http.StatusOK, nil)
			return s.Status, w.status(sub)
		},
	}
	table := subscription.Transitions()
	for _, tr := range table {
		if scenarios[tr] == nil {
			t.Errorf("no scenario drives the table's %q → %q on %s", tr.From, tr.To, tr.On)
		}
	}
	for tr := range scenarios {
		found := false
		for _, row := range table {
			found = found || row == tr
		}
		if !found {
			t.Errorf("a scenario drives %q → %q on %s, which the table lacks", tr.From, tr.To, tr.On)
		}
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		w := newWorld(t, b)
		for _, tr := range table {
			run := scenarios[tr]
			if run == nil {
				continue
			}
			t.Run(fmt.Sprintf("%s→%s on %s", tr.From, tr.To, tr.On), func(t *testing.T) {
				w.c = servertest.NewClient(t, w.c.Base, w.c.Key)
				before, after := run(w)
				if before != tr.From || after != tr.To {
					t.Errorf("%s: %q → %q, want %q → %q", tr.On, before, after, tr.From, tr.To)
				}
			})
		}
	})
}
