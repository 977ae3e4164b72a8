package dashboard_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const project = "dev"

// env is a running server and an API client of it.
type env struct {
	t    *testing.T
	srv  *server.Server
	base string
	key  string
}

func start(t *testing.T, b storetest.Backend, configure ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{DB: b.DB, Schema: b.Schema, Project: project, APIKey: "sk_test_dash_" + b.Name}
	for _, f := range configure {
		f(&cfg)
	}
	srv := servertest.Start(t, cfg)
	return &env{t: t, srv: srv, base: srv.URL(), key: cfg.APIKey}
}

// api calls the API with the key and returns the status and decoded body.
func (e *env) api(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	return e.apiAs(e.key, method, path, body)
}

// apiAs calls the API with another key.
func (e *env) apiAs(key, method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// must calls the API and fails the test unless it answers want.
func (e *env) must(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	status, out := e.api(method, path, body)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func (e *env) items(path string) []map[string]any {
	e.t.Helper()
	out := e.must("GET", path, nil, 200)
	var items []map[string]any
	for _, it := range out["items"].([]any) {
		items = append(items, it.(map[string]any))
	}
	return items
}

// browser is a cookie-keeping HTTP client of the dashboard that does not
// follow redirects.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var r io.Reader
	if form != nil {
		r = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token in a page's forms.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs the browser in with the key and returns the CSRF token of
// its session.
func (b *browser) signIn(key string) string {
	b.t.Helper()
	return b.signInTo(key, project)
}

// signInTo signs in to a project ("" lets an operator key open the first).
func (b *browser) signInTo(key, project string) string {
	b.t.Helper()
	_, page := b.do("GET", "/dashboard/signin", nil)
	resp, body := b.do("POST", "/dashboard/signin", url.Values{"csrf": {csrf(b.t, page)}, "key": {key}, "project": {project}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d, want 303: %s", resp.StatusCode, body)
	}
	resp, page = b.do("GET", "/dashboard/events", nil)
	if resp.StatusCode != 200 {
		b.t.Fatalf("events page after sign-in: %d", resp.StatusCode)
	}
	return csrf(b.t, page)
}

// defaultWait bounds waits for deliveries.
const defaultWait = 15 * time.Second
