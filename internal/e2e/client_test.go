package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const project = "dev"

// env is a running server and an authenticated client of it.
type env struct {
	t    *testing.T
	srv  *server.Server
	base string
	key  string
	// seen are the IDs of the events already returned by newEvents.
	seen map[string]bool
	// client validates every response against the OpenAPI document.
	client *http.Client
}

// start runs a server on a loopback port over the backend's database.
func start(t *testing.T, b storetest.Backend, configure ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{DB: b.DB, Schema: b.Schema, Project: project, APIKey: "sk_test_" + b.Name}
	for _, f := range configure {
		f(&cfg)
	}
	srv := servertest.Start(t, cfg)
	client, _ := contracttest.Client(t)
	return &env{t: t, srv: srv, base: srv.URL(), key: cfg.APIKey, seen: map[string]bool{}, client: client}
}

// call sends a request and checks the status; it returns the body.
func (e *env) call(method, path string, body any, want int, headers ...string) []byte {
	e.t.Helper()
	got, b := e.send(method, path, body, headers...)
	if got != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, b)
	}
	return b
}

func (e *env) send(method, path string, body any, headers ...string) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if e.client == nil { // an env built by hand validates too
		e.client, _ = contracttest.Client(e.t)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// obj is a decoded JSON object.
type obj map[string]any

func (e *env) json(method, path string, body any, want int) obj {
	e.t.Helper()
	var o obj
	if err := json.Unmarshal(e.call(method, path, body, want), &o); err != nil {
		e.t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	return o
}

func (o obj) str(key string) string {
	s, _ := o[key].(string)
	return s
}

// event is a rendered event, kept raw for the golden files.
type event struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Raw  json.RawMessage `json:"-"`
}

// newEvents returns the events recorded since the last call, oldest first.
func (e *env) newEvents() []event {
	e.t.Helper()
	var all []event
	after := ""
	for {
		path := "/projects/" + project + "/events?limit=200"
		if after != "" {
			path += "&after=" + after
		}
		var l struct {
			Items          []json.RawMessage `json:"items"`
			MoreItemsAfter *string           `json:"moreItemsAfter"`
		}
		if err := json.Unmarshal(e.call("GET", path, nil, 200), &l); err != nil {
			e.t.Fatal(err)
		}
		for _, raw := range l.Items {
			var ev event
			if err := json.Unmarshal(raw, &ev); err != nil {
				e.t.Fatal(err)
			}
			ev.Raw = raw
			all = append(all, ev)
		}
		if l.MoreItemsAfter == nil {
			break
		}
		after = *l.MoreItemsAfter
	}
	slices.Reverse(all)
	var out []event
	for _, ev := range all {
		if !e.seen[ev.ID] {
			e.seen[ev.ID] = true
			out = append(out, ev)
			e.validateEvent(ev)
		}
	}
	return out
}

// validateEvent validates the event against its JSON Schema in every
// supported version, fetching it in each.
func (e *env) validateEvent(ev event) {
	e.t.Helper()
	for _, v := range switchboard.Versions {
		raw := e.call("GET", "/projects/"+project+"/events/"+ev.ID+"?version="+v, nil, 200)
		if err := eventSchemas.Validate(raw); err != nil {
			e.t.Errorf("event %s does not match its schema: %v\n%s", ev.ID, err, raw)
		}
		rendered.add(ev.Type, v)
	}
}

// expectTypes checks the types of the new events, in order, and returns them.
func (e *env) expectTypes(want ...string) []event {
	e.t.Helper()
	got := e.newEvents()
	types := make([]string, len(got))
	for i, ev := range got {
		types[i] = ev.Type
	}
	if !slices.Equal(types, want) {
		e.t.Fatalf("event types:\n got  %q\n want %q", types, want)
	}
	return got
}

var (
	idPattern     = regexp.MustCompile(`\b(evt|prt|sub|usr|sim|pln|pto|apk)_[0-9A-Za-z]{28}\b`)
	timePattern   = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`)
	numberPattern = regexp.MustCompile(`"\+1415\d{7}"`)
	iccidPattern  = regexp.MustCompile(`"iccid":"\d{19,20}"`)
	acctPattern   = regexp.MustCompile(`"accountNumber":"\d{9}"`)
	// tokenPattern matches a redacted API token: its random prefix varies.
	tokenPattern = regexp.MustCompile(`"token":"(sk_(?:test|live)_)[0-9A-Za-z_-]{4}••••"`)
)

// normalizer replaces what differs from run to run — IDs, times, assigned
// numbers, ICCIDs — with stable placeholders, numbering IDs by first sight.
type normalizer struct{ ids map[string]string }

func (n *normalizer) normalize(b []byte) []byte {
	if n.ids == nil {
		n.ids = map[string]string{}
	}
	counts := map[string]int{}
	for _, v := range n.ids {
		counts[v[:3]]++
	}
	b = idPattern.ReplaceAllFunc(b, func(m []byte) []byte {
		s := string(m)
		if v, ok := n.ids[s]; ok {
			return []byte(v)
		}
		prefix := s[:3]
		counts[prefix]++
		v := prefix + "_" + string(rune('0'+counts[prefix]/10)) + string(rune('0'+counts[prefix]%10))
		n.ids[s] = v
		return []byte(v)
	})
	b = timePattern.ReplaceAll(b, []byte(`"<time>"`))
	b = numberPattern.ReplaceAll(b, []byte(`"<assigned number>"`))
	b = iccidPattern.ReplaceAll(b, []byte(`"iccid":"<iccid>"`))
	b = tokenPattern.ReplaceAll(b, []byte(`"token":"${1}<prefix>••••"`))
	return acctPattern.ReplaceAll(b, []byte(`"accountNumber":"<account number>"`))
}

// golden compares the events, normalized and indented, with the golden
// file testdata/<name>.json (rewritten with -update).
func golden(t *testing.T, name string, events []event) {
	t.Helper()
	var n normalizer
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, ev := range events {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, n.normalize(ev.Raw), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("  ")
		buf.Write(pretty.Bytes())
		if i < len(events)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("events differ from %s (run go test -update to accept):\n%s", path, lineDiff(string(want), buf.String()))
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl []byte
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if !bytes.Equal(wl, gl) {
			return "line " + itoa(i+1) + ":\n want " + string(wl) + "\n got  " + string(gl)
		}
	}
	return "(no line differs)"
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
