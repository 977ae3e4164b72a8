package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const key = "sk_test_api"

// env is a real server on one backend and a client with the dev project's
// key.
type env struct {
	srv *server.Server
	c   *servertest.Client
}

func start(t *testing.T, b storetest.Backend) *env {
	t.Helper()
	srv := servertest.Start(t, server.Config{DB: b.DB, Schema: b.Schema, APIKey: key})
	return &env{srv: srv, c: servertest.NewClient(t, srv.URL(), key)}
}

// client returns a client for the test with its own key of a new project.
func (e *env) client(t *testing.T, project string) *servertest.Client {
	t.Helper()
	k, err := e.srv.NewAPIKey(context.Background(), project)
	if err != nil {
		t.Fatalf("new API key: %v", err)
	}
	return servertest.NewClient(t, e.srv.URL(), k)
}

// apiError is the platform's error object.
type apiError struct {
	Object, Type, Code, Message string
}

func errorOf(t *testing.T, body []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Object != "error" {
		t.Fatalf("not an error object (%v): %s", err, body)
	}
	return e
}

// count returns how many items a list has, up to 200.
func count(t *testing.T, c *servertest.Client, path string) int {
	t.Helper()
	var l struct{ Items []json.RawMessage }
	c.Call("GET", path+"?limit=200", nil, http.StatusOK, &l)
	return len(l.Items)
}

func TestAuthentication(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		other := e.client(t, "other")
		tests := []struct {
			name   string
			auth   string
			path   string
			status int
			code   string
		}{
			{"no header", "", "/projects/dev/users", http.StatusUnauthorized, "unauthenticated"},
			{"not a bearer", "Basic " + key, "/projects/dev/users", http.StatusUnauthorized, "unauthenticated"},
			{"empty token", "Bearer ", "/projects/dev/users", http.StatusUnauthorized, "unauthenticated"},
			{"unknown key", "Bearer sk_nope", "/projects/dev/users", http.StatusUnauthorized, "invalidApiKey"},
			{"another project's path", "Bearer " + other.Key, "/projects/dev/users", http.StatusNotFound, "projectNotFound"},
			{"own project", "Bearer " + other.Key, "/projects/other/users", http.StatusOK, ""},
			{"outside any project", "Bearer " + key, "/serviceProviders", http.StatusOK, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := servertest.NewClient(t, e.srv.URL(), "")
				status, body := c.Do("GET", tt.path, nil, "Authorization", tt.auth)
				if status != tt.status {
					t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
				}
				if tt.code != "" {
					if got := errorOf(t, body); got.Code != tt.code {
						t.Errorf("code %q, want %q", got.Code, tt.code)
					}
				}
			})
		}
		// A key sees its own project's resources only.
		var u struct{ ID string }
		e.c.Call("POST", "/projects/dev/users", map[string]any{"email": "dev@example.com"}, http.StatusCreated, &u)
		if n := count(t, other, "/projects/other/users"); n != 0 {
			t.Errorf("the other project lists %d users, want 0", n)
		}
		other.Call("GET", "/projects/other/users/"+u.ID, nil, http.StatusNotFound, nil)
	})
}

// TestErrors checks that bad requests get the error object with the right
// status, type and code, and change nothing.
func TestErrors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		e.c.Call("POST", "/projects/dev/users", map[string]any{"email": "taken@example.com"}, http.StatusCreated, nil)
		users, events := count(t, e.c, "/projects/dev/users"), count(t, e.c, "/projects/dev/events")
		tests := []struct {
			name         string
			method, path string
			body         string
			status       int
			typ, code    string
		}{
			{"malformed JSON", "POST", "/projects/dev/users", `{"email":`, 400, "malformed", "malformedJson"},
			{"data after the object", "POST", "/projects/dev/users", `{"email":"a@example.com"} {}`, 400, "malformed", "malformedJson"},
			{"not an object", "POST", "/projects/dev/users", `["a@example.com"]`, 400, "malformed", "malformedBody"},
			{"unknown field", "POST", "/projects/dev/users", `{"email":"a@example.com","nickname":"a"}`, 422, "invalid", "unknownField"},
			{"wrong type", "POST", "/projects/dev/users", `{"email":42}`, 422, "invalid", "invalidType"},
			{"missing field", "POST", "/projects/dev/users", `{}`, 422, "invalid", "fieldRequired"},
			{"invalid field", "POST", "/projects/dev/users", `{"email":"not an address"}`, 422, "invalid", "invalidEmail"},
			{"duplicate", "POST", "/projects/dev/users", `{"email":"taken@example.com"}`, 409, "conflict", "userAlreadyExists"},
			{"unknown resource", "GET", "/projects/dev/users/usr_nope", ``, 404, "notFound", "userNotFound"},
			{"update of an unknown resource", "PATCH", "/projects/dev/users/usr_nope", `{"fullName":"A"}`, 404, "notFound", "userNotFound"},
			{"unknown route", "GET", "/projects/dev/nothing", ``, 404, "notFound", "routeNotFound"},
			{"invalid limit", "GET", "/projects/dev/users?limit=0", ``, 422, "invalid", "invalidLimit"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := servertest.NewClient(t, e.c.Base, key)
				status, body := c.Do(tt.method, tt.path, tt.body)
				if status != tt.status {
					t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
				}
				got := errorOf(t, body)
				if got.Type != tt.typ || got.Code != tt.code || got.Message == "" {
					t.Errorf("error %+v, want type %q, code %q and a message", got, tt.typ, tt.code)
				}
			})
		}
		if n := count(t, e.c, "/projects/dev/users"); n != users {
			t.Errorf("%d users after the bad requests, want %d", n, users)
		}
		if n := count(t, e.c, "/projects/dev/events"); n != events {
			t.Errorf("%d events after the bad requests, want %d", n, events)
		}
	})
}

