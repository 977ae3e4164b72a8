package server_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

var generated = regexp.MustCompile(`Generated an API key for project "dev" \(shown once\): (sk_\S+)\n`)

// TestBootstrap checks the default project's API key: a generated one is
// printed once and works across restarts, a configured key replaces it, and
// a key another project holds is refused.
func TestBootstrap(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		cfg := func(key string, out *bytes.Buffer) server.Config {
			return server.Config{DB: b.DB, Schema: b.Schema, APIKey: key, Out: out}
		}
		// First start, no key configured: one is generated and printed.
		var out bytes.Buffer
		srv := servertest.Start(t, cfg("", &out))
		m := generated.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("first start printed %q, want a generated key", out.String())
		}
		key := m[1]
		servertest.NewClient(t, srv.URL(), key).Call("GET", "/projects/dev/users", nil, http.StatusOK, nil)
		other, err := srv.NewAPIKey(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		shutdown(t, srv)

		tests := []struct {
			name    string
			key     string
			printed bool
			works   []string // keys that authenticate for dev afterwards
			revoked []string // keys that no longer do
			fails   bool     // New fails
		}{
			{"a restart prints no new key", "", false, []string{key}, nil, false},
			{"a configured key replaces the generated one", "sk_test_configured", false, []string{"sk_test_configured"}, []string{key}, false},
			{"a configured key again changes nothing", "sk_test_configured", false, []string{"sk_test_configured"}, nil, false},
			{"another project's key is refused", other, false, nil, nil, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var out bytes.Buffer
				if tt.fails {
					srv, err := server.New(context.Background(), cfg(tt.key, &out))
					if err == nil {
						srv.Shutdown(context.Background())
						t.Fatal("New succeeded")
					}
					return
				}
				srv := servertest.Start(t, cfg(tt.key, &out))
				if got := generated.MatchString(out.String()); got != tt.printed {
					t.Errorf("printed %q", out.String())
				}
				for _, k := range tt.works {
					servertest.NewClient(t, srv.URL(), k).Call("GET", "/projects/dev/users", nil, http.StatusOK, nil)
				}
				for _, k := range tt.revoked {
					servertest.NewClient(t, srv.URL(), k).Call("GET", "/projects/dev/users", nil, http.StatusUnauthorized, nil)
				}
				shutdown(t, srv)
			})
		}
	})
}

func shutdown(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestOperations checks the routes served beside the API.
func TestOperations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		srv := servertest.Start(t, server.Config{DB: b.DB, Schema: b.Schema, APIKey: "sk_test_ops", AdminKey: "sk_admin_ops"})
		tests := []struct {
			path, key string
			status    int
			has       string
		}{
			{"/healthz", "", http.StatusOK, "ok"},
			{"/readyz", "", http.StatusOK, "ready"},
			{"/metrics", "sk_admin_ops", http.StatusOK, "switchboard_webhook_deliveries_taken_total"},
			{"/metrics", "", http.StatusUnauthorized, "unauthenticated"},
			{"/metrics", "sk_test_ops", http.StatusForbidden, "operatorKeyRequired"},
			{"/projects/dev/users", "", http.StatusUnauthorized, "unauthenticated"},
		}
		for _, tt := range tests {
			status, body := servertest.NewClient(t, srv.URL(), tt.key).Do("GET", tt.path, nil)
			if status != tt.status || !strings.Contains(string(body), tt.has) {
				t.Errorf("GET %s: %d, want %d with %q; body %.200s", tt.path, status, tt.status, tt.has, body)
			}
		}
	})
}

// TestOwnRoutesAnswer405 checks that a wrong method on one of the server's
// own paths is 405 with Allow and the error object, as on the API's routes,
// not the API's 404.
func TestOwnRoutesAnswer405(t *testing.T) {
	srv := servertest.Start(t, server.Config{DB: t.TempDir() + "/db", APIKey: "sk_test_ops", AdminKey: "sk_admin_ops"})
	tests := []struct{ method, path, allow string }{
		{"POST", "/healthz", "GET, HEAD"},
		{"DELETE", "/readyz", "GET, HEAD"},
		{"PUT", "/metrics", "GET, HEAD"},
		{"POST", "/openapi.json", "GET, HEAD"},
		{"POST", "/schemas/events/com.gigs.user.created", "GET, HEAD"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL()+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tt.allow ||
			!strings.Contains(body.String(), `"code":"methodNotAllowed"`) {
			t.Errorf("%s %s: %d, Allow %q, body %s; want 405, Allow %q, methodNotAllowed",
				tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), body.String(), tt.allow)
		}
	}
}

// TestClockSurvivesRestart checks that an advance of a project's test clock
// is stored: a server started again on the database runs the project on the
// advanced clock.
func TestClockSurvivesRestart(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		cfg := server.Config{DB: b.DB, Schema: b.Schema, APIKey: "sk_test_clock"}
		srv := servertest.Start(t, cfg)
		c := servertest.NewClient(t, srv.URL(), cfg.APIKey)
		var clk struct{ OffsetSeconds int64 }
		c.Call("POST", "/projects/dev/simulator/clock/advance", map[string]any{"seconds": 86400}, http.StatusOK, nil)
		c.Call("GET", "/projects/dev/simulator/clock", nil, http.StatusOK, &clk)
		if clk.OffsetSeconds < 86399 || clk.OffsetSeconds > 86401 {
			t.Fatalf("offset %d s after advancing a day", clk.OffsetSeconds)
		}
		shutdown(t, srv)
		srv = servertest.Start(t, cfg)
		if off := srv.Clocks.Offset("dev"); off < 86399*time.Second || off > 86401*time.Second {
			t.Errorf("restarted server's clock offset %s, want a day", off)
		}
	})
}
