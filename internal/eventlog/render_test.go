package eventlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// TestRenderSeeds stores each seed example as a canonical event and renders
// it in the seed's version: the bytes must be the example's, field for field
// and in order, apart from the porting's declinedAttempts that the examples
// omit and the field lists require.
func TestRenderSeeds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "seeds", "*.json"))
	if err != nil || len(files) != 4 {
		t.Fatalf("seed examples: %v, %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := switchboard.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			data, err := wirejson.Marshal(ev.Resource)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Render(store.EventRow{ID: ev.ID, Project: ev.Project, Type: ev.Type, Time: ev.Time,
				Source: ev.Source, Data: data, PreviousData: ev.PreviousData}, ev.Version)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.Compact(&want, raw); err != nil {
				t.Fatal(err)
			}
			expected := strings.ReplaceAll(want.String(), `"birthday":"2017-07-21","declinedCode"`,
				`"birthday":"2017-07-21","declinedAttempts":0,"declinedCode"`)
			if string(got) != expected {
				t.Fatalf("rendered\n%s\nwant\n%s", got, expected)
			}
		})
	}
}

func TestRenderVersions(t *testing.T) {
	ev := store.EventRow{ID: "evt_1", Project: "dev", Type: switchboard.TypeUserUpdated, Source: DefaultSource,
		Data: []byte(`{"object":"user"}`), PreviousData: []byte(`{"email":"a@example.com"}`),
		Actor: []byte(`{"type":"system"}`)}
	tests := []struct {
		version string
		actor   bool
	}{
		{switchboard.Version20240829, false},
		{switchboard.Version20241028, false},
		{switchboard.Version20241220, false},
		{switchboard.Version20250522, true},
	}
	for _, tt := range tests {
		b, err := Render(ev, tt.version)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: invalid JSON %s: %v", tt.version, b, err)
		}
		if _, ok := m["actor"]; ok != tt.actor {
			t.Errorf("%s: actor present %v, want %v", tt.version, ok, tt.actor)
		}
		if string(m["previousData"]) != `{"email":"a@example.com"}` || string(m["version"]) != `"`+tt.version+`"` {
			t.Errorf("%s: rendered %s", tt.version, b)
		}
	}
	// In 2025-05-22 actor comes right after id.
	b, err := Render(ev, switchboard.Version20250522)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"object":"event","id":"evt_1","actor":{"type":"system"},"data":{"object":"user"},`; !strings.HasPrefix(string(b), want) {
		t.Errorf("2025-05-22 envelope begins %s, want %s", b, want)
	}
	if _, err := Render(ev, "2023-01-01"); err == nil {
		t.Error("Render of an unknown version succeeded")
	}
}