// page is a list response.
type page struct {
	Object string
	Items  []struct{ ID string }
	// MoreItemsAfter and MoreItemsBefore are null or an ID.
	MoreItemsAfter, MoreItemsBefore *string
}

func (p page) ids() []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestPagination(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		c := e.client(t, "pages")
		var created []string // oldest first
		for i := range 5 {
			var u struct{ ID string }
			c.Call("POST", "/projects/pages/users", map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}, http.StatusCreated, &u)
			created = append(created, u.ID)
		}
		newest := func(i int) string { return created[len(created)-1-i] }
		str := func(p *string) string {
			if p == nil {
				return "null"
			}
			return *p
		}
		tests := []struct {
			name          string
			query         string
			want          []string
			after, before string // "null" for none
		}{
			{"first page, newest first", "limit=2", []string{newest(0), newest(1)}, newest(1), "null"},
			{"next page", "limit=2&after=" + newest(1), []string{newest(2), newest(3)}, newest(3), newest(2)},
			{"last page", "limit=2&after=" + newest(3), []string{newest(4)}, "null", newest(4)},
			{"back a page", "limit=2&before=" + newest(2), []string{newest(0), newest(1)}, newest(1), "null"},
			{"default limit takes all five", "", []string{newest(0), newest(1), newest(2), newest(3), newest(4)}, "null", "null"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var p page
				servertest.NewClient(t, c.Base, c.Key).Call("GET", "/projects/pages/users?"+tt.query, nil, http.StatusOK, &p)
				if p.Object != "list" || strings.Join(p.ids(), ",") != strings.Join(tt.want, ",") {
					t.Errorf("%s items %v, want list %v", p.Object, p.ids(), tt.want)
				}
				if str(p.MoreItemsAfter) != tt.after || str(p.MoreItemsBefore) != tt.before {
					t.Errorf("moreItemsAfter %s, moreItemsBefore %s; want %s, %s", str(p.MoreItemsAfter), str(p.MoreItemsBefore), tt.after, tt.before)
				}
			})
		}
		bad := []struct{ name, query, code string }{
			{"limit zero", "limit=0", "invalidLimit"},
			{"limit over 200", "limit=201", "invalidLimit"},
			{"limit not a number", "limit=ten", "invalidLimit"},
			{"after and before", "after=" + created[0] + "&before=" + created[1], "invalidPagination"},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				status, body := servertest.NewClient(t, c.Base, c.Key).Do("GET", "/projects/pages/users?"+tt.query, nil)
				if status != http.StatusUnprocessableEntity || errorOf(t, body).Code != tt.code {
					t.Errorf("status %d, body %s; want 422 %s", status, body, tt.code)
				}
			})
		}
	})
}

func TestIdempotency(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		c := e.client(t, "idem")
		users := func() int { return count(t, c, "/projects/idem/users") }
		type step struct {
			key, body string
			status    int
			replayed  bool
			code      string
		}
		tests := []struct {
			name      string
			path      string
			steps     []step
			wantUsers int // users the project has after the steps
		}{
			{"a retry gets the first response and creates nothing", "/projects/idem/users", []step{
				{"k1", `{"email":"a@example.com"}`, 201, false, ""},
				{"k1", `{"email":"a@example.com"}`, 201, true, ""},
			}, 1},
			{"another body with the key is a conflict", "/projects/idem/users", []step{
				{"k2", `{"email":"b@example.com"}`, 201, false, ""},
				{"k2", `{"email":"c@example.com"}`, 409, false, "idempotencyKeyReused"},
			}, 2},
			{"a 4xx is the answer to every retry", "/projects/idem/users", []step{
				{"k3", `{"email":"not an address"}`, 422, false, "invalidEmail"},
				{"k3", `{"email":"not an address"}`, 422, true, "invalidEmail"},
			}, 2},
			{"keys are per request: a new key makes a new user", "/projects/idem/users", []step{
				{"k4", `{"email":"d@example.com"}`, 201, false, ""},
				{"k5", `{"email":"d@example.com"}`, 409, false, "userAlreadyExists"},
			}, 3},
			{"a key over 255 characters is refused", "/projects/idem/users", []step{
				{strings.Repeat("k", 256), `{"email":"e@example.com"}`, 422, false, "invalidIdempotencyKey"},
			}, 3},
			{"a response that showed a secret is not replayed", "/projects/idem/webhookEndpoints", []step{
				{"k6", `{"url":"https://example.com/hook","enabledEvents":["*"]}`, 201, false, ""},
				{"k6", `{"url":"https://example.com/hook","enabledEvents":["*"]}`, 409, true, "idempotentSecretNotReplayed"},
			}, 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cc := servertest.NewClient(t, c.Base, c.Key)
				var first []byte
				for i, s := range tt.steps {
					status, h, body := cc.DoHeader("POST", tt.path, s.body, "Idempotency-Key", s.key)
					if status != s.status {
						t.Fatalf("step %d: status %d, want %d; body %s", i, status, s.status, body)
					}
					if got := h.Get("Idempotent-Replayed") == "true"; got != s.replayed {
						t.Errorf("step %d: replayed %v, want %v", i, got, s.replayed)
					}
					if s.code != "" {
						if got := errorOf(t, body).Code; got != s.code {
							t.Errorf("step %d: code %q, want %q", i, got, s.code)
						}
					}
					if i == 0 {
						first = body
					} else if s.replayed && s.status == tt.steps[0].status && string(body) != string(first) {
						t.Errorf("step %d: replay %s differs from the first response %s", i, body, first)
					}
				}
				if n := users(); n != tt.wantUsers {
					t.Errorf("%d users, want %d", n, tt.wantUsers)
				}
			})
		}
	})
}
