package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const conventionsKey = "sk_test_conventions"

// errorObject is the platform's error object, every field required.
type errorObject struct {
	Object, Type, Code, Message string
}

// call sends a request to the server and returns the status, the headers
// and the body.
func call(t *testing.T, method, url, auth string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// decodeError decodes the body as the error object and checks its fields.
func decodeError(t *testing.T, body []byte) errorObject {
	t.Helper()
	var e errorObject
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if e.Object != "error" || e.Type == "" || e.Code == "" || e.Message == "" {
		t.Fatalf("body %s is not a complete error object", body)
	}
	return e
}

// TestHTTPConventions checks, through a real server, that a wrong method on
// a known path is 405 with Allow, a body over the limit is 413, and the
// Bearer scheme is matched case-insensitively — each with the error object.
func TestHTTPConventions(t *testing.T) {
	b := storetest.New(t, "sqlite")
	srv := servertest.Start(t, server.Config{DB: b.DB, APIKey: conventionsKey})
	base := srv.URL()
	bearer := "Bearer " + conventionsKey

	t.Run("method not allowed", func(t *testing.T) {
		tests := []struct {
			name, method, path, allow string
		}{
			{"delete the users list", "DELETE", "/projects/dev/users", "GET, HEAD, POST"},
			{"put a user", "PUT", "/projects/dev/users/usr_x", "GET, HEAD, PATCH, DELETE"},
			{"get an action", "GET", "/projects/dev/portings/prt_x/cancel", "POST"},
			{"post to an event", "POST", "/projects/dev/events/evt_x", "GET, HEAD"},
			{"patch the events", "PATCH", "/projects/dev/events", "GET, HEAD"},
			{"delete an endpoint's deliveries", "DELETE", "/projects/dev/webhookEndpoints/we_x/deliveries", "GET, HEAD"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, auth := range []string{bearer, ""} { // routing comes before authentication
					status, h, body := call(t, tt.method, base+tt.path, auth, nil)
					if status != http.StatusMethodNotAllowed {
						t.Fatalf("%s %s (auth %q) = %d %s, want 405", tt.method, tt.path, auth, status, body)
					}
					if got := h.Get("Allow"); got != tt.allow {
						t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
					}
					if e := decodeError(t, body); e.Code != "methodNotAllowed" || e.Type != "malformed" {
						t.Errorf("%s %s: error %s/%s, want malformed/methodNotAllowed", tt.method, tt.path, e.Type, e.Code)
					}
				}
			})
		}
	})

	t.Run("unknown path is still 404", func(t *testing.T) {
		status, h, body := call(t, "DELETE", base+"/projects/dev/nothing", bearer, nil)
		if status != http.StatusNotFound || h.Get("Allow") != "" {
			t.Fatalf("DELETE of an unknown path = %d (Allow %q) %s, want 404 without Allow", status, h.Get("Allow"), body)
		}
		if e := decodeError(t, body); e.Code != "routeNotFound" {
			t.Errorf("code %s, want routeNotFound", e.Code)
		}
	})

	t.Run("body over the limit", func(t *testing.T) {
		big := `{"email":"a@example.com","fullName":"` + strings.Repeat("x", 2<<20) + `"}`
		for _, idem := range []string{"", "big-1"} {
			req, err := http.NewRequest("POST", base+"/projects/dev/users", strings.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", bearer)
			if idem != "" {
				req.Header.Set("Idempotency-Key", idem)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("a 2 MiB body (idempotency key %q) = %d %.200s, want 413", idem, resp.StatusCode, body)
			}
			if e := decodeError(t, body); e.Code != "requestTooLarge" {
				t.Errorf("code %s, want requestTooLarge", e.Code)
			}
		}
		// Nothing was created.
		status, _, body := call(t, "GET", base+"/projects/dev/users", bearer, nil)
		var l struct{ Items []json.RawMessage }
		if status != 200 || json.Unmarshal(body, &l) != nil || len(l.Items) != 0 {
			t.Errorf("after the refused bodies the users are %d %s, want none", status, body)
		}
	})

	t.Run("authorization scheme", func(t *testing.T) {
		tests := []struct {
			auth   string
			status int
			code   string
		}{
			{"Bearer " + conventionsKey, 200, ""},
			{"bearer " + conventionsKey, 200, ""},
			{"BEARER " + conventionsKey, 200, ""},
			{"  Bearer   " + conventionsKey + " ", 200, ""},
			{"Basic " + conventionsKey, 401, "unauthenticated"},
			{"Bearer", 401, "unauthenticated"},
			{"Bearer sk_wrong", 401, "invalidApiKey"},
			{"bearer sk_wrong", 401, "invalidApiKey"},
			{conventionsKey, 401, "unauthenticated"},
		}
		for _, tt := range tests {
			status, _, body := call(t, "GET", base+"/projects/dev/users", tt.auth, nil)
			if status != tt.status {
				t.Errorf("Authorization %q = %d %s, want %d", tt.auth, status, body, tt.status)
				continue
			}
			if tt.code != "" {
				if e := decodeError(t, body); e.Code != tt.code {
					t.Errorf("Authorization %q: code %s, want %s", tt.auth, e.Code, tt.code)
				}
			}
		}
	})
}
