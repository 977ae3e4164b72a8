package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const (
	portingNumber = "+12015550123"
	pin           = "7351"
	correctedPin  = "8642"
)

// setup holds what most scenarios need: a user, the plans and the AT&T
// donor provider's ID.
type setup struct {
	user, plan, monthlyPlan, att string
}

func (e *env) setup() setup {
	e.t.Helper()
	var s setup
	s.user = e.json("POST", "/projects/dev/users", obj{"email": "jerry@example.com", "fullName": "Jerry Seinfeld",
		"birthday": "1954-04-29", "preferredLocale": "en-US"}, 201).str("id")
	plans := e.json("GET", "/projects/dev/plans?limit=200", nil, 200)
	for _, p := range plans["items"].([]any) {
		if p := obj(p.(map[string]any)); p.str("name") == "Gigs Global" {
			s.plan = p.str("id")
		}
	}
	s.monthlyPlan = e.json("POST", "/projects/dev/plans", obj{
		"name": "Thirty Days", "provider": "p9", "price": obj{"amount": 1500, "currency": "USD"},
		"validity": obj{"type": "recurring", "unit": "day", "value": 30, "minimumPeriods": 1},
	}, 201).str("id")
	providers := e.json("GET", "/serviceProviders?recipientProvider=p9&limit=200", nil, 200)
	for _, p := range providers["items"].([]any) {
		if p := obj(p.(map[string]any)); p.str("name") == "AT&T" {
			s.att = p.str("id")
		}
	}
	if s.plan == "" || s.att == "" {
		e.t.Fatalf("seeded catalog lacks Gigs Global or AT&T: %+v", s)
	}
	e.newEvents() // user.created belongs to no scenario
	return s
}

// fullDetails are every porting detail AT&T asks for.
func fullDetails(pin string) obj {
	return obj{"accountPin": pin, "lastName": "Seinfeld", "birthday": "1954-04-29",
		"address": obj{"line1": "129 West 81st Street", "line2": "Apartment 5A", "city": "New York City",
			"postalCode": "10024", "state": "NY", "country": "US"}}
}

func (e *env) simulate(portingID, action string, extra ...string) obj {
	e.t.Helper()
	body := obj{"action": action}
	if len(extra) == 2 {
		body[extra[0]] = extra[1]
	}
	return e.json("POST", "/projects/dev/portings/"+portingID+"/simulate", body, 200)
}

func (e *env) advance(seconds int) {
	e.t.Helper()
	e.json("POST", "/projects/dev/simulator/clock/advance", obj{"seconds": seconds}, 200)
}

// assertNoPin fails if a PIN shows in any byte the API has answered with.
func assertNoPin(t *testing.T, events []event, pins ...string) {
	t.Helper()
	for _, ev := range events {
		for _, p := range pins {
			if bytes.Contains(ev.Raw, []byte(`"`+p+`"`)) {
				t.Fatalf("event %s %s shows the PIN", ev.Type, ev.ID)
			}
		}
	}
}

