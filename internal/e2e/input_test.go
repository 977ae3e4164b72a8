package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestBadInputChangesNothing sends requests that must fail with the
// platform's error object and checks that none of them wrote anything.
func TestBadInputChangesNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		prt := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9"}, 201).str("id")
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		e.newEvents()

		otherKey, err := e.srv.NewAPIKey(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		valid := func(change obj) obj {
			p := obj{"phoneNumber": "+12015550199", "user": s.user, "provider": "p9"}
			for k, v := range change {
				p[k] = v
			}
			return p
		}
		tests := []struct {
			name         string
			method, path string
			body         any
			key          string
			status       int
			typ, code    string
		}{
			{"no key", "GET", "/projects/dev/portings", nil, "-", 401, "unauthenticated", "unauthenticated"},
			{"wrong key", "GET", "/projects/dev/portings", nil, "sk_nope", 401, "unauthenticated", "invalidApiKey"},
			{"other project's path", "GET", "/projects/other/portings", nil, "", 404, "notFound", "projectNotFound"},
			{"other project's key", "GET", "/projects/dev/portings/" + prt, nil, otherKey, 404, "notFound", "projectNotFound"},
			{"other project's porting", "GET", "/projects/other/portings/" + prt, nil, otherKey, 404, "notFound", "portingNotFound"},
			{"malformed JSON", "POST", "/projects/dev/portings", `{"phoneNumber": `, "", 400, "malformed", "malformedJson"},
			{"not an object", "POST", "/projects/dev/portings", `[1,2]`, "", 400, "malformed", "malformedBody"},
			{"trailing data", "POST", "/projects/dev/users", `{"email":"a@example.com"} {}`, "", 400, "malformed", "malformedJson"},
			{"unknown field", "POST", "/projects/dev/portings", valid(obj{"colour": "red"}), "", 422, "invalid", "unknownField"},
			{"wrong type", "POST", "/projects/dev/portings", valid(obj{"phoneNumber": 14155552671}), "", 422, "invalid", "invalidType"},
			{"not E.164", "POST", "/projects/dev/portings", valid(obj{"phoneNumber": "415-555-2671"}), "", 422, "invalid", "invalidPhoneNumber"},
			{"invalid number", "POST", "/projects/dev/portings", valid(obj{"phoneNumber": "+19591234567"}), "", 422, "invalid", "invalidPhoneNumber"},
			{"unknown country", "POST", "/projects/dev/portings", valid(obj{"address": obj{"line1": "1 Main St", "city": "X", "postalCode": "10024", "country": "XX"}}), "", 422, "invalid", "invalidCountry"},
			{"birthday not a date", "POST", "/projects/dev/portings", valid(obj{"birthday": "1954-13-01"}), "", 422, "invalid", "invalidDate"},
			{"pin not digits", "POST", "/projects/dev/portings", valid(obj{"accountPin": "12ab"}), "", 422, "invalid", "invalidAccountPin"},
			{"unknown user", "POST", "/projects/dev/portings", valid(obj{"user": "usr_0000000000000000000000000000"}), "", 404, "notFound", "userNotFound"},
			{"unknown provider", "POST", "/projects/dev/portings", valid(obj{"provider": "p7"}), "", 404, "notFound", "portingProviderNotFound"},
			{"unknown donor", "POST", "/projects/dev/portings", valid(obj{"donorProvider": "svp_0000000000000000000000"}), "", 404, "notFound", "portingDonorProviderNotFound"},
			{"missing field", "POST", "/projects/dev/portings", obj{"user": s.user, "provider": "p9"}, "", 422, "invalid", "fieldRequired"},
			{"unknown plan", "POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": "pln_0000000000000000000000000000"}, "", 404, "notFound", "planNotFound"},
			{"porting in use", "POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan, "porting": prt + "x"}, "", 404, "notFound", "portingNotFound"},
			{"bad user reason", "POST", "/projects/dev/subscriptions/" + sub + "/cancel", obj{"userReason": "bored"}, "", 422, "invalid", "invalidValue"},
			{"comment without other", "POST", "/projects/dev/subscriptions/" + sub + "/cancel", obj{"userReason": "unused", "userComment": "x"}, "", 422, "invalid", "invalidUserComment"},
			{"limit too large", "GET", "/projects/dev/portings?limit=201", nil, "", 422, "invalid", "invalidLimit"},
			{"limit zero", "GET", "/projects/dev/events?limit=0", nil, "", 422, "invalid", "invalidLimit"},
			{"after and before", "GET", "/projects/dev/events?after=a&before=b", nil, "", 422, "invalid", "invalidPagination"},
			{"unknown version", "GET", "/projects/dev/events?version=2020-01-01", nil, "", 422, "invalid", "invalidVersion"},
			{"bad email", "POST", "/projects/dev/users", obj{"email": "jerry"}, "", 422, "invalid", "invalidEmail"},
			{"duplicate email", "POST", "/projects/dev/users", obj{"email": "jerry@example.com"}, "", 409, "conflict", "userAlreadyExists"},
			{"unknown simulate action", "POST", "/projects/dev/portings/" + prt + "/simulate", obj{"action": "explode"}, "", 422, "invalid", "invalidValue"},
			{"unknown decline code", "POST", "/projects/dev/portings/" + prt + "/simulate", obj{"action": "decline", "declinedCode": "nope"}, "", 422, "invalid", "invalidDeclinedCode"},
			{"clock backwards", "POST", "/projects/dev/simulator/clock/advance", obj{"seconds": -5}, "", 422, "invalid", "invalidValue"},
			{"unknown route", "GET", "/projects/dev/nothing", nil, "", 404, "notFound", "routeNotFound"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				saved := e.key
				defer func() { e.key = saved }()
				switch tt.key {
				case "-":
					e.key = ""
				case "":
				default:
					e.key = tt.key
				}
				e.t = t
				e.expectError(tt.method, tt.path, tt.body, tt.status, tt.typ, tt.code)
			})
		}
		e.t = t
		e.expectTypes() // nothing was recorded
	})
}

