package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	projects "github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// draftPorting creates a draft porting of the number for the user with
// every detail AT&T needs but those left out.
func (e *env) draftPorting(s setup, number string, without ...string) string {
	e.t.Helper()
	p := fullDetails(pin)
	p["phoneNumber"], p["user"], p["provider"] = number, s.user, "p9"
	p["donorProvider"], p["accountNumber"], p["firstName"] = s.att, "ACC-1001", "Jerry"
	for _, f := range without {
		delete(p, f)
	}
	return e.json("POST", "/projects/dev/portings", p, 201).str("id")
}

// cause returns the subscription's cancellationDetails.cause.
func cause(sub obj) string {
	d, _ := sub["cancellationDetails"].(map[string]any)
	return obj(d).str("cause")
}

// TestUserDeleted deletes a user with an active subscription, a pending
// one waiting on its porting, an ended one and a draft porting: the user's
// event comes first, then every subscription that had not ended ends
// (userDeleted, its SIM retired, the porting it waited on canceled),
// oldest first, then the draft is deleted; the ended subscription is left
// alone. The deleted user is gone from the API but stays embedded in its
// subscriptions, and its e-mail is free.
func TestUserDeleted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		active := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		e.json("POST", "/projects/dev/subscriptions/"+active+"/cancel", obj{"userReason": "tooExpensive"}, 200) // scheduled
		prt := e.draftPorting(s, portingNumber, "accountPin")
		pending := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": prt}, 201).str("id")
		ended := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		e.json("POST", "/projects/dev/subscriptions/"+ended+"/cancel", obj{"immediately": true}, 200)
		draft := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": "+12015550199", "user": s.user, "provider": "p9"}, 201).str("id")
		// A minute later, so that the scheduled cancellation's canceledAt
		// differs from the deletion's whatever second the test runs in.
		e.advance(60)
		e.newEvents()

		deleted := e.json("DELETE", "/projects/dev/users/"+s.user, nil, 200)
		if deleted.str("id") != s.user || deleted.str("email") != "jerry@example.com" {
			t.Fatalf("DELETE answered %v, want the user as it was", deleted)
		}
		all := e.expectTypes("com.gigs.user.deleted",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated",
			"com.gigs.porting.canceled", "com.gigs.porting.updated",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated",
			"com.gigs.porting.deleted")
		if all[1].Raw == nil || !strings.Contains(string(all[1].Raw), `"id":"`+active+`"`) ||
			!strings.Contains(string(all[7].Raw), `"id":"`+pending+`"`) || !strings.Contains(string(all[11].Raw), `"id":"`+draft+`"`) {
			t.Fatalf("events out of order: the active subscription, then the pending one, then the draft")
		}
		for _, id := range []string{active, pending} {
			sub := e.json("GET", "/projects/dev/subscriptions/"+id, nil, 200)
			if sub.str("status") != "ended" || cause(sub) != "userDeleted" {
				t.Fatalf("subscription %s: %s %v, want ended with userDeleted", id, sub.str("status"), sub["cancellationDetails"])
			}
			if user := obj(sub["user"].(map[string]any)); user.str("id") != s.user {
				t.Fatalf("subscription %s embeds %v, want the deleted user", id, user)
			}
		}
		if got := cause(e.json("GET", "/projects/dev/subscriptions/"+ended, nil, 200)); got != "cancellationRequested" {
			t.Fatalf("the subscription that had ended: cause %s, want cancellationRequested kept", got)
		}
		if got := e.json("GET", "/projects/dev/portings/"+prt, nil, 200).str("status"); got != "canceled" {
			t.Fatalf("the pending subscription's porting is %s, want canceled", got)
		}
		e.expectError("GET", "/projects/dev/portings/"+draft, nil, 404, "notFound", "portingNotFound")

		// The user is gone: not found, not listed, refused as a reference,
		// deleted once; its e-mail is free for a new user.
		e.expectError("GET", "/projects/dev/users/"+s.user, nil, 404, "notFound", "userNotFound")
		e.expectError("DELETE", "/projects/dev/users/"+s.user, nil, 404, "notFound", "userNotFound")
		e.expectError("PATCH", "/projects/dev/users/"+s.user, obj{"fullName": "J"}, 404, "notFound", "userNotFound")
		e.expectError("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan}, 404, "notFound", "userNotFound")
		e.expectTypes()
		for _, u := range e.json("GET", "/projects/dev/users?limit=200", nil, 200)["items"].([]any) {
			if obj(u.(map[string]any)).str("id") == s.user {
				t.Fatal("the deleted user is still listed")
			}
		}
		again := e.json("POST", "/projects/dev/users", obj{"email": "jerry@example.com"}, 201)
		if again.str("id") == s.user {
			t.Fatal("the new user has the deleted user's ID")
		}
		e.expectTypes("com.gigs.user.created")
		golden(t, "user_deleted", all)
	})
}

