package dashboard_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestActionsNeedSessionAndCSRF checks that no action happens without a
// valid session and its CSRF token: each refused request leaves the project
// without the endpoint it asked for.
func TestActionsNeedSessionAndCSRF(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		create := func(token string) url.Values {
			return url.Values{"csrf": {token}, "url": {"https://example.com/hook"}}
		}
		endpoints := func() int { return len(e.items("/projects/dev/webhookEndpoints")) }

		anon := e.browser()
		alice, bob := e.browser(), e.browser()
		aliceToken, bobToken := alice.signIn(e.key), bob.signIn(e.key)
		if aliceToken == bobToken {
			t.Fatal("two sessions share a CSRF token")
		}
		refused := []struct {
			name   string
			b      *browser
			form   url.Values
			status int
		}{
			{"no session", anon, create(aliceToken), http.StatusUnauthorized},
			{"no token", alice, url.Values{"url": {"https://example.com/hook"}}, http.StatusForbidden},
			{"wrong token", alice, create("forged"), http.StatusForbidden},
			{"another session's token", alice, create(bobToken), http.StatusForbidden},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := tt.b.do("POST", "/dashboard/endpoints", tt.form)
				if resp.StatusCode != tt.status {
					t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if n := endpoints(); n != 0 {
					t.Errorf("%d endpoints after a refused action, want 0", n)
				}
			})
		}

		// With its token the action runs, and the page shows the secret once.
		resp, body := alice.do("POST", "/dashboard/endpoints", create(aliceToken))
		if resp.StatusCode != 200 || !strings.Contains(body, "whsec_") {
			t.Fatalf("create with session and token: status %d, want 200 with the secret: %s", resp.StatusCode, body)
		}
		if n := endpoints(); n != 1 {
			t.Fatalf("%d endpoints after the action, want 1", n)
		}

		// Signed out, the cookie opens nothing and its token does nothing.
		if resp, _ := alice.do("POST", "/dashboard/signout", url.Values{"csrf": {aliceToken}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out: status %d, want 303", resp.StatusCode)
		}
		if resp, _ := alice.do("GET", "/dashboard/events", nil); resp.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") {
			t.Errorf("events page after sign-out: %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := alice.do("POST", "/dashboard/endpoints", create(aliceToken)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("action after sign-out: status %d, want 401", resp.StatusCode)
		}
		// Bob's session is untouched.
		if resp, _ := bob.do("GET", "/dashboard/endpoints", nil); resp.StatusCode != 200 {
			t.Errorf("another session after one signed out: status %d, want 200", resp.StatusCode)
		}
		if n := endpoints(); n != 1 {
			t.Errorf("%d endpoints, want 1", n)
		}
	})
}

// TestSignIn checks the sign-in form: its token, the API's verdict on the
// key shown in the page, and the cookie's attributes.
func TestSignIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		br := e.browser()
		_, page := br.do("GET", "/dashboard/signin", nil)
		token := csrf(t, page)

		resp, _ := e.browser().do("POST", "/dashboard/signin", url.Values{"csrf": {token}, "key": {e.key}, "project": {project}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in from a browser without the form's cookie: status %d, want 403", resp.StatusCode)
		}
		_, apiErr := e.api("GET", "/projects/nope/events", nil)
		tests := []struct {
			name, key, project string
			status             int
			message            string
		}{
			{"no key", "", project, 422, "Enter an API key."},
			{"wrong key", "sk_wrong", project, 401, "The API key is not valid."},
			{"another project", e.key, "nope", 404, apiErr["message"].(string)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, page := br.do("GET", "/dashboard/signin", nil)
				resp, body := br.do("POST", "/dashboard/signin", url.Values{"csrf": {csrf(t, page)}, "key": {tt.key}, "project": {tt.project}})
				if resp.StatusCode != tt.status || !strings.Contains(body, tt.message) {
					t.Errorf("status %d, want %d showing %q: %s", resp.StatusCode, tt.status, tt.message, body)
				}
				if tt.key != "" && strings.Contains(body, tt.key) {
					t.Error("the page shows the key back")
				}
			})
		}

		_, page = br.do("GET", "/dashboard/signin", nil)
		resp, _ = br.do("POST", "/dashboard/signin", url.Values{"csrf": {csrf(t, page)}, "key": {e.key}, "project": {project},
			"next": {"https://evil.example/steal"}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/dashboard/events" {
			t.Errorf("sign-in with a foreign next: %d to %q, want 303 to /dashboard/events", resp.StatusCode, loc)
		}
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "switchboard_session" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/dashboard" ||
			strings.Contains(cookie.Value, e.key) || len(cookie.Value) < 40 {
			t.Errorf("session cookie %+v, want HttpOnly, SameSite=Strict, Path=/dashboard and a random ID", cookie)
		}
		if cookie != nil && cookie.Secure {
			t.Error("session cookie is Secure over plain HTTP")
		}
	})
}

// TestSessionsAcrossProcesses signs in at one process and uses the session
// at another on the same PostgreSQL database.
func TestSessionsAcrossProcesses(t *testing.T) {
	b := storetest.New(t, "postgres")
	one, two := start(t, b), start(t, b)
	br := one.browser()
	token := br.signIn(one.key)
	br.base = two.base
	resp, page := br.do("GET", "/dashboard/endpoints", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Webhook endpoints") {
		t.Fatalf("the other process's endpoints page: status %d: %s", resp.StatusCode, page)
	}
	resp, _ = br.do("POST", "/dashboard/endpoints", url.Values{"csrf": {token}, "url": {"https://example.com/two"}})
	if resp.StatusCode != 200 || len(two.items("/projects/dev/webhookEndpoints")) != 1 {
		t.Fatalf("action at the other process: status %d, want 200 and one endpoint", resp.StatusCode)
	}
}