func TestPortingDeclinedCorrectedAndCompleted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		var all []event
		step := func(types ...string) { t.Helper(); all = append(all, e.expectTypes(types...)...) }

		prt := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
			"donorProvider": s.att, "accountNumber": "ACC-1001", "firstName": "Jerry"}, 201)
		id := prt.str("id")
		if prt.str("status") != "draft" {
			t.Fatalf("new porting status %q, want draft", prt.str("status"))
		}
		step("com.gigs.porting.created")

		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": id}, 201)
		if got := obj(sub["porting"].(map[string]any)).str("status"); got != "informationRequired" {
			t.Fatalf("porting status after subscription %q, want informationRequired", got)
		}
		step("com.gigs.porting.informationRequired", "com.gigs.porting.updated", "com.gigs.subscription.created")

		// Every change of the porting the subscription embeds updates the
		// subscription too, with the porting's previous state.
		if got := e.json("PATCH", "/projects/dev/portings/"+id, fullDetails(pin), 200).str("status"); got != "pending" {
			t.Fatalf("status after details %q, want pending", got)
		}
		step("com.gigs.porting.updated", "com.gigs.subscription.updated")

		e.simulate(id, "request")
		step("com.gigs.porting.requested", "com.gigs.porting.updated", "com.gigs.subscription.updated")

		declined := e.simulate(id, "decline", "declinedCode", "portingAccountPinRequiredOrInvalid")
		if declined["declinedAttempts"] != float64(1) || declined.str("declinedCode") != "portingAccountPinRequiredOrInvalid" {
			t.Fatalf("declined porting: attempts %v code %q", declined["declinedAttempts"], declined.str("declinedCode"))
		}
		step("com.gigs.porting.declined", "com.gigs.porting.updated", "com.gigs.subscription.updated")

		if got := e.json("PATCH", "/projects/dev/portings/"+id, obj{"accountPin": correctedPin}, 200).str("status"); got != "pending" {
			t.Fatalf("status after correction %q, want pending", got)
		}
		step("com.gigs.porting.updated", "com.gigs.subscription.updated")

		// A minute later, so that the second request's lastRequestedAt
		// differs from the first's whatever second the test runs in.
		e.advance(60)
		e.simulate(id, "request")
		step("com.gigs.porting.requested", "com.gigs.porting.updated", "com.gigs.subscription.updated")
		e.simulate(id, "complete")
		step("com.gigs.porting.completed", "com.gigs.porting.updated",
			"com.gigs.subscription.activated", "com.gigs.subscription.updated", "com.gigs.sim.updated")
		assertPortingInPreviousData(t, all)

		sub = e.json("GET", "/projects/dev/subscriptions/"+sub.str("id"), nil, 200)
		if sub.str("status") != "active" || sub.str("phoneNumber") != portingNumber {
			t.Fatalf("subscription %s with %s, want active with %s", sub.str("status"), sub.str("phoneNumber"), portingNumber)
		}
		assertNoPin(t, all, pin, correctedPin)
		golden(t, "porting_completed", all)
	})
}

func TestPortingCanceled(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		details := fullDetails(pin)
		details["phoneNumber"], details["user"], details["provider"] = portingNumber, s.user, "p9"
		details["donorProvider"], details["accountNumber"], details["firstName"] = s.att, "ACC-1001", "Jerry"
		id := e.json("POST", "/projects/dev/portings", details, 201).str("id")
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": id}, 201)
		all := e.expectTypes("com.gigs.porting.created", "com.gigs.porting.updated", "com.gigs.subscription.created")

		if got := e.json("POST", "/projects/dev/portings/"+id+"/cancel", nil, 200).str("status"); got != "canceled" {
			t.Fatalf("status after cancel %q, want canceled", got)
		}
		all = append(all, e.expectTypes("com.gigs.porting.canceled", "com.gigs.porting.updated",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")...)
		assertPortingInPreviousData(t, all)

		// Nothing more may happen to it, and a refusal emits nothing.
		e.expectError("POST", "/projects/dev/portings/"+id+"/cancel", nil, 409, "conflict", "portingAlreadyCanceled")
		e.expectError("DELETE", "/projects/dev/portings/"+id, nil, 409, "conflict", "portingNotDeletable")
		e.expectError("PATCH", "/projects/dev/portings/"+id, obj{"firstName": "J"}, 409, "conflict", "portingNotUpdatable")
		e.expectTypes()

		ended := e.json("GET", "/projects/dev/subscriptions/"+sub.str("id"), nil, 200)
		if ended.str("status") != "ended" || obj(ended["cancellationDetails"].(map[string]any)).str("cause") != "cancellationRequested" {
			t.Fatalf("subscription after porting cancel: %s %v", ended.str("status"), ended["cancellationDetails"])
		}
		assertNoPin(t, all, pin)
		golden(t, "porting_canceled", all)
	})
}