// TestSubscriptionPortOut ports a subscription's number out with its
// port-out credentials: without credentials, with a wrong or malformed PIN
// it is declined and nothing changes; with the PIN it ends the subscription
// with phoneNumberPortedOut and retires the SIM.
func TestSubscriptionPortOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		var logs syncBuffer // every log line the server writes, debug included
		e := start(t, b, func(c *server.Config) {
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		s := e.setup()
		id := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		path := "/projects/dev/subscriptions/" + id + "/simulate"
		e.newEvents()
		e.expectError("POST", path, obj{"action": "portOut", "accountPin": "123456"}, 409, "conflict", "portOutCredentialsNotFound")

		shown := e.json("POST", "/projects/dev/subscriptions/"+id+"/portOutCredentials", nil, 201).str("accountPin")
		e.expectTypes("com.gigs.portOutCredentials.issued")
		wrong := "000000"
		if shown == wrong {
			wrong = "111111"
		}
		tests := []struct {
			name         string
			body         obj
			status       int
			typ, code    string
			forbiddenPin string
		}{
			{"wrong PIN", obj{"action": "portOut", "accountPin": wrong}, 422, "invalid", "portingAccountPinRequiredOrInvalid", wrong},
			{"no PIN", obj{"action": "portOut"}, 422, "invalid", "fieldRequired", ""},
			{"malformed PIN", obj{"action": "portOut", "accountPin": "12ab"}, 422, "invalid", "invalidAccountPin", "12ab"},
			{"unknown action", obj{"action": "teleport"}, 422, "invalid", "invalidValue", ""},
			{"no action", obj{}, 422, "invalid", "fieldRequired", ""},
			{"PIN with a payment action", obj{"action": "paymentFailed", "accountPin": shown}, 422, "invalid", "invalidAccountPin", shown},
		}
		for _, tt := range tests {
			body := e.call("POST", path, tt.body, tt.status)
			var got struct{ Object, Type, Code, Message string }
			if err := json.Unmarshal(body, &got); err != nil || got.Type != tt.typ || got.Code != tt.code {
				t.Fatalf("%s: %s, want %s %s", tt.name, body, tt.typ, tt.code)
			}
			for _, p := range []string{shown, tt.forbiddenPin} {
				if p != "" && strings.Contains(got.Message, p) {
					t.Fatalf("%s: the error shows a PIN: %s", tt.name, got.Message)
				}
			}
		}
		e.expectTypes() // a declined port-out changes nothing
		if got := e.json("GET", "/projects/dev/subscriptions/"+id, nil, 200).str("status"); got != "active" {
			t.Fatalf("after declined port-outs the subscription is %s, want active", got)
		}

		out := e.json("POST", path, obj{"action": "portOut", "accountPin": shown}, 200)
		if out.str("status") != "ended" || cause(out) != "phoneNumberPortedOut" {
			t.Fatalf("ported out: %s %v, want ended with phoneNumberPortedOut", out.str("status"), out["cancellationDetails"])
		}
		all := e.expectTypes("com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")
		assertNoPin(t, all, shown)
		// The credentials are used up; the subscription has ended.
		e.expectError("POST", path, obj{"action": "portOut", "accountPin": shown}, 409, "conflict", "portOutCredentialsNotFound")
		e.expectError("POST", path, obj{"action": "paymentFailed"}, 409, "conflict", "subscriptionNotCancelable")
		e.expectTypes()
		if l := logs.String(); l == "" || strings.Contains(l, shown) || strings.Contains(l, wrong) {
			t.Fatalf("the server's log is empty or shows a PIN:\n%s", l)
		}
		golden(t, "subscription_ported_out", all)
	})
}

