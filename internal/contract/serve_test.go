package contract_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
)

// TestServed fetches the published documents from a running server, with
// no key, through the validating client.
func TestServed(t *testing.T) {
	const admin = "sk_admin_served"
	srv := servertest.Start(t, server.Config{DB: filepath.Join(t.TempDir(), "db.sqlite"), APIKey: "sk_test_served", AdminKey: admin})
	client, _ := contracttest.Client(t)
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, want int, header ...string) (string, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, b)
		}
		return resp.Header.Get("Content-Type"), b
	}
	tests := []struct {
		path, file, contentType string
	}{
		{"/openapi.json", contract.OpenAPIFile, "application/json"},
		{"/asyncapi.json", contract.AsyncAPIFile, "application/json"},
		{"/schemas/events/com.gigs.porting.declined", contract.EventSchemaFile(switchboard.TypePortingDeclined, switchboard.LatestVersion), "application/schema+json"},
		{"/schemas/events/com.gigs.porting.updated?version=2024-08-29", contract.EventSchemaFile(switchboard.TypePortingUpdated, "2024-08-29"), "application/schema+json"},
	}
	for _, tt := range tests {
		ct, b := get(tt.path, 200)
		if ct != tt.contentType || string(b) != string(files[tt.file]) {
			t.Errorf("GET %s: %s, not the committed %s", tt.path, ct, tt.file)
		}
	}
	errs := []struct {
		path   string
		status int
		code   string
	}{
		{"/schemas/events/com.gigs.porting.teleported", 404, "eventTypeNotFound"},
		{"/schemas/events/com.gigs.porting.declined?version=2020-01-01", 422, "invalidVersion"},
	}
	for _, tt := range errs {
		_, b := get(tt.path, tt.status)
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || e["object"] != "error" || e["code"] != tt.code {
			t.Errorf("GET %s: %s, want the error object with code %s", tt.path, b, tt.code)
		}
	}

	// The root and the dashboard redirect (to the dashboard, to sign in),
	// as documented.
	_, tr := contracttest.Client(t)
	noFollow := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/dashboard/"} {
		resp, err := noFollow.Get(srv.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}

	get("/healthz", 200)
	get("/readyz", 200)
	get("/metrics", 200, "Authorization", "Bearer "+admin)
	get("/metrics", 401)
	get("/metrics", 403, "Authorization", "Bearer sk_test_served")

	ct, page := get("/docs", 200)
	if !strings.HasPrefix(ct, "text/html") {
		t.Errorf("/docs: content type %s", ct)
	}
	html := string(page)
	for _, op := range contract.Operations {
		if !strings.Contains(html, `id="`+op.ID+`"`) {
			t.Errorf("/docs lacks the operation %s", op.ID)
		}
	}
	for _, typ := range switchboard.EventTypes {
		if !strings.Contains(html, `id="hook-`+typ+`"`) {
			t.Errorf("/docs lacks the event type %s", typ)
		}
	}
	// Who may call: public routes and the operator's say so.
	for _, want := range []string{
		`<code>/openapi.json</code></h3>
<p><strong>This OpenAPI 3.1 document</strong> <span class="muted">(no key needed)</span>`,
		`<code>/projects</code></h3>
<p><strong>Create a project</strong> <span class="muted">(the operator key only)</span>`,
		`<code>/projects/{project}/users</code></h3>
<p><strong>Create a user</strong></p>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	// Offline: nothing is loaded from another host.
	if m := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)="(https?:)?//`).FindString(html); m != "" {
		t.Errorf("/docs loads from the network: %s", m)
	}
}

// TestAsyncAPI checks the AsyncAPI document's structure: version 3.0, one
// message per event type, each reachable from the channel and the
// operation, and every local reference resolving.
func TestAsyncAPI(t *testing.T) {
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(files[contract.AsyncAPIFile], &doc); err != nil {
		t.Fatal(err)
	}
	if doc["asyncapi"] != "3.0.0" {
		t.Fatalf("asyncapi %v", doc["asyncapi"])
	}
	messages := doc["components"].(map[string]any)["messages"].(map[string]any)
	var names []string
	for _, m := range messages {
		names = append(names, m.(map[string]any)["name"].(string))
	}
	if len(names) != len(switchboard.EventTypes) {
		t.Errorf("%d messages, want one per event type (%d)", len(names), len(switchboard.EventTypes))
	}
	for _, typ := range switchboard.EventTypes {
		if !strings.Contains(strings.Join(names, " ")+" ", typ+" ") {
			t.Errorf("no message for %s", typ)
		}
	}
	op := doc["operations"].(map[string]any)["deliverEvent"].(map[string]any)
	if n := len(op["messages"].([]any)); n != len(messages) {
		t.Errorf("the operation sends %d messages, want %d", n, len(messages))
	}
	// Every $ref resolves within the document.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
}

func resolve(doc map[string]any, ref string) any {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	return cur
}

// TestAsyncAPIAgainstSpecSchema validates the AsyncAPI document against the
// AsyncAPI Initiative's JSON Schema of AsyncAPI 3.0.0 (testdata, from the
// @asyncapi/specs package), and checks that the schema refuses a broken
// document.
func TestAsyncAPIAgainstSpecSchema(t *testing.T) {
	_, schema := specSchema(t, "asyncapi-3.0.0.schema.json", "http://asyncapi.com/definitions/3.0.0/asyncapi.json")
	files, err := contract.Files()
	if err != nil {
		t.Fatal(err)
	}
	load := func() map[string]any {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(files[contract.AsyncAPIFile]))
		if err != nil {
			t.Fatal(err)
		}
		return doc.(map[string]any)
	}
	if err := schema.Validate(load()); err != nil {
		t.Fatalf("asyncapi.json is not valid AsyncAPI 3.0.0: %v", err)
	}
	broken := []func(doc map[string]any){
		func(doc map[string]any) { delete(doc, "info") },
		func(doc map[string]any) {
			doc["operations"].(map[string]any)["deliverEvent"].(map[string]any)["action"] = "publish"
		},
		func(doc map[string]any) {
			doc["channels"].(map[string]any)["webhookEndpoint"].(map[string]any)["address"] = 5
		},
	}
	for i, breakIt := range broken {
		doc := load()
		breakIt(doc)
		if err := schema.Validate(doc); err == nil {
			t.Errorf("broken document %d validated", i)
		}
	}
}
