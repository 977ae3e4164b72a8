package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-dev/switchboard/internal/contract"
)

func init() {
	// The API reference is HTML: its body is a string to the validator.
	openapi3filter.RegisterBodyDecoder("text/html", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef,
		_ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
}

// LoadOpenAPI loads and validates the generated OpenAPI document with
// kin-openapi.
func LoadOpenAPI(ctx context.Context) (*openapi3.T, error) {
	files, err := contract.Files()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(files[contract.OpenAPIFile])
	if err != nil {
		return nil, fmt.Errorf("contracttest: load OpenAPI: %w", err)
	}
	if err := doc.Validate(ctx, openapi3.IsOpenAPI31OrLater()); err != nil {
		return nil, fmt.Errorf("contracttest: OpenAPI document is invalid: %w", err)
	}
	return doc, nil
}

// Transport wraps an http.RoundTripper and validates every response it
// carries against the OpenAPI document: its status must be one the
// operation documents and its body must match that status's schema. A
// request the document has no operation for is a failure too.
type Transport struct {
	Base http.RoundTripper
	// Report receives each failure; the test's Errorf by default.
	Report func(format string, args ...any)
	router routers.Router
	bodies *bodySchemas

	mu sync.Mutex
	// Checked counts the validated responses by operation ID.
	Checked map[string]int
}

// NewTransport returns a validating transport over base
// (http.DefaultTransport when nil); failures are reported with t.Errorf.
func NewTransport(t testing.TB, base http.RoundTripper) *Transport {
	t.Helper()
	shared.once.Do(func() { shared.router, shared.bodies, shared.err = load() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{Base: base, Report: t.Errorf, router: shared.router, bodies: shared.bodies, Checked: map[string]int{}}
}

// shared is what every transport uses, loaded once: the document's router
// and the compiled response schemas.
var shared struct {
	once   sync.Once
	router routers.Router
	bodies *bodySchemas
	err    error
}

func load() (routers.Router, *bodySchemas, error) {
	doc, err := LoadOpenAPI(context.Background())
	if err != nil {
		return nil, nil, err
	}
	doc.Servers = nil // match the test server's address
	router, err := legacy.NewRouter(doc, openapi3.IsOpenAPI31OrLater())
	if err != nil {
		return nil, nil, fmt.Errorf("contracttest: router: %w", err)
	}
	bodies, err := newBodySchemas()
	if err != nil {
		return nil, nil, fmt.Errorf("contracttest: %w", err)
	}
	return router, bodies, nil
}

// RoundTrip sends the request and validates the response.
func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		sent = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := tr.Base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	if err := tr.validate(req, resp, body); err != nil {
		tr.Report("contract: %s %s answered %d, which the OpenAPI document does not allow: %v\nbody: %.600s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, body)
	}
	if resp.StatusCode < 300 && len(bytes.TrimSpace(sent)) > 0 {
		// The server accepted the body: the document must accept it too,
		// or a generated client could not send it.
		if err := tr.validateRequest(req, sent); err != nil {
			tr.Report("contract: %s %s: the server accepted a body the OpenAPI document does not allow: %v\nbody: %.600s",
				req.Method, req.URL.RequestURI(), err, sent)
		}
	}
	return resp, nil
}

// validateRequest validates a request body against the operation's
// request body schema.
func (tr *Transport) validateRequest(req *http.Request, body []byte) error {
	route, _, err := tr.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation: %w", err)
	}
	rb := route.Operation.RequestBody
	if rb == nil || rb.Value == nil || rb.Value.Content.Get("application/json") == nil {
		return fmt.Errorf("the operation takes no body")
	}
	base := rb.Ref
	if base == "" {
		base = "#/paths/" + pointerEscape(route.Path) + "/" + strings.ToLower(route.Method) + "/requestBody"
	}
	schema, err := tr.bodies.compile(base + "/content/application~1json/schema")
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	return schema.Validate(inst)
}

func (tr *Transport) validate(req *http.Request, resp *http.Response, body []byte) error {
	route, params, err := tr.router.FindRoute(req)
	if err != nil {
		// A path no route matches gets the catch-all's error object.
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			var e struct {
				Object string `json:"object"`
			}
			if json.Unmarshal(body, &e) != nil || e.Object != "error" {
				return fmt.Errorf("no operation, and the answer is not the error object")
			}
			return nil
		}
		return fmt.Errorf("no operation: %w", err)
	}
	tr.mu.Lock()
	tr.Checked[route.Operation.OperationID]++
	tr.mu.Unlock()
	exercised.Store(route.Operation.OperationID, true)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			// kin-openapi checks the status and headers; the body is
			// checked below against the same schema, compiled once
			// (kin-openapi compiles a 3.1 schema on every validation).
			IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return err
	}
	return tr.validateBody(route, resp, body)
}