func TestDraftPortingDeleted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		id := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9"}, 201).str("id")
		// A second open porting for the same number is refused.
		e.expectError("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9"},
			409, "conflict", "portingAlreadyExists")
		e.expectError("POST", "/projects/dev/portings/"+id+"/cancel", nil, 409, "conflict", "portingNotCancelable")
		e.json("DELETE", "/projects/dev/portings/"+id, nil, 200)
		e.expectError("GET", "/projects/dev/portings/"+id, nil, 404, "notFound", "portingNotFound")
		all := e.expectTypes("com.gigs.porting.created", "com.gigs.porting.deleted")

		// A forgotten draft is deleted by the clock after 30 days.
		e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9"}, 201)
		e.advance(31 * 24 * 3600)
		all = append(all, e.expectTypes("com.gigs.porting.created", "com.gigs.porting.deleted")...)
		golden(t, "porting_deleted", all)
	})
}

func TestPortingExpiredEndsSubscription(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		id := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
			"donorProvider": s.att, "accountNumber": "ACC-1001", "firstName": "Jerry"}, 201).str("id")
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": id}, 201).str("id")
		all := e.expectTypes("com.gigs.porting.created", "com.gigs.porting.informationRequired",
			"com.gigs.porting.updated", "com.gigs.subscription.created")

		e.advance(29 * 24 * 3600) // not yet
		e.expectTypes()
		e.advance(2 * 24 * 3600)
		all = append(all, e.expectTypes("com.gigs.porting.expired", "com.gigs.porting.updated",
			"com.gigs.subscription.ended", "com.gigs.subscription.updated", "com.gigs.sim.retired", "com.gigs.sim.updated")...)
		assertPortingInPreviousData(t, all)

		ended := e.json("GET", "/projects/dev/subscriptions/"+sub, nil, 200)
		if obj(ended["cancellationDetails"].(map[string]any)).str("cause") != "portingExpired" {
			t.Fatalf("cancellationDetails %v, want cause portingExpired", ended["cancellationDetails"])
		}
		golden(t, "porting_expired", all)
	})
}

func TestSubscriptionCanceledResumedRenewedEnded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201)
		id := sub.str("id")
		if sub.str("status") != "active" {
			t.Fatalf("subscription without porting is %s, want active", sub.str("status"))
		}
		all := e.expectTypes("com.gigs.subscription.created", "com.gigs.subscription.activated", "com.gigs.subscription.updated",
			"com.gigs.sim.updated")

		canceled := e.json("POST", "/projects/dev/subscriptions/"+id+"/cancel", obj{"immediately": false, "userReason": "tooExpensive"}, 200)
		period := obj(canceled["currentPeriod"].(map[string]any))
		if canceled.str("status") != "active" || canceled.str("endedAt") != period.str("end") {
			t.Fatalf("canceled at period end: status %s endedAt %s, want active until %s", canceled.str("status"), canceled.str("endedAt"), period.str("end"))
		}
		all = append(all, e.expectTypes("com.gigs.subscription.canceled", "com.gigs.subscription.updated")...)
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/cancel", obj{}, 409, "conflict", "subscriptionAlreadyCanceled")

		resumed := e.json("POST", "/projects/dev/subscriptions/"+id+"/resume", nil, 200)
		if resumed["endedAt"] != nil || resumed["canceledAt"] != nil || resumed["cancellationDetails"] != nil {
			t.Fatalf("resumed subscription still canceled: %v", resumed)
		}
		all = append(all, e.expectTypes("com.gigs.subscription.resumed", "com.gigs.subscription.updated")...)
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/resume", nil, 409, "conflict", "subscriptionNotResumable")

		e.advance(31 * 24 * 3600)
		all = append(all, e.expectTypes("com.gigs.subscription.renewed", "com.gigs.subscription.updated")...)
		renewed := obj(e.json("GET", "/projects/dev/subscriptions/"+id, nil, 200)["currentPeriod"].(map[string]any))
		if renewed["number"] != float64(2) || renewed.str("start") != period.str("end") {
			t.Fatalf("renewed period %v, want number 2 starting %s", renewed, period.str("end"))
		}

		e.json("POST", "/projects/dev/subscriptions/"+id+"/cancel", obj{"userReason": "other", "userComment": "Moving abroad"}, 200)
		all = append(all, e.expectTypes("com.gigs.subscription.canceled", "com.gigs.subscription.updated")...)
		e.advance(30 * 24 * 3600)
		all = append(all, e.expectTypes("com.gigs.subscription.ended", "com.gigs.subscription.updated",
			"com.gigs.sim.retired", "com.gigs.sim.updated")...)
		if got := e.json("GET", "/projects/dev/subscriptions/"+id, nil, 200).str("status"); got != "ended" {
			t.Fatalf("status after scheduled end %s, want ended", got)
		}
		golden(t, "subscription_resumed_renewed_ended", all)
	})
}

