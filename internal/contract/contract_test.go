package contract_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

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

// specSchema compiles a specification's JSON Schema kept in testdata under
// its ID, and returns the compiler, which may compile more.
func specSchema(t *testing.T, file, id string) (*jsonschema.Compiler, *jsonschema.Schema) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, spec); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return c, schema
}

// TestOpenAPIAgainstSpecSchema validates openapi.json against the OpenAPI
// Initiative's JSON Schema of OpenAPI 3.1 documents (testdata), and every
// schema in it against the JSON Schema 2020-12 meta-schema: a second lint,
// independent of kin-openapi.
func TestOpenAPIAgainstSpecSchema(t *testing.T) {
	c, schema := specSchema(t, "openapi-3.1.schema.json", "https://spec.openapis.org/oas/3.1/schema/2021-04-15")
	meta, err := c.Compile(contract.Draft202012)
	if err != nil {
		t.Fatal(err)
	}
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(files[contract.OpenAPIFile]))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}
	components := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)
	for name, s := range components {
		if err := meta.Validate(s); err != nil {
			t.Errorf("components.schemas.%s is not a valid 2020-12 schema: %v", name, err)
		}
	}
	// The lint refuses a broken document.
	doc.(map[string]any)["paths"].(map[string]any)["/healthz"].(map[string]any)["get"].(map[string]any)["responses"] = []any{}
	if err := schema.Validate(doc); err == nil {
		t.Error("a document whose responses are an array validated")
	}
}