// validateBody validates the body against the schema the document gives
// the operation's response of that status and media type.
func (tr *Transport) validateBody(route *routers.Route, resp *http.Response, body []byte) error {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type %q: %w", resp.Header.Get("Content-Type"), err)
	}
	ref := route.Operation.Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("no response for status %d", resp.StatusCode)
	}
	if ref.Value.Content.Get(mt) == nil {
		return fmt.Errorf("the response is %s, which the document does not give for %d", mt, resp.StatusCode)
	}
	base := ref.Ref
	if base == "" {
		base = "#/paths/" + pointerEscape(route.Path) + "/" + strings.ToLower(route.Method) + "/responses/" + strconv.Itoa(resp.StatusCode)
	}
	schema, err := tr.bodies.compile(base + "/content/" + pointerEscape(mt) + "/schema")
	if err != nil {
		return err
	}
	var inst any
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(body)); err != nil {
			return fmt.Errorf("the body is not JSON: %w", err)
		}
	} else {
		inst = string(body)
	}
	return schema.Validate(inst)
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// bodySchemas compiles the schemas of the OpenAPI document's responses on
// first use, with santhosh-tekuri/jsonschema (draft 2020-12, formats
// asserted), which kin-openapi uses for OpenAPI 3.1 too.
type bodySchemas struct {
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

const openAPIResource = "urn:switchboard:openapi.json"

func newBodySchemas() (*bodySchemas, error) {
	files, err := contract.Files()
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(files[contract.OpenAPIFile]))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(openAPIResource, doc); err != nil {
		return nil, err
	}
	return &bodySchemas{compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

func (b *bodySchemas) compile(pointer string) (*jsonschema.Schema, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.compiled[pointer]; ok {
		return s, nil
	}
	s, err := b.compiler.Compile(openAPIResource + pointer)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", pointer, err)
	}
	b.compiled[pointer] = s
	return s, nil
}

// exercised are the operations any transport of the process validated a
// response of.
var exercised sync.Map

// Unexercised lists the operations of the document no transport of this
// process has validated a response of, sorted.
func Unexercised() []string {
	var out []string
	for _, op := range contract.Operations {
		if _, ok := exercised.Load(op.ID); !ok {
			out = append(out, op.ID)
		}
	}
	slices.Sort(out)
	return out
}

// Client returns an HTTP client whose every response is validated.
func Client(t testing.TB) (*http.Client, *Transport) {
	tr := NewTransport(t, nil)
	return &http.Client{Transport: tr}, tr
}

// Events validates rendered events against the JSON Schema of their type
// in their version.
type Events struct {
	schemas map[string]*jsonschema.Schema // by type + " " + version
}

// NewEvents returns the validator of every event schema, each checked
// against the 2020-12 meta-schema as it compiles; they are compiled once
// per process.
func NewEvents() (*Events, error) {
	compiledEvents.once.Do(func() { compiledEvents.ev, compiledEvents.err = compileEvents() })
	return compiledEvents.ev, compiledEvents.err
}

var compiledEvents struct {
	once sync.Once
	ev   *Events
	err  error
}

func compileEvents() (*Events, error) {
	files, err := contract.Files()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	ev := &Events{schemas: map[string]*jsonschema.Schema{}}
	var keys []string
	for name := range files {
		if strings.HasPrefix(name, contract.SchemasDir+"/") {
			keys = append(keys, name)
		}
	}
	slices.Sort(keys)
	for _, name := range keys {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(files[name]))
		if err != nil {
			return nil, fmt.Errorf("contracttest: %s: %w", name, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("contracttest: %s: %w", name, err)
		}
		s, err := c.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("contracttest: compile %s: %w", name, err)
		}
		rest := strings.TrimSuffix(strings.TrimPrefix(name, contract.SchemasDir+"/"), ".json")
		version, typ, _ := strings.Cut(rest, "/")
		ev.schemas[typ+" "+version] = s
	}
	return ev, nil
}

// Validate validates a rendered event against the schema of the type and
// version it names.
func (e *Events) Validate(raw []byte) error {
	var head struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("contracttest: not an event: %w", err)
	}
	s, ok := e.schemas[head.Type+" "+head.Version]
	if !ok {
		return fmt.Errorf("contracttest: no schema for %s in version %q", head.Type, head.Version)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s %s: %w", head.Type, head.Version, err)
	}
	return nil
}