// TestIdempotencyKey checks that a retried POST returns the first response
// and changes nothing, and that reusing a key for another body conflicts.
func TestIdempotencyKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		body := obj{"email": "elaine@example.com"}
		first := e.call("POST", "/projects/dev/users", body, 201, "Idempotency-Key", "k1")
		again := e.call("POST", "/projects/dev/users", body, 201, "Idempotency-Key", "k1")
		if string(first) != string(again) {
			t.Fatalf("retry answered %s, want the first response %s", again, first)
		}
		e.expectTypes("com.gigs.user.created")
		e.expectError("POST", "/projects/dev/users", obj{"email": "george@example.com"}, 409, "conflict", "idempotencyKeyReused", "Idempotency-Key", "k1")
		// A failed request's answer is replayed too: the failure was final.
		bad := obj{"email": "nope"}
		e.call("POST", "/projects/dev/users", bad, 422, "Idempotency-Key", "k2")
		e.call("POST", "/projects/dev/users", bad, 422, "Idempotency-Key", "k2")
		e.expectTypes()
	})
}

// TestEventsVersionsAndPagination reads events in each version and pages
// through them both ways.
func TestEventsVersionsAndPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		for i := range 5 {
			e.json("POST", "/projects/dev/users", obj{"email": "user" + string(rune('a'+i)) + "@example.com"}, 201)
		}
		events := e.newEvents()
		if len(events) != 5 {
			t.Fatalf("got %d events, want 5", len(events))
		}
		id := events[0].ID
		for _, tt := range []struct {
			version   string
			wantActor bool
		}{{"2024-08-29", false}, {"2024-10-28", false}, {"2025-05-22", true}, {"", true}} {
			var ev map[string]json.RawMessage
			path := "/projects/dev/events/" + id
			if tt.version != "" {
				path += "?version=" + tt.version
			}
			if err := json.Unmarshal(e.call("GET", path, nil, 200), &ev); err != nil {
				t.Fatal(err)
			}
			_, hasActor := ev["actor"]
			if hasActor != tt.wantActor {
				t.Errorf("version %q: actor present %v, want %v", tt.version, hasActor, tt.wantActor)
			}
			if tt.wantActor && !strings.Contains(string(ev["actor"]), `"type":"apiKey","apiKey":"apk_`) {
				t.Errorf("actor %s, want the API key", ev["actor"])
			}
			want := tt.version
			if want == "" {
				want = "2025-05-22"
			}
			if string(ev["version"]) != `"`+want+`"` {
				t.Errorf("version field %s, want %s", ev["version"], want)
			}
		}
		page1 := e.json("GET", "/projects/dev/events?limit=2", nil, 200)
		if page1["moreItemsBefore"] != nil || page1.str("moreItemsAfter") != events[3].ID {
			t.Fatalf("first page cursors %v / %v, want none / %s", page1["moreItemsBefore"], page1["moreItemsAfter"], events[3].ID)
		}
		page2 := e.json("GET", "/projects/dev/events?limit=2&after="+page1.str("moreItemsAfter"), nil, 200)
		items := page2["items"].([]any)
		if len(items) != 2 || obj(items[0].(map[string]any)).str("id") != events[2].ID || page2.str("moreItemsBefore") != events[2].ID {
			t.Fatalf("second page %v", page2)
		}
		back := e.json("GET", "/projects/dev/events?limit=2&before="+page2.str("moreItemsBefore"), nil, 200)
		if items := back["items"].([]any); len(items) != 2 || obj(items[0].(map[string]any)).str("id") != events[4].ID {
			t.Fatalf("page before %v", back)
		}
		filtered := e.json("GET", "/projects/dev/events?type=com.gigs.porting.created", nil, 200)
		if n := len(filtered["items"].([]any)); n != 0 {
			t.Fatalf("type filter returned %d events, want 0", n)
		}
		user := obj(e.json("GET", "/projects/dev/events/"+events[2].ID, nil, 200)["data"].(map[string]any)).str("id")
		one := e.json("GET", "/projects/dev/events?resource="+user, nil, 200)["items"].([]any)
		if len(one) != 1 || obj(one[0].(map[string]any)).str("id") != events[2].ID {
			t.Fatalf("resource filter %s returned %v, want only %s", user, one, events[2].ID)
		}
	})
}

