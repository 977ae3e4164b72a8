package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// eventSchemas validates the events the tests see, in every version.
var eventSchemas *contracttest.Events

// rendered records the event types and versions the tests validated.
var rendered = &coverage{seen: map[string]bool{}}

type coverage struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *coverage) add(typ, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[typ+" "+version] = true
}

// missing lists the event types and versions no test rendered.
func (c *coverage) missing(exempt []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, typ := range switchboard.EventTypes {
		if slices.Contains(exempt, typ) {
			continue
		}
		for _, v := range switchboard.Versions {
			if !c.seen[typ+" "+v] {
				out = append(out, typ+" "+v)
			}
		}
	}
	return out
}

// TestMain compiles the event schemas once and, after a full run, checks
// that the tests rendered every event type in every version, each
// validated against its schema.
func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if eventSchemas, err = contracttest.NewEvents(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	full := flag.Lookup("test.run").Value.String() == "" && !testing.Short()
	if code == 0 && full {
		if ops := contracttest.Unexercised(); len(ops) > 0 && testing.Verbose() {
			fmt.Fprintf(os.Stderr, "contract: operations no end-to-end test received a response of: %s\n", strings.Join(ops, ", "))
		}
		if miss := rendered.missing(nil); len(miss) > 0 {
			fmt.Fprintf(os.Stderr, "contract: no test rendered and validated these event types and versions:\n  %s\n",
				strings.Join(miss, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// TestUserUpdated updates a user: its events, like every other, are
// validated against their schemas in every version, and the update's
// previousData holds exactly the fields that changed.
func TestUserUpdated(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		id := e.json("POST", "/projects/dev/users", obj{"email": "elaine@example.com", "fullName": "Elaine Benes"}, 201).str("id")
		e.json("PATCH", "/projects/dev/users/"+id, obj{"fullName": "Elaine Marie Benes"}, 200)
		evs := e.expectTypes("com.gigs.user.created", "com.gigs.user.updated")
		var updated struct {
			PreviousData map[string]any `json:"previousData"`
		}
		if err := json.Unmarshal(evs[1].Raw, &updated); err != nil {
			t.Fatal(err)
		}
		if len(updated.PreviousData) != 1 || updated.PreviousData["fullName"] != "Elaine Benes" {
			t.Errorf("previousData %v, want the old fullName only", updated.PreviousData)
		}
	})
}

// TestAPIKeyCreated creates an API key: its event, validated in every
// version, shows the token redacted, never whole.
func TestAPIKeyCreated(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		e.newEvents()
		token := e.json("POST", "/projects/dev/apiKeys", obj{"name": "ci"}, 201).str("token")
		evs := e.expectTypes("com.gigs.apiKey.created")
		if token == "" || strings.Contains(string(evs[0].Raw), token) {
			t.Errorf("the event shows the whole token %q: %s", token, evs[0].Raw)
		}
	})
}

// TestOperationsAnswerAsDocumented calls the operations the lifecycle
// scenarios leave out — projects, API keys, the catalog's reads, the test
// clock, webhook endpoints, deliveries and their repair — with the operator
// key and a project key, so that their answers, successes and refusals,
// are validated against the OpenAPI document too.
func TestOperationsAnswerAsDocumented(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const admin = "sk_admin_e2e_operations"
		e := start(t, b, func(c *server.Config) { c.AdminKey = admin })
		op := []string{"Authorization", "Bearer " + admin}
		decode := func(b []byte) obj {
			t.Helper()
			var o obj
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			return o
		}

		// Projects: the operator's.
		e.call("POST", "/projects", obj{"id": "acme", "name": "Acme", "mode": "live"}, 201, op...)
		e.call("GET", "/projects?limit=5", nil, 200, op...)
		e.call("PATCH", "/projects/acme", obj{"name": "Acme Inc"}, 200, op...)
		e.call("GET", "/projects/dev", nil, 200)
		e.expectError("POST", "/projects", obj{"id": "other", "name": "Other", "mode": "test"}, 403, "permissionDenied", "operatorKeyRequired")
		e.expectError("GET", "/projects/acme/simulator/clock", nil, 403, "permissionDenied", "testModeOnly", op...)
		e.call("GET", "/projects/dev/simulator/clock", nil, 200)

		// API keys.
		key := e.json("POST", "/projects/dev/apiKeys", obj{"name": "ci"}, 201).str("id")
		e.call("GET", "/projects/dev/apiKeys", nil, 200)
		e.call("GET", "/projects/dev/apiKeys/"+key, nil, 200)
		e.call("DELETE", "/projects/dev/apiKeys/"+key, nil, 200)

		// The catalog's reads, and a subscription with a SIM to read.
		s := e.setup()
		e.call("GET", "/projects/dev/plans/"+s.plan, nil, 200)
		e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan}, 201)
		e.call("GET", "/projects/dev/subscriptions?status=active", nil, 200)
		sims := e.json("GET", "/projects/dev/sims", nil, 200)
		items, _ := sims["items"].([]any)
		if len(items) == 0 {
			t.Fatal("no SIM listed after a subscription activated")
		}
		e.call("GET", "/projects/dev/sims/"+obj(items[0].(map[string]any)).str("id"), nil, 200)
		e.expectError("GET", "/projects/dev/sims/sim_missing", nil, 404, "notFound", "simNotFound")

		// Webhook endpoints, their deliveries and their repair.
		ep := e.json("POST", "/projects/dev/webhookEndpoints", obj{"url": "http://127.0.0.1:9/hook",
			"enabledEvents": []string{"com.gigs.user.*"}}, 201).str("id")
		e.call("GET", "/projects/dev/webhookEndpoints/"+ep, nil, 200)
		e.call("PATCH", "/projects/dev/webhookEndpoints/"+ep, obj{"description": "contract test", "rateLimit": nil}, 200)
		e.call("POST", "/projects/dev/webhookEndpoints/"+ep+"/rotateSecret", nil, 200)
		e.json("POST", "/projects/dev/users", obj{"email": "george@example.com"}, 201)
		var evID string
		for _, ev := range e.newEvents() {
			if ev.Type == "com.gigs.user.created" {
				evID = ev.ID
			}
		}
		if evID == "" {
			t.Fatal("no user.created event")
		}
		e.call("GET", "/projects/dev/events/"+evID+"/deliveries", nil, 200)
		e.call("GET", "/projects/dev/webhookEndpoints/"+ep+"/deliveries", nil, 200)
		e.call("POST", "/projects/dev/events/"+evID+"/resend", obj{"endpoint": ep}, 200)
		since := decode(e.call("GET", "/projects/dev/simulator/clock", nil, 200)).str("time")
		e.call("POST", "/projects/dev/webhookEndpoints/"+ep+"/recover", obj{"since": since}, 200)
		e.call("DELETE", "/projects/dev/webhookEndpoints/"+ep, nil, 200)
		e.expectError("GET", "/projects/dev/webhookEndpoints/"+ep, nil, 404, "notFound", "webhookEndpointNotFound")
	})
}