// TestOperatorSwitchesProjects signs in with the operator key, which may
// switch between projects; a project key may not.
func TestOperatorSwitchesProjects(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const admin = "sk_admin_dashboard"
		e := start(t, b, func(c *server.Config) { c.AdminKey = admin })
		if status, out := e.apiAs(admin, "POST", "/projects", map[string]any{"id": "acme", "name": "Acme", "mode": "live"}); status != 201 {
			t.Fatalf("create project: %d %v", status, out)
		}
		status, acmeUser := e.apiAs(admin, "POST", "/projects/acme/users", map[string]any{"email": "acme@example.com"})
		if status != 201 {
			t.Fatalf("create a user in acme: %d %v", status, acmeUser)
		}
		acmeID := acmeUser["id"].(string)

		op := e.browser()
		token := op.signInTo(admin, project)
		_, page := op.do("GET", "/dashboard/events", nil)
		if !strings.Contains(page, `<select id="project-switch"`) || !strings.Contains(page, `value="acme"`) {
			t.Fatalf("the operator's events page has no project switcher with acme:\n%s", page)
		}
		if strings.Contains(page, acmeID) {
			t.Error("dev's events page shows acme's user")
		}
		resp, _ := op.do("POST", "/dashboard/project", url.Values{"csrf": {token}, "project": {"acme"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("switch project: status %d, want 303", resp.StatusCode)
		}
		_, page = op.do("GET", "/dashboard/events", nil)
		if !strings.Contains(page, `<option value="acme" selected>`) || !strings.Contains(page, acmeID) {
			t.Errorf("after switching, the events page is not acme's:\n%s", page)
		}
		// acme is live: no test clock, as the API says.
		_, apiErr := e.apiAs(admin, "GET", "/projects/acme/simulator/clock", nil)
		if _, page := op.do("GET", "/dashboard/test", nil); !strings.Contains(page, apiErr["message"].(string)) {
			t.Errorf("test page of a live project lacks the API's %q", apiErr["message"])
		}

		// A project key reaches its own project only.
		dev := e.browser()
		token = dev.signIn(e.key)
		resp, page = dev.do("POST", "/dashboard/project", url.Values{"csrf": {token}, "project": {"acme"}})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "acme") {
			t.Errorf("a project key switching to acme: status %d, want 404 with the API's message", resp.StatusCode)
		}
		if _, page := dev.do("GET", "/dashboard/events", nil); !strings.Contains(page, `id="current-project">dev<`) {
			t.Error("a refused switch moved the session")
		}
	})
}

// TestRevokedKeyEndsSession revokes the key a session signed in with: the
// next page ends the session and asks to sign in again.
func TestRevokedKeyEndsSession(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		key := e.must("POST", "/projects/dev/apiKeys", map[string]any{"name": "dashboard"}, 201)
		br := e.browser()
		br.signIn(key["token"].(string))
		e.must("DELETE", "/projects/dev/apiKeys/"+key["id"].(string), nil, 200)
		resp, page := br.do("GET", "/dashboard/endpoints", nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `id="signin-form"`) {
			t.Fatalf("a page after revocation: status %d, want 401 and the sign-in form:\n%s", resp.StatusCode, page)
		}
		if resp, _ := br.do("GET", "/dashboard/endpoints", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the session outlived its key: status %d, want 303 to sign in", resp.StatusCode)
		}
	})
}

// TestCookieSecureOverTLS checks that the session cookie is Secure when the
// dashboard is served over TLS, or behind a proxy that terminated it.
func TestCookieSecureOverTLS(t *testing.T) {
	e := start(t, storetest.New(t, "sqlite"))
	ts := httptest.NewTLSServer(e.srv.Dashboard)
	t.Cleanup(ts.Close)
	tests := []struct {
		name, base string
		client     *http.Client
		header     string
	}{
		{"TLS", ts.URL, ts.Client(), ""},
		{"behind a TLS proxy", e.base, http.DefaultClient, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := *tt.client
			c.Jar = jar
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			do := func(method, path string, form url.Values) *http.Response {
				req, _ := http.NewRequest(method, tt.base+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tt.header != "" {
					req.Header.Set("X-Forwarded-Proto", tt.header)
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			resp := do("GET", "/dashboard/signin", nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var token string
			for _, ck := range resp.Cookies() {
				if ck.Name == "switchboard_signin" {
					token = ck.Value
				}
			}
			if !strings.Contains(string(body), token) || token == "" {
				t.Fatalf("sign-in page and cookie do not share a token")
			}
			resp = do("POST", "/dashboard/signin", url.Values{"csrf": {token}, "key": {e.key}, "project": {project}})
			resp.Body.Close()
			var secure, found bool
			for _, ck := range resp.Cookies() {
				if ck.Name == "switchboard_session" {
					found, secure = true, ck.Secure
				}
			}
			if resp.StatusCode != http.StatusSeeOther || !found || !secure {
				t.Errorf("sign-in: status %d, session cookie found %v, Secure %v; want 303 and a Secure cookie", resp.StatusCode, found, secure)
			}
		})
	}
}