// TestIdempotentRetryDoesNotShowSecretsAgain checks that a retried request
// whose first response showed a secret is not replayed: the retry learns
// that the request succeeded, and nothing happens twice.
func TestIdempotentRetryDoesNotShowSecretsAgain(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.monthlyPlan}, 201).str("id")
		e.newEvents()
		path := "/projects/dev/subscriptions/" + sub + "/portOutCredentials"
		first := e.call("POST", path, nil, 201, "Idempotency-Key", "creds-1")
		var creds obj
		if err := json.Unmarshal(first, &creds); err != nil || len(creds.str("accountPin")) != 6 {
			t.Fatalf("first response %s, want credentials with a PIN", first)
		}
		e.expectError("POST", path, nil, 409, "conflict", "idempotentSecretNotReplayed", "Idempotency-Key", "creds-1")
		e.expectTypes("com.gigs.portOutCredentials.issued")

		endpoint := obj{"url": "https://example.com/hooks"}
		created := e.json("POST", "/projects/dev/webhookEndpoints", endpoint, 201)
		if !strings.HasPrefix(created.str("secret"), "whsec_") {
			t.Fatalf("endpoint created without its secret: %v", created)
		}
		e.call("POST", "/projects/dev/webhookEndpoints", endpoint, 201, "Idempotency-Key", "ep-1")
		e.expectError("POST", "/projects/dev/webhookEndpoints", endpoint, 409, "conflict", "idempotentSecretNotReplayed", "Idempotency-Key", "ep-1")
		list := e.json("GET", "/projects/dev/webhookEndpoints", nil, 200)
		if n := len(list["items"].([]any)); n != 2 {
			t.Fatalf("%d endpoints, want 2 (one per key)", n)
		}
		if bytes.Contains(e.call("GET", "/projects/dev/webhookEndpoints", nil, 200), []byte("whsec_")) {
			t.Fatal("the endpoint list shows a secret")
		}
	})
}