// TestPortOutCredentialsExpireAndAreReplacedSilently: the public record
// documents no event for credentials that expire or that new ones replace.
// Neither emits one, and neither kind of credentials ports a number out.
func TestPortOutCredentialsExpireAndAreReplacedSilently(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b, func(c *server.Config) { c.PortOutLifetime = time.Hour })
		s := e.setup()
		id := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		path := "/projects/dev/subscriptions/" + id + "/simulate"
		issue := func() string {
			t.Helper()
			return e.json("POST", "/projects/dev/subscriptions/"+id+"/portOutCredentials", nil, 201).str("accountPin")
		}
		e.newEvents()

		first := issue()
		e.expectTypes("com.gigs.portOutCredentials.issued")
		e.advance(2 * 3600) // past the hour's lifetime: the timer expires them
		e.expectTypes()
		e.expectError("POST", path, obj{"action": "portOut", "accountPin": first}, 409, "conflict", "portOutCredentialsExpired")

		second := issue()
		third := issue() // replaces the second: one issued event each, nothing else
		e.expectTypes("com.gigs.portOutCredentials.issued", "com.gigs.portOutCredentials.issued")
		if second != third {
			e.expectError("POST", path, obj{"action": "portOut", "accountPin": second}, 422, "invalid", "portingAccountPinRequiredOrInvalid")
		}
		e.expectTypes()
		e.json("POST", path, obj{"action": "portOut", "accountPin": third}, 200)
		e.expectTypes("com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")
	})
}

// TestSubscriptionPaymentCauses ends an active subscription for a failed
// payment and a pending one, waiting on its porting, for a disputed one:
// the porting is canceled with it.
func TestSubscriptionPaymentCauses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		active := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		prt := e.draftPorting(s, portingNumber)
		pending := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": prt}, 201).str("id")
		e.newEvents()

		failed := e.json("POST", "/projects/dev/subscriptions/"+active+"/simulate", obj{"action": "paymentFailed"}, 200)
		if failed.str("status") != "ended" || cause(failed) != "paymentFailed" {
			t.Fatalf("payment failed: %s %v", failed.str("status"), failed["cancellationDetails"])
		}
		all := e.expectTypes("com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")

		disputed := e.json("POST", "/projects/dev/subscriptions/"+pending+"/simulate", obj{"action": "paymentDisputed"}, 200)
		if disputed.str("status") != "ended" || cause(disputed) != "paymentDisputed" {
			t.Fatalf("payment disputed: %s %v", disputed.str("status"), disputed["cancellationDetails"])
		}
		all = append(all, e.expectTypes("com.gigs.porting.canceled", "com.gigs.porting.updated",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")...)
		assertPortingInPreviousData(t, all)
		if got := e.json("GET", "/projects/dev/portings/"+prt, nil, 200).str("status"); got != "canceled" {
			t.Fatalf("porting of the ended subscription is %s, want canceled", got)
		}
		e.expectError("POST", "/projects/dev/subscriptions/"+pending+"/simulate", obj{"action": "paymentFailed"}, 409, "conflict", "subscriptionNotCancelable")
		e.expectError("POST", "/projects/dev/subscriptions/sub_nope/simulate", obj{"action": "paymentFailed"}, 404, "notFound", "subscriptionNotFound")
		e.expectTypes()
		golden(t, "subscription_payment_causes", all)
	})
}

// TestSubscriptionSimulateIsForTestProjects: the subscription's simulate
// route is gated as the porting's is: in a live project it is 403
// testModeOnly, without the simulator 404 simulatorDisabled, and either
// changes nothing.
func TestSubscriptionSimulateIsForTestProjects(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		ctx := context.Background()
		if _, err := e.srv.Projects.Ensure(ctx, "shop", "Shop", projects.Live); err != nil {
			t.Fatal(err)
		}
		liveKey, err := e.srv.NewAPIKey(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		live := &env{t: t, srv: e.srv, base: e.base, key: liveKey, seen: map[string]bool{}}
		u := live.json("POST", "/projects/shop/users", obj{"email": "kramer@example.com"}, 201).str("id")
		plans := live.json("GET", "/projects/shop/plans?limit=200", nil, 200)["items"].([]any)
		if len(plans) == 0 {
			t.Skip("a new project has no plans to subscribe to")
		}
		plan := obj(plans[0].(map[string]any)).str("id")
		sub := live.json("POST", "/projects/shop/subscriptions", obj{"user": u, "plan": plan}, 201).str("id")
		live.expectError("POST", "/projects/shop/subscriptions/"+sub+"/simulate", obj{"action": "paymentFailed"}, 403, "permissionDenied", "testModeOnly")
		live.expectError("POST", "/projects/shop/portings/prt_nope/simulate", obj{"action": "request"}, 403, "permissionDenied", "testModeOnly")
		if got := live.json("GET", "/projects/shop/subscriptions/"+sub, nil, 200).str("status"); got != "active" {
			t.Fatalf("the live subscription is %s, want active", got)
		}
	})
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b, func(c *server.Config) { c.Simulator = "off" })
		s := e.setup()
		id := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		e.newEvents()
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/simulate", obj{"action": "paymentFailed"}, 404, "notFound", "simulatorDisabled")
		e.expectTypes()
	})
}