func TestSubscriptionCanceledImmediatelyAndPortOut(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		id := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		all := e.expectTypes("com.gigs.subscription.created", "com.gigs.subscription.activated", "com.gigs.subscription.updated",
			"com.gigs.sim.updated")

		creds := e.json("POST", "/projects/dev/subscriptions/"+id+"/portOutCredentials", nil, 201)
		shownPin := creds.str("accountPin")
		if len(shownPin) != 6 || creds.str("subscription") != id || creds.str("expiresAt") == "" {
			t.Fatalf("issued credentials %v, want a 6-digit PIN for %s", creds, id)
		}
		issued := e.expectTypes("com.gigs.portOutCredentials.issued")
		assertNoPin(t, issued, shownPin)
		var data struct {
			Data map[string]any `json:"data"`
		}
		if err := jsonUnmarshal(issued[0].Raw, &data); err != nil || data.Data["accountPin"] != nil {
			t.Fatalf("event accountPin = %v, want null", data.Data["accountPin"])
		}
		all = append(all, issued...)

		ended := e.json("POST", "/projects/dev/subscriptions/"+id+"/cancel", obj{"immediately": true, "userReason": "unused"}, 200)
		if ended.str("status") != "ended" || ended.str("endedAt") != ended.str("canceledAt") {
			t.Fatalf("canceled immediately: %s ended %s canceled %s", ended.str("status"), ended.str("endedAt"), ended.str("canceledAt"))
		}
		all = append(all, e.expectTypes("com.gigs.subscription.canceled", "com.gigs.subscription.ended", "com.gigs.subscription.updated",
			"com.gigs.sim.retired", "com.gigs.sim.updated")...)
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/resume", nil, 409, "conflict", "subscriptionNotResumable")
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/cancel", obj{"immediately": true}, 409, "conflict", "subscriptionNotCancelable")
		e.expectError("POST", "/projects/dev/subscriptions/"+id+"/portOutCredentials", nil, 409, "conflict", "subscriptionNotActive")
		e.expectTypes()
		golden(t, "subscription_canceled_immediately", all)
	})
}

