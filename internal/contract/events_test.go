package contract_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
)

func events(t *testing.T) *contracttest.Events {
	t.Helper()
	ev, err := contracttest.NewEvents()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestEventSchemasAgainstMetaSchema validates every event schema, as a
// document, against the JSON Schema 2020-12 meta-schema.
func TestEventSchemasAgainstMetaSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	meta, err := c.Compile(contract.Draft202012)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range switchboard.Versions {
		for _, typ := range switchboard.EventTypes {
			s, err := contract.EventSchema(typ, v)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := contract.Encode(s)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := meta.Validate(doc); err != nil {
				t.Errorf("%s %s: not a valid 2020-12 schema: %v", typ, v, err)
			}
		}
	}
}

// TestEventSchemaShapes checks the envelope per version: actor only from
// 2025-05-22, previousData only on *.updated, type and version pinned.
func TestEventSchemaShapes(t *testing.T) {
	for _, v := range switchboard.Versions {
		for _, typ := range switchboard.EventTypes {
			s, err := contract.EventSchema(typ, v)
			if err != nil {
				t.Fatal(err)
			}
			props := s["properties"].(map[string]any)
			_, actor := props["actor"]
			if want := v >= switchboard.Version20250522; actor != want {
				t.Errorf("%s %s: actor %v, want %v", typ, v, actor, want)
			}
			_, prev := props["previousData"]
			if want := strings.HasSuffix(typ, ".updated"); prev != want {
				t.Errorf("%s %s: previousData %v, want %v", typ, v, prev, want)
			}
			if c := props["type"].(map[string]any)["const"]; c != typ {
				t.Errorf("%s %s: type const %v", typ, v, c)
			}
			if c := props["version"].(map[string]any)["const"]; c != v {
				t.Errorf("%s %s: version const %v", typ, v, c)
			}
		}
	}
}

// seed reads a seed example with the two known quirks of reference.md §1
// applied: the porting's declinedAttempts, which the examples omit and the
// field list requires, and the port-out PIN, which is null in every event.
func seed(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	data := ev["data"].(map[string]any)
	switch data["object"] {
	case "porting":
		data["declinedAttempts"] = 0
	case "portOutCredentials":
		data["accountPin"] = nil
	case "subscription":
		if p, ok := data["porting"].(map[string]any); ok {
			p["declinedAttempts"] = 0
		}
	}
	return ev
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSeedsValidate validates the seed examples in their versions.
func TestSeedsValidate(t *testing.T) {
	ev := events(t)
	files, err := filepath.Glob(filepath.Join(root, "testdata", "seeds", "*.json"))
	if err != nil || len(files) != 4 {
		t.Fatalf("seeds: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := ev.Validate(mustJSON(t, seed(t, filepath.Base(f)))); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSchemasAreStrict: what Switchboard does not emit fails validation.
func TestSchemasAreStrict(t *testing.T) {
	ev := events(t)
	tests := []struct {
		name   string
		seed   string
		mutate func(ev, data map[string]any)
	}{
		{"missing required data field", "porting.canceled.json", func(_, d map[string]any) { delete(d, "status") }},
		{"missing declinedAttempts (the seed quirk unfixed)", "porting.canceled.json", func(_, d map[string]any) { delete(d, "declinedAttempts") }},
		{"missing envelope field", "porting.canceled.json", func(e, _ map[string]any) { delete(e, "time") }},
		{"unknown status", "porting.canceled.json", func(_, d map[string]any) { d["status"] = "lost" }},
		{"unknown decline code", "porting.canceled.json", func(_, d map[string]any) { d["declinedCode"] = "portingBadLuck" }},
		{"unknown cancellation cause", "subscription.resumed.json", func(_, d map[string]any) {
			d["cancellationDetails"] = map[string]any{"cause": "boredom", "userReason": nil}
		}},
		{"wrong type", "porting.canceled.json", func(_, d map[string]any) { d["declinedAttempts"] = "0" }},
		{"wrong type of a time", "porting.canceled.json", func(_, d map[string]any) { d["createdAt"] = 1611256348 }},
		{"null where not nullable", "porting.canceled.json", func(_, d map[string]any) { d["phoneNumber"] = nil }},
		{"not E.164", "porting.canceled.json", func(_, d map[string]any) { d["phoneNumber"] = "2015550123" }},
		{"bad ID prefix", "porting.canceled.json", func(_, d map[string]any) { d["id"] = "sub_0SNlurA049MEWV39s2kSYqaat7ZS" }},
		{"unknown field", "porting.canceled.json", func(_, d map[string]any) { d["accountPin"] = "1234" }},
		{"the PIN in a port-out event", "portOutCredentials.issued.json", func(_, d map[string]any) { d["accountPin"] = "1234" }},
		{"actor before 2025-05-22", "porting.canceled.json", func(e, _ map[string]any) { e["actor"] = map[string]any{"type": "system"} }},
		{"previousData on a non-update", "porting.canceled.json", func(e, _ map[string]any) { e["previousData"] = map[string]any{} }},
		{"another version's type", "porting.canceled.json", func(e, _ map[string]any) { e["version"] = "2023-01-01" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := seed(t, tt.seed)
			if err := ev.Validate(mustJSON(t, e)); err != nil {
				t.Fatalf("the unchanged seed fails: %v", err)
			}
			tt.mutate(e, e["data"].(map[string]any))
			if err := ev.Validate(mustJSON(t, e)); err == nil {
				t.Errorf("validated, want a failure")
			}
		})
	}
}

// TestActorFromVersion20250522: the newest version requires actor.
func TestActorFromVersion20250522(t *testing.T) {
	ev := events(t)
	e := seed(t, "porting.canceled.json")
	e["version"] = switchboard.Version20250522
	if err := ev.Validate(mustJSON(t, e)); err == nil {
		t.Error("an event of 2025-05-22 without actor validated")
	}
	e["actor"] = map[string]any{"type": "apiKey", "apiKey": "apk_0SNlurA049MEWV39s2kSYqaat7ZS"}
	if err := ev.Validate(mustJSON(t, e)); err != nil {
		t.Errorf("with actor: %v", err)
	}
	e["actor"] = map[string]any{"type": "robot"}
	if err := ev.Validate(mustJSON(t, e)); err == nil {
		t.Error("an unknown actor type validated")
	}
}