// TestPortingUpdateKeepingStatusEmitsNoStatusEvent: an update that leaves
// a porting in its status emits porting.updated (and its subscription's
// update) but not the status event again.
func TestPortingUpdateKeepingStatusEmitsNoStatusEvent(t *testing.T) {
	tests := []struct {
		name    string
		without []string // details left out at first
		patch   obj      // still leaves the status as it is
		status  string
	}{
		{"informationRequired stays", []string{"accountPin", "lastName"}, obj{"lastName": "Seinfeld"}, "informationRequired"},
		{"pending stays", nil, obj{"firstName": "Jerome"}, "pending"},
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		for i, tt := range tests {
			number := "+1201555014" + string(rune('0'+i))
			id := e.draftPorting(s, number, tt.without...)
			e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": id}, 201)
			e.newEvents()
			if got := e.json("PATCH", "/projects/dev/portings/"+id, tt.patch, 200).str("status"); got != tt.status {
				t.Fatalf("%s: status %s, want %s", tt.name, got, tt.status)
			}
			evs := e.expectTypes("com.gigs.porting.updated", "com.gigs.subscription.updated")
			var upd struct {
				PreviousData map[string]json.RawMessage `json:"previousData"`
			}
			if err := json.Unmarshal(evs[0].Raw, &upd); err != nil {
				t.Fatal(err)
			}
			if _, ok := upd.PreviousData["status"]; ok {
				t.Fatalf("%s: porting.updated says the status changed: %s", tt.name, evs[0].Raw)
			}
			// Again, with the same details: nothing changed, nothing is
			// recorded.
			e.json("PATCH", "/projects/dev/portings/"+id, tt.patch, 200)
			e.expectTypes()
		}
	})
}

// TestPreferredLocaleDefault: preferredLocale is a string in the public
// user schema, never null; a user created without one has en-US.
func TestPreferredLocaleDefault(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		u := e.json("POST", "/projects/dev/users", obj{"email": "elaine@example.com"}, 201)
		if got, ok := u["preferredLocale"].(string); !ok || got != "en-US" {
			t.Fatalf("preferredLocale %v, want en-US", u["preferredLocale"])
		}
		ev := e.expectTypes("com.gigs.user.created")
		if !strings.Contains(string(ev[0].Raw), `"preferredLocale":"en-US"`) {
			t.Fatalf("user.created lacks the default locale: %s", ev[0].Raw)
		}
		got := e.json("PATCH", "/projects/dev/users/"+u.str("id"), obj{"preferredLocale": "de-DE"}, 200)
		if got.str("preferredLocale") != "de-DE" {
			t.Fatalf("updated preferredLocale %v", got["preferredLocale"])
		}
		e.expectTypes("com.gigs.user.updated")
	})
}

// TestPendingSubscriptionCanceledCancelsItsPorting: a subscription canceled
// while it waits on its porting ends, and the porting is canceled first:
// the number can no longer arrive for it.
func TestPendingSubscriptionCanceledCancelsItsPorting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		prt := e.draftPorting(s, portingNumber)
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": prt}, 201).str("id")
		e.simulate(prt, "request")
		e.newEvents()
		ended := e.json("POST", "/projects/dev/subscriptions/"+sub+"/cancel", obj{}, 200)
		if ended.str("status") != "ended" || cause(ended) != "cancellationRequested" {
			t.Fatalf("canceled pending subscription: %s %v", ended.str("status"), ended["cancellationDetails"])
		}
		all := e.expectTypes("com.gigs.porting.canceled", "com.gigs.porting.updated", "com.gigs.subscription.canceled",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")
		assertPortingInPreviousData(t, all)
		if got := obj(ended["porting"].(map[string]any)).str("status"); got != "canceled" {
			t.Fatalf("porting of the canceled subscription is %s, want canceled", got)
		}
		// The simulator can no longer complete it.
		e.expectError("POST", "/projects/dev/portings/"+prt+"/simulate", obj{"action": "complete"}, 409, "conflict", "portingNotCompletable")
		e.expectTypes()
	})
}

// syncBuffer is a buffer the server logs to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