// assertPortingInPreviousData checks that every subscription.updated that
// follows a porting's change (in the same request) carries the porting's
// previous state in previousData.porting: the status the porting had
// before the change, read before it was saved.
func assertPortingInPreviousData(t *testing.T, events []event) {
	t.Helper()
	for i, ev := range events {
		if ev.Type != "com.gigs.subscription.updated" || i == 0 || !strings.HasPrefix(events[i-1].Type, "com.gigs.porting.") &&
			!strings.HasPrefix(events[i-1].Type, "com.gigs.subscription.") {
			continue
		}
		var body struct {
			Data struct {
				Porting *struct{ Status string } `json:"porting"`
			} `json:"data"`
			PreviousData map[string]json.RawMessage `json:"previousData"`
		}
		if err := json.Unmarshal(ev.Raw, &body); err != nil {
			t.Fatal(err)
		}
		// Find the porting.updated of the same change: its previousData
		// names what the porting was.
		var portingPrev map[string]json.RawMessage
		for j := i - 1; j >= 0 && strings.HasPrefix(events[j].Type, "com.gigs."); j-- {
			if events[j].Type == "com.gigs.porting.updated" {
				var p struct {
					PreviousData map[string]json.RawMessage `json:"previousData"`
				}
				if err := json.Unmarshal(events[j].Raw, &p); err != nil {
					t.Fatal(err)
				}
				portingPrev = p.PreviousData
				break
			}
			if events[j].Type == "com.gigs.subscription.updated" {
				break
			}
		}
		if portingPrev == nil || body.Data.Porting == nil {
			continue
		}
		raw, ok := body.PreviousData["porting"]
		if !ok {
			t.Fatalf("subscription.updated %s after a porting change lacks previousData.porting: %s", ev.ID, ev.Raw)
		}
		var prev struct{ Status string }
		if err := json.Unmarshal(raw, &prev); err != nil {
			t.Fatal(err)
		}
		if st, changed := portingPrev["status"]; changed && `"`+prev.Status+`"` != string(st) {
			t.Fatalf("subscription.updated %s: previousData.porting.status %q, want %s", ev.ID, prev.Status, st)
		}
		if prev.Status == body.Data.Porting.Status && portingPrev["status"] != nil {
			t.Fatalf("subscription.updated %s: previous porting status equals the new one", ev.ID)
		}
	}
}

// expectError checks that a request fails with the platform's error object.
func (e *env) expectError(method, path string, body any, status int, typ, code string, headers ...string) {
	e.t.Helper()
	var got struct {
		Object, Type, Code, Message string
	}
	if err := jsonUnmarshal(e.call(method, path, body, status, headers...), &got); err != nil {
		e.t.Fatalf("%s %s: decode error: %v", method, path, err)
	}
	if got.Object != "error" || got.Type != typ || got.Code != code || got.Message == "" {
		e.t.Fatalf("%s %s: error %+v, want type %s code %s", method, path, got, typ, code)
	}
}

func TestPortingTimeoutIsConfigurable(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b, func(c *server.Config) { c.PortingTimeout = 2 * time.Hour })
		s := e.setup()
		id := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9"}, 201).str("id")
		e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": id}, 201)
		e.newEvents()
		e.advance(3600)
		e.expectTypes()
		e.advance(3600)
		e.expectTypes("com.gigs.porting.expired", "com.gigs.porting.updated", "com.gigs.subscription.ended", "com.gigs.subscription.updated",
			"com.gigs.sim.retired", "com.gigs.sim.updated")
	})
}

// TestCancelAtPeriodEndRespectsMinimumPeriods: a plan with a minimum of
// twelve weekly periods canceled in its first week ends at the earliest end.
func TestCancelAtPeriodEndRespectsMinimumPeriods(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan}, 201)
		period := obj(sub["currentPeriod"].(map[string]any))
		start, _ := time.Parse(time.RFC3339, period.str("start"))
		end, _ := time.Parse(time.RFC3339, period.str("end"))
		earliest, _ := time.Parse(time.RFC3339, sub.str("earliestEndAt"))
		if end.Sub(start) != 7*24*time.Hour || earliest.Sub(start) != 12*7*24*time.Hour {
			t.Fatalf("period %s–%s, earliest end %s: want a week and twelve weeks", start, end, earliest)
		}
		canceled := e.json("POST", "/projects/dev/subscriptions/"+sub.str("id")+"/cancel", obj{}, 200)
		if canceled.str("endedAt") != sub.str("earliestEndAt") {
			t.Fatalf("endedAt %s, want the earliest end %s", canceled.str("endedAt"), sub.str("earliestEndAt"))
		}
	})
}
