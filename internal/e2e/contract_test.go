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
