package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
)

// recorded is what the fake server saw of one request.
type recorded struct {
	method, path, query, auth, body string
}

// fake answers every request with status and body and records it.
func fake(t *testing.T, status int, body string) (*client.Client, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*rec = recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL+"/", "sk_key", "my project"), rec
}

func TestRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name                string
		call                func(c *client.Client) error
		method, path, query string
		body                string
		answer              string
		check               func(t *testing.T)
	}{
		{
			name: "simulate",
			call: func(c *client.Client) error {
				_, err := c.SimulatePorting(ctx, "prt_1", "decline", "portingDeclined")
				return err
			},
			method: "POST", path: "/projects/my%20project/portings/prt_1/simulate",
			body: `{"action":"decline","declinedCode":"portingDeclined"}`, answer: `{"object":"porting","id":"prt_1"}`,
		},
		{
			name:   "advance clock rounds up to whole seconds",
			call:   func(c *client.Client) error { _, err := c.AdvanceClock(ctx, 1500*time.Millisecond); return err },
			method: "POST", path: "/projects/my%20project/simulator/clock/advance", body: `{"seconds":2}`, answer: `{"object":"clock"}`,
		},
		{
			name: "list events by type",
			call: func(c *client.Client) error {
				_, err := c.ListEvents(ctx, client.EventFilter{Types: []string{"a", "b"}, Page: client.Page{Limit: 5, After: "evt_1"}})
				return err
			},
			method: "GET", path: "/projects/my%20project/events", query: "after=evt_1&limit=5&type=a&type=b",
			answer: `{"object":"list","items":[],"moreItemsAfter":null,"moreItemsBefore":null}`,
		},
		{
			name:   "resend to one endpoint",
			call:   func(c *client.Client) error { _, err := c.ResendEvent(ctx, "evt_1", "whe_1"); return err },
			method: "POST", path: "/projects/my%20project/events/evt_1/resend", body: `{"endpoint":"whe_1"}`,
			answer: `{"object":"list","items":[{"id":"whd_1","status":"pending"}]}`,
		},
		{
			name: "create endpoint",
			call: func(c *client.Client) error {
				e, err := c.CreateEndpoint(ctx, client.EndpointParams{URL: "http://x/", EnabledEvents: []string{"*"}})
				if err == nil && e.Secret != "whsec_x" {
					return errors.New("secret not decoded: " + e.Secret)
				}
				return err
			},
			method: "POST", path: "/projects/my%20project/webhookEndpoints", body: `{"url":"http://x/","enabledEvents":["*"]}`,
			answer: `{"id":"whe_1","secret":"whsec_x"}`,
		},
		{
			name:   "delete endpoint",
			call:   func(c *client.Client) error { return c.DeleteEndpoint(ctx, "whe_1") },
			method: "DELETE", path: "/projects/my%20project/webhookEndpoints/whe_1", answer: `{}`,
		},
		{
			name:   "service providers are not under a project",
			call:   func(c *client.Client) error { _, err := c.ListServiceProviders(ctx, "p9", client.Page{}); return err },
			method: "GET", path: "/serviceProviders", query: "recipientProvider=p9", answer: `{"items":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := fake(t, http.StatusOK, tt.answer)
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if rec.method != tt.method || rec.path != tt.path || rec.query != tt.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", rec.method, rec.path, rec.query, tt.method, tt.path, tt.query)
			}
			if rec.auth != "Bearer sk_key" {
				t.Errorf("Authorization %q", rec.auth)
			}
			if rec.body != tt.body {
				t.Errorf("body %s, want %s", rec.body, tt.body)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, answer string
		status       int
		want         client.Error
	}{
		{"error object", `{"object":"error","type":"conflict","code":"portingNotCancelable","message":"No."}`, 409,
			client.Error{Status: 409, Type: "conflict", Code: "portingNotCancelable", Message: "No."}},
		{"plain text", "upstream down", 502, client.Error{Status: 502, Message: "upstream down"}},
		{"empty", "", 503, client.Error{Status: 503, Message: "Service Unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := fake(t, tt.status, tt.answer)
			_, err := c.GetPorting(context.Background(), "prt_1")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *client.Error", err)
			}
			if *e != tt.want {
				t.Errorf("error %+v, want %+v", *e, tt.want)
			}
			if !client.IsStatus(err, tt.status) || client.IsStatus(err, 200) {
				t.Errorf("IsStatus wrong for %v", err)
			}
		})
	}
}

func TestResourceID(t *testing.T) {
	tests := []struct{ data, want string }{
		{`{"object":"porting","id":"prt_1","subscription":"sub_1"}`, "prt_1"},
		{`{"object":"subscription","id":"sub_1"}`, "sub_1"},
		{`{"object":"portOutCredentials","subscription":"sub_2","accountPin":null}`, "sub_2"},
		{`[]`, ""},
	}
	for _, tt := range tests {
		e := &switchboard.Event{Data: json.RawMessage(tt.data)}
		if got := client.ResourceID(e); got != tt.want {
			t.Errorf("ResourceID(%s) = %q, want %q", tt.data, got, tt.want)
		}
	}
}
