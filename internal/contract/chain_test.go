package contract_test

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
)

// TestSchemasFollowTheVersionChain adds a version change that drops a data
// field below a version, as a future version might, and checks that the
// schemas follow the renderer: without the field below it, with it from it
// on. The schemas read the chain by rendering through it, so nothing else
// has to change when a version is added.
func TestSchemasFollowTheVersionChain(t *testing.T) {
	// Build the published files first: they are cached, and must not see
	// the test's chain.
	if _, err := contract.Files(); err != nil {
		t.Fatal(err)
	}
	saved := eventlog.Changes
	t.Cleanup(func() { eventlog.Changes = saved })
	drop := eventlog.VersionChange{
		Version:     switchboard.Version20241028,
		Description: "test: portings gain declinedMessage",
		Down: func(e *eventlog.Envelope) {
			var m map[string]json.RawMessage
			if json.Unmarshal(e.Data, &m) == nil {
				delete(m, "declinedMessage")
				e.Data, _ = json.Marshal(m)
			}
		},
	}
	eventlog.Changes = append([]eventlog.VersionChange{saved[0], drop}, saved[1:]...)

	has := func(version string) bool {
		t.Helper()
		s, err := contract.EventSchema(switchboard.TypePortingDeclined, version)
		if err != nil {
			t.Fatal(err)
		}
		ref := s["properties"].(map[string]any)["data"].(map[string]any)["$ref"].(string)
		def := s["$defs"].(map[string]any)[ref[len("#/$defs/"):]].(map[string]any)
		_, ok := def["properties"].(map[string]any)["declinedMessage"]
		return ok
	}
	for v, want := range map[string]bool{
		switchboard.Version20240829: false,
		switchboard.Version20241028: true,
		switchboard.Version20250522: true,
	} {
		if got := has(v); got != want {
			t.Errorf("%s: declinedMessage in the schema %v, want %v", v, got, want)
		}
	}
}
