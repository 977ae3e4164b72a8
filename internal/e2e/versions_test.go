package e2e

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// everyEventType drives the API until every event type the platform emits
// has fired at least once, and returns the events, oldest first.
func (e *env) everyEventType() []event {
	e.t.Helper()
	var all []event
	keep := func() { all = append(all, e.newEvents()...) }

	s := e.setup() // its user's event is discarded; its plans and AT&T serve
	u := e.json("POST", "/projects/dev/users", obj{"email": "george@example.com", "fullName": "George Costanza",
		"birthday": "1959-04-25"}, 201).str("id")
	e.json("PATCH", "/projects/dev/users/"+u, obj{"fullName": "George Louis Costanza"}, 200)
	s.user = u
	e.json("POST", "/projects/dev/apiKeys", obj{"name": "CI"}, 201)
	keep()

	// A draft, updated and deleted.
	draft := e.json("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": u, "provider": "p9"}, 201).str("id")
	e.json("PATCH", "/projects/dev/portings/"+draft, obj{"accountNumber": "ACC-1001"}, 200)
	e.json("DELETE", "/projects/dev/portings/"+draft, nil, 200)

	// A porting that needs information, is requested, declined, corrected
	// and completed: its subscription activates, its SIM too.
	prt := e.draftPorting(s, portingNumber, "accountPin")
	e.json("POST", "/projects/dev/subscriptions", obj{"user": u, "plan": s.plan, "porting": prt}, 201)
	e.json("PATCH", "/projects/dev/portings/"+prt, obj{"accountPin": pin}, 200)
	e.simulate(prt, "request")
	e.simulate(prt, "decline", "declinedCode", "portingAccountPinRequiredOrInvalid")
	e.json("PATCH", "/projects/dev/portings/"+prt, obj{"accountPin": correctedPin}, 200)
	e.simulate(prt, "request")
	e.simulate(prt, "complete")

	// A porting canceled (its subscription ends, its SIM retires) and one
	// that expires.
	canceled := e.draftPorting(s, "+12015550140")
	e.json("POST", "/projects/dev/subscriptions", obj{"user": u, "plan": s.plan, "porting": canceled}, 201)
	e.json("POST", "/projects/dev/portings/"+canceled+"/cancel", nil, 200)
	expired := e.draftPorting(s, "+12015550141")
	e.json("POST", "/projects/dev/subscriptions", obj{"user": u, "plan": s.plan, "porting": expired}, 201)
	e.simulate(expired, "expire")
	keep()

	// A subscription canceled at its period's end, resumed, renewed, given
	// port-out credentials; then the user is deleted.
	sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": u, "plan": s.monthlyPlan}, 201).str("id")
	e.json("POST", "/projects/dev/subscriptions/"+sub+"/cancel", obj{"userReason": "unused"}, 200)
	e.json("POST", "/projects/dev/subscriptions/"+sub+"/resume", nil, 200)
	e.advance(31 * 24 * 3600)
	e.json("POST", "/projects/dev/subscriptions/"+sub+"/portOutCredentials", nil, 201)
	e.json("DELETE", "/projects/dev/users/"+u, nil, 200)
	keep()
	return all
}

// TestEveryEventTypeInEveryVersion renders the first event of every type
// in every supported version and compares each with its golden file,
// testdata/versions/<version>/<type>.json. Every type the platform emits
// must have fired. 2024-12-20 renders as 2024-10-28 does, 2025-05-22 adds
// actor right after id, and the data is the same in every version.
func TestEveryEventTypeInEveryVersion(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		// An endpoint may be pinned to 2024-12-20 like any version.
		ep := e.json("POST", "/projects/dev/webhookEndpoints", obj{"url": "http://127.0.0.1:9/hooks",
			"version": switchboard.Version20241220}, 201)
		if ep.str("version") != switchboard.Version20241220 {
			t.Fatalf("endpoint version %q", ep.str("version"))
		}
		e.expectError("GET", "/projects/dev/events?version=2024-12-21", nil, 422, "invalid", "invalidVersion")
		first := map[string]event{}
		for _, ev := range e.everyEventType() {
			if _, ok := first[ev.Type]; !ok {
				first[ev.Type] = ev
			}
		}
		for _, typ := range switchboard.EventTypes {
			if _, ok := first[typ]; !ok {
				t.Errorf("no %s event fired", typ)
			}
		}
		for typ := range first {
			if !slices.Contains(switchboard.EventTypes, typ) {
				t.Errorf("%s fired but is not in switchboard.EventTypes", typ)
			}
		}
		for _, typ := range switchboard.EventTypes {
			ev, ok := first[typ]
			if !ok {
				continue
			}
			rendered := map[string][]byte{}
			for _, v := range switchboard.Versions {
				raw := e.call("GET", "/projects/dev/events/"+ev.ID+"?version="+v, nil, 200)
				rendered[v] = raw
				golden(t, filepath.Join("versions", v, typ), []event{{Type: typ, ID: ev.ID, Raw: raw}})
				parsed, err := switchboard.Parse(raw)
				if err != nil || parsed.Resource == nil || parsed.Version != v {
					t.Errorf("%s in %s: Parse: %v (resource %T, version %q)", typ, v, err, parsed.Resource, parsed.Version)
				}
			}
			older := rendered[switchboard.Version20241028]
			if got := bytes.Replace(rendered[switchboard.Version20241220], []byte(`"version":"2024-12-20"`), []byte(`"version":"2024-10-28"`), 1); !bytes.Equal(got, older) {
				t.Errorf("%s: 2024-12-20 differs from 2024-10-28 beyond its version:\n%s\n%s", typ, got, older)
			}
			newest := string(rendered[switchboard.Version20250522])
			if !strings.HasPrefix(newest, `{"object":"event","id":"`+ev.ID+`","actor":{`) {
				t.Errorf("%s in 2025-05-22: actor is not right after id: %.120s", typ, newest)
			}
			if strings.Contains(string(older), `"actor"`) {
				t.Errorf("%s in 2024-10-28 has an actor", typ)
			}
			var a, b struct{ Data json.RawMessage }
			if json.Unmarshal(rendered[switchboard.Version20240829], &a) != nil || json.Unmarshal([]byte(newest), &b) != nil ||
				!bytes.Equal(a.Data, b.Data) {
				t.Errorf("%s: data differs between versions", typ)
			}
		}
	})
}
