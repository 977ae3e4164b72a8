package contract_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
)

var update = flag.Bool("update", false, "rewrite the committed contracts (openapi.json, asyncapi.json, schemas/)")

// root is the repository's root, where the committed copies live.
var root = filepath.Join("..", "..")

// TestRoutesHaveOperations holds the operation table to the router: a route
// served without an operation, or an operation no route serves, fails.
func TestRoutesHaveOperations(t *testing.T) {
	srv := servertest.Start(t, server.Config{DB: filepath.Join(t.TempDir(), "db.sqlite"), Simulator: "on", APIKey: "sk_test_routes"})
	served := map[string]bool{}
	for _, r := range srv.Routes() {
		// "/{$}" matches the path exactly; the document writes it "/".
		r.Path = strings.ReplaceAll(r.Path, "{$}", "")
		served[strings.TrimSpace(r.String())] = true
	}
	documented := map[string]bool{}
	for _, op := range contract.Operations {
		key := op.Route()
		if documented[key] {
			t.Errorf("%s is documented twice", key)
		}
		documented[key] = true
		if !served[key] {
			t.Errorf("the document names %s (%s), which the router does not serve", key, op.ID)
		}
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("the router serves %s, which has no operation in the document (add it to contract.Operations)", r)
		}
	}
}

// TestOperationIDsUnique checks what generated clients name their methods by.
func TestOperationIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, op := range contract.Operations {
		if op.ID == "" || seen[op.ID] {
			t.Errorf("operation %s %s: operationId %q is empty or taken", op.Method, op.Path, op.ID)
		}
		seen[op.ID] = true
	}
}

// TestOpenAPIValidates loads the document with kin-openapi and validates it
// as OpenAPI 3.1, and checks its webhooks name every event type.
func TestOpenAPIValidates(t *testing.T) {
	doc, err := contracttest.LoadOpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi is %q, want 3.1", doc.OpenAPI)
	}
	var hooks []string
	for name := range doc.Webhooks {
		hooks = append(hooks, name)
	}
	slices.Sort(hooks)
	want := slices.Sorted(slices.Values(switchboard.EventTypes))
	if !slices.Equal(hooks, want) {
		t.Errorf("webhooks %q, want one per event type %q", hooks, want)
	}
	for _, op := range contract.Operations {
		item := doc.Paths.Find(op.Path)
		if item == nil || item.GetOperation(op.Method) == nil {
			t.Errorf("%s %s is missing from the document", op.Method, op.Path)
		}
	}
	if doc.Components.SecuritySchemes["bearerAuth"] == nil {
		t.Error("no bearerAuth security scheme")
	}
}

// TestCommittedFilesCurrent is the golden test of the committed copies:
// openapi.json, asyncapi.json and schemas/ must be what the generator
// makes now. Run go test ./internal/contract -update to rewrite them.
func TestCommittedFilesCurrent(t *testing.T) {
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.RemoveAll(filepath.Join(root, contract.SchemasDir)); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v (run go test ./internal/contract -update)", name, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale: run go test ./internal/contract -update", name)
		}
	}
	// No stale schema file is left behind for a type or version that went.
	err = filepath.WalkDir(filepath.Join(root, contract.SchemasDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s is not generated any more: delete it (or run -update)", rel)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
