package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var secretRE = regexp.MustCompile(`id="secret" readonly value="(whsec_[^"]+)"`)

// TestEndpointActions drives every endpoint action through the dashboard's
// forms and checks each against the API: create and rotate show the secret
// once, enable/disable, a test event, recover, edit, delete; bad input gets
// the API's own message.
func TestEndpointActions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		br := e.browser()
		token := br.signIn(e.key)
		hook, received := receiver(t)
		form := func(kv ...string) url.Values {
			f := url.Values{"csrf": {token}}
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
			return f
		}
		post := func(path string, f url.Values, want int) (*http.Response, string) {
			t.Helper()
			resp, page := br.do("POST", path, f)
			if resp.StatusCode != want {
				t.Fatalf("POST %s: status %d, want %d:\n%s", path, resp.StatusCode, want, page)
			}
			return resp, page
		}
		apiMessage := func(method, path string, body any) string {
			t.Helper()
			status, out := e.api(method, path, body)
			if status < 400 {
				t.Fatalf("%s %s answered %d, want an error", method, path, status)
			}
			return html.EscapeString(out["message"].(string))
		}

		// Create: the secret once, in the answer only.
		_, page := post("/dashboard/endpoints", form("url", hook.URL, "enabledEvents", "com.gigs.user.*", "description", "mine"), 200)
		m := secretRE.FindStringSubmatch(page)
		eps := e.items("/projects/dev/webhookEndpoints")
		if m == nil || len(eps) != 1 || eps[0]["description"] != "mine" {
			t.Fatalf("create: secret %v, endpoints %v", m, eps)
		}
		id := eps[0]["id"].(string)
		epPath := "/dashboard/endpoints/" + id
		if _, page := br.do("GET", epPath, nil); strings.Contains(page, m[1]) {
			t.Error("the endpoint page shows the secret again")
		}

		// Rotate: a new secret, once.
		_, page = post(epPath+"/rotate", form("idem", "rotate-1"), 200)
		if m2 := secretRE.FindStringSubmatch(page); m2 == nil || m2[1] == m[1] {
			t.Errorf("rotate showed %v, want a new secret", m2)
		}
		// The same form sent again (a reload) rotates nothing and shows no secret.
		_, page = post(epPath+"/rotate", form("idem", "rotate-1"), 409)
		if secretRE.MatchString(page) || !strings.Contains(page, "idempotentSecretNotReplayed") {
			t.Errorf("a resent rotate form: want the API's idempotentSecretNotReplayed and no secret:\n%s", page)
		}

		// Disable, enable.
		for _, status := range []string{"disabled", "enabled"} {
			resp, _ := post(epPath+"/status", form("status", status), http.StatusSeeOther)
			if got := e.must("GET", "/projects/dev/webhookEndpoints/"+id, nil, 200)["status"]; got != status {
				t.Errorf("after %s: status %v", status, got)
			}
			if _, page := br.do("GET", resp.Header.Get("Location"), nil); !strings.Contains(page, `id="notice"`) {
				t.Errorf("after %s: no notice on the page", status)
			}
		}

		// A test event: none yet, then the newest user event, to this endpoint.
		_, page = post(epPath+"/test", form("idem", "test-1"), http.StatusUnprocessableEntity)
		if !strings.Contains(page, "noEventToSend") {
			t.Errorf("test without an event: %s", page)
		}
		e.must("POST", "/projects/dev/users", map[string]any{"email": "kramer@example.com"}, 201)
		attempts := func() int {
			n := 0
			for _, d := range e.items("/projects/dev/webhookEndpoints/" + id + "/deliveries") {
				n += len(d["attempts"].([]any))
			}
			return n
		}
		storetest.WaitFor(t, defaultWait, "the user.created attempt", func() bool { return attempts() == 1 })
		post(epPath+"/test", form("idem", "test-2"), http.StatusSeeOther)
		storetest.WaitFor(t, defaultWait, "the test attempt", func() bool { return attempts() == 2 && received.Load() == 2 })

		// Recover: bad input gets the API's message; a good time works.
		_, page = post(epPath+"/recover", form("since", "yesterday"), http.StatusUnprocessableEntity)
		if want := apiMessage("POST", "/projects/dev/webhookEndpoints/"+id+"/recover", map[string]any{"since": "yesterday"}); !strings.Contains(page, want) {
			t.Errorf("recover since yesterday: want the API's %q in:\n%s", want, page)
		}
		post(epPath+"/recover", form("since", "2020-01-01T00:00"), http.StatusSeeOther)

		// Edit: bad input gets the API's message and keeps the form.
		_, page = post(epPath, form("url", hook.URL, "rateLimit", "fast", "description", "kept"), http.StatusUnprocessableEntity)
		if want := apiMessage("PATCH", "/projects/dev/webhookEndpoints/"+id, map[string]any{"rateLimit": "fast"}); !strings.Contains(page, want) ||
			!strings.Contains(page, `value="kept"`) {
			t.Errorf("edit with a bad rate limit: want the API's %q and the form kept:\n%s", want, page)
		}
		post(epPath, form("url", hook.URL, "enabledEvents", "*", "rateLimit", "5", "ordered", "on"), http.StatusSeeOther)
		got := e.must("GET", "/projects/dev/webhookEndpoints/"+id, nil, 200)
		if got["rateLimit"] != float64(5) || got["ordered"] != true || got["description"] != nil {
			t.Errorf("after edit: %v, want rateLimit 5, ordered, no description", got)
		}

		// Delete.
		post(epPath+"/delete", form(), http.StatusSeeOther)
		if n := len(e.items("/projects/dev/webhookEndpoints")); n != 0 {
			t.Errorf("%d endpoints after delete", n)
		}
	})
}
