package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const adminKey = "sk_admin_e2e"

// startTenancy runs a server with a known operator key.
func startTenancy(t *testing.T, b storetest.Backend, configure ...func(*server.Config)) *env {
	t.Helper()
	return start(t, b, append([]func(*server.Config){func(c *server.Config) { c.AdminKey = adminKey }}, configure...)...)
}

// as returns a client of the same server that authenticates with key.
func (e *env) as(key string) *env {
	c := *e
	c.key, c.seen = key, map[string]bool{}
	return &c
}

// errorCode checks that the answer is the error object with the status and
// code.
func (e *env) errorCode(method, path string, body any, status int, code string) {
	e.t.Helper()
	var o obj
	if err := json.Unmarshal(e.call(method, path, body, status), &o); err != nil {
		e.t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	if o.str("object") != "error" || o.str("code") != code || o.str("message") == "" {
		e.t.Fatalf("%s %s: %v, want the error object with code %s", method, path, o, code)
	}
}

// eventTypes returns the types of the project's events, newest first.
func (e *env) eventTypes(project string) []string {
	e.t.Helper()
	l := e.json("GET", "/projects/"+project+"/events?limit=200", nil, 200)
	var out []string
	for _, it := range l["items"].([]any) {
		out = append(out, obj(it.(map[string]any)).str("type"))
	}
	return out
}

func TestProjectsNeedTheOperatorKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := startTenancy(t, b)
		op := e.as(adminKey)

		// The default project exists, in test mode.
		dev := op.json("GET", "/projects/dev", nil, 200)
		if dev.str("object") != "project" || dev.str("mode") != "test" {
			t.Fatalf("default project %v, want a test project", dev)
		}
		live := op.json("POST", "/projects", obj{"id": "acme-live", "name": "Acme", "mode": "live"}, 201)
		if live.str("id") != "acme-live" || live.str("mode") != "live" || live.str("createdAt") == "" {
			t.Fatalf("created %v", live)
		}
		op.json("POST", "/projects", obj{"id": "acme-test", "name": "Acme (test)", "mode": "test"}, 201)

		tests := []struct {
			name         string
			key          string
			method, path string
			body         any
			status       int
			code         string
		}{
			{"project key creates a project", e.key, "POST", "/projects", obj{"id": "x", "name": "X", "mode": "test"}, 403, "operatorKeyRequired"},
			{"project key lists projects", e.key, "GET", "/projects", nil, 403, "operatorKeyRequired"},
			{"project key renames its project", e.key, "PATCH", "/projects/dev", obj{"name": "mine"}, 403, "operatorKeyRequired"},
			{"project key reads another project", e.key, "GET", "/projects/acme-live", nil, 404, "projectNotFound"},
			{"project key reads another project's keys", e.key, "GET", "/projects/acme-live/apiKeys", nil, 404, "projectNotFound"},
			{"no key", "", "GET", "/projects", nil, 401, "unauthenticated"},
			{"wrong key", "sk_nope", "GET", "/projects", nil, 401, "invalidApiKey"},
			{"duplicate", adminKey, "POST", "/projects", obj{"id": "acme-live", "name": "Again", "mode": "live"}, 409, "projectExists"},
			{"default project again", adminKey, "POST", "/projects", obj{"id": "dev", "name": "Again", "mode": "live"}, 409, "projectExists"},
			{"bad id", adminKey, "POST", "/projects", obj{"id": "Acme_1", "name": "A", "mode": "test"}, 422, "invalidValue"},
			{"id too long", adminKey, "POST", "/projects", obj{"id": strings.Repeat("a", 64), "name": "A", "mode": "test"}, 422, "invalidValue"},
			{"no name", adminKey, "POST", "/projects", obj{"id": "a", "mode": "test"}, 422, "fieldRequired"},
			{"bad mode", adminKey, "POST", "/projects", obj{"id": "a", "name": "A", "mode": "prod"}, 422, "invalidValue"},
			{"mode change", adminKey, "PATCH", "/projects/acme-live", obj{"mode": "test"}, 422, "modeImmutable"},
			{"unknown project", adminKey, "GET", "/projects/nope", nil, 404, "projectNotFound"},
			{"unknown project's users", adminKey, "GET", "/projects/nope/users", nil, 404, "projectNotFound"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := e.as(tc.key)
				c.t = t
				c.errorCode(tc.method, tc.path, tc.body, tc.status, tc.code)
			})
		}
		// Nothing changed: three projects, the live one still live.
		l := op.json("GET", "/projects?limit=2", nil, 200)
		if n := len(l["items"].([]any)); n != 2 || l["moreItemsAfter"] == nil {
			t.Fatalf("first page %v, want 2 items and more", l)
		}
		l = op.json("GET", "/projects?limit=2&after="+l.str("moreItemsAfter"), nil, 200)
		if n := len(l["items"].([]any)); n != 1 || l["moreItemsAfter"] != nil {
			t.Fatalf("second page %v, want 1 item and no more", l)
		}
		if got := op.json("GET", "/projects/acme-live", nil, 200); got.str("mode") != "live" || got.str("name") != "Acme" {
			t.Fatalf("after the refused changes: %v", got)
		}
		if got := op.json("PATCH", "/projects/acme-live", obj{"name": "Acme Inc."}, 200); got.str("name") != "Acme Inc." {
			t.Fatalf("renamed: %v", got)
		}
		// A project key reads its own project; the operator reaches a
		// project's resources too; a new project has the catalog's plans.
		if got := e.json("GET", "/projects/dev", nil, 200); got.str("id") != "dev" {
			t.Fatalf("own project: %v", got)
		}
		if l := op.json("GET", "/projects/acme-test/plans", nil, 200); len(l["items"].([]any)) == 0 {
			t.Fatal("a new project has no plans")
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := startTenancy(t, b)
		op := e.as(adminKey)
		op.json("POST", "/projects", obj{"id": "acme", "name": "Acme", "mode": "live"}, 201)

		// The operator makes acme's first key; the token shows once.
		k := op.json("POST", "/projects/acme/apiKeys", obj{"name": "backend"}, 201)
		token := k.str("token")
		if k.str("object") != "apiKey" || !strings.HasPrefix(k.str("id"), "apk_") || k.str("name") != "backend" ||
			!strings.HasPrefix(token, "sk_live_") || len(token) < 40 || k["expiresAt"] != nil || k.str("createdAt") == "" {
			t.Fatalf("created %v", k)
		}
		acme := e.as(token)
		// The key works on its project, and manages its project's keys.
		acme.json("GET", "/projects/acme/users", nil, 200)
		second := acme.json("POST", "/projects/acme/apiKeys", obj{"name": "rotation"}, 201)
		// It sees nothing of another project.
		acme.errorCode("GET", "/projects/dev/users", nil, 404, "projectNotFound")
		acme.errorCode("DELETE", "/projects/dev/apiKeys/"+k.str("id"), nil, 404, "projectNotFound")
		e.errorCode("DELETE", "/projects/dev/apiKeys/"+k.str("id"), nil, 404, "apiKeyNotFound")

		// Listed and read, redacted.
		l := acme.json("GET", "/projects/acme/apiKeys", nil, 200)
		items := l["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("listed %d keys, want 2", len(items))
		}
		for _, it := range items {
			red := obj(it.(map[string]any)).str("token")
			if !strings.HasPrefix(red, "sk_live_") || !strings.HasSuffix(red, "••••") || len(red) > len("sk_live_")+4+len("••••") {
				t.Fatalf("listed token %q, want a prefix and ••••", red)
			}
		}
		one := acme.json("GET", "/projects/acme/apiKeys/"+k.str("id"), nil, 200)
		if one.str("token") == token || !strings.HasSuffix(one.str("token"), "••••") {
			t.Fatalf("read token %q", one.str("token"))
		}
		// The event, without the token.
		ev := acme.json("GET", "/projects/acme/events?type=com.gigs.apiKey.created", nil, 200)
		raw, _ := json.Marshal(ev)
		if n := len(ev["items"].([]any)); n != 2 || bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(second.str("token"))) {
			t.Fatalf("apiKey.created events: %d, or a token shows: %s", n, raw)
		}
		// A retry with the idempotency key does not show the token again.
		body := obj{"name": "ci"}
		acme.json("POST", "/projects/acme/apiKeys", body, 201)
		acme.call("POST", "/projects/acme/apiKeys", body, 201, "Idempotency-Key", "k1")
		retry := acme.call("POST", "/projects/acme/apiKeys", body, 409, "Idempotency-Key", "k1")
		if !bytes.Contains(retry, []byte(`"code":"idempotentSecretNotReplayed"`)) || bytes.Contains(retry, []byte("sk_live_")) {
			t.Fatalf("retry answered %s", retry)
		}

		// Bad input changes nothing.
		before := len(acme.json("GET", "/projects/acme/apiKeys?limit=200", nil, 200)["items"].([]any))
		for _, bad := range []struct {
			body any
			code string
		}{
			{obj{}, "fieldRequired"},
			{obj{"name": strings.Repeat("n", 201)}, "invalidLength"},
			{obj{"name": "old", "expiresAt": "2001-01-01T00:00:00Z"}, "invalidValue"},
			{obj{"name": "x", "token": "sk_live_mine"}, "unknownField"},
		} {
			acme.errorCode("POST", "/projects/acme/apiKeys", bad.body, 422, bad.code)
		}
		if after := len(acme.json("GET", "/projects/acme/apiKeys?limit=200", nil, 200)["items"].([]any)); after != before {
			t.Fatalf("%d keys after bad input, want %d", after, before)
		}

		// Revoked: refused at once, by the same server.
		acme.json("DELETE", "/projects/acme/apiKeys/"+k.str("id"), nil, 200)
		acme.errorCode("GET", "/projects/acme/users", nil, 401, "invalidApiKey")
		e.as(second.str("token")).errorCode("GET", "/projects/acme/apiKeys/"+k.str("id"), nil, 404, "apiKeyNotFound")

		// A key that expires stops working when it does, cached or not.
		exp := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
		short := op.json("POST", "/projects/acme/apiKeys", obj{"name": "short", "expiresAt": exp.Format(time.RFC3339)}, 201)
		if short.str("expiresAt") != exp.Format(time.RFC3339) {
			t.Fatalf("expiresAt %q, want %s", short.str("expiresAt"), exp.Format(time.RFC3339))
		}
		sk := e.as(short.str("token"))
		sk.json("GET", "/projects/acme/users", nil, 200)
		storetest.WaitFor(t, 10*time.Second, "the key to expire", func() bool {
			status, _ := sk.send("GET", "/projects/acme/users", nil)
			return status == http.StatusUnauthorized
		})
		if time.Now().Before(exp) {
			t.Fatalf("the key stopped working before it expired at %s", exp)
		}
	})
}

// TestRevocationAcrossProcesses revokes a key on one server and checks that
// another server on the same PostgreSQL database refuses it within a
// second, though it had just accepted (and cached) it.
func TestRevocationAcrossProcesses(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	a := startTenancy(t, b)
	other := startTenancy(t, b)
	k := a.as(adminKey).json("POST", "/projects/dev/apiKeys", obj{"name": "shared"}, 201)
	onB := other.as(k.str("token"))
	onB.json("GET", "/projects/dev/users", nil, 200)
	onB.json("GET", "/projects/dev/users", nil, 200) // served from the cache
	a.json("DELETE", "/projects/dev/apiKeys/"+k.str("id"), nil, 200)
	revoked := time.Now()
	a.as(k.str("token")).errorCode("GET", "/projects/dev/users", nil, 401, "invalidApiKey")
	storetest.WaitFor(t, time.Second, "the other server to refuse the revoked key", func() bool {
		status, _ := onB.send("GET", "/projects/dev/users", nil)
		return status == http.StatusUnauthorized
	})
	t.Logf("refused by the other server %s after the revocation", time.Since(revoked).Round(time.Millisecond))
}

func TestTestModeGatesTheSimulator(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		for _, sim := range []string{"on", "off"} {
			t.Run("simulator "+sim, func(t *testing.T) {
				e := startTenancy(t, storetest.New(t, b.Name), func(c *server.Config) { c.Simulator = sim })
				op := e.as(adminKey)
				op.json("POST", "/projects", obj{"id": "prod", "name": "Prod", "mode": "live"}, 201)
				live := e.as(op.json("POST", "/projects/prod/apiKeys", obj{"name": "k"}, 201).str("token"))
				live.errorCode("GET", "/projects/prod/simulator/clock", nil, 403, "testModeOnly")
				live.errorCode("POST", "/projects/prod/simulator/clock/advance", obj{"seconds": 60}, 403, "testModeOnly")
				live.errorCode("POST", "/projects/prod/portings/prt_x/simulate", obj{"action": "request"}, 403, "testModeOnly")
				op.errorCode("POST", "/projects/prod/simulator/clock/advance", obj{"seconds": 60}, 403, "testModeOnly")
				// The global clock is gone.
				e.errorCode("POST", "/simulator/clock/advance", obj{"seconds": 60}, 404, "routeNotFound")
				e.errorCode("GET", "/simulator/clock", nil, 404, "routeNotFound")
				// In a test project the clock is there; simulate only with
				// the simulator on.
				e.json("GET", "/projects/dev/simulator/clock", nil, 200)
				if sim == "off" {
					e.errorCode("POST", "/projects/dev/portings/prt_x/simulate", obj{"action": "request"}, 404, "simulatorDisabled")
				} else {
					e.errorCode("POST", "/projects/dev/portings/prt_x/simulate", obj{"action": "request"}, 404, "portingNotFound")
				}
			})
		}
	})
}

// subscribe makes a user and an active monthly subscription in the project.
func (e *env) subscribe(project string) string {
	e.t.Helper()
	p := "/projects/" + project
	user := e.json("POST", p+"/users", obj{"email": "u@example.com"}, 201).str("id")
	plan := e.json("POST", p+"/plans", obj{
		"name": "Thirty Days", "provider": "p9", "price": obj{"amount": 1500, "currency": "USD"},
		"validity": obj{"type": "recurring", "unit": "day", "value": 30, "minimumPeriods": 1},
	}, 201).str("id")
	return e.json("POST", p+"/subscriptions", obj{"user": user, "plan": plan}, 201).str("id")
}

func TestClocksArePerProject(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := startTenancy(t, b)
		op := e.as(adminKey)
		op.json("POST", "/projects", obj{"id": "other", "name": "Other", "mode": "test"}, 201)
		other := e.as(op.json("POST", "/projects/other/apiKeys", obj{"name": "k"}, 201).str("token"))
		e.subscribe("dev")
		other.subscribe("other")
		before := other.json("GET", "/projects/other/simulator/clock", nil, 200)

		// 31 days on dev's clock renew dev's subscription, and nothing of
		// the other project's.
		c := e.json("POST", "/projects/dev/simulator/clock/advance", obj{"seconds": 31 * 24 * 3600}, 200)
		if c.str("object") != "clock" || c.str("project") != "dev" || c["offsetSeconds"].(float64) != 31*24*3600 ||
			c["timersFired"].(float64) < 1 {
			t.Fatalf("advanced: %v", c)
		}
		if got := e.eventTypes("dev"); !slices.Contains(got, "com.gigs.subscription.renewed") {
			t.Fatalf("dev's events %q, want a renewal", got)
		}
		for _, typ := range other.eventTypes("other") {
			if typ == "com.gigs.subscription.renewed" {
				t.Fatal("the other project's subscription renewed with dev's clock")
			}
		}
		after := other.json("GET", "/projects/other/simulator/clock", nil, 200)
		if after["offsetSeconds"].(float64) != 0 || after.str("time") > before.str("time") && after.str("time")[:10] != before.str("time")[:10] {
			t.Fatalf("the other project's clock moved: %v then %v", before, after)
		}
		// The time of dev's events is dev's time.
		l := e.json("GET", "/projects/dev/events?limit=1", nil, 200)
		evTime, _ := time.Parse(time.RFC3339, obj(l["items"].([]any)[0].(map[string]any)).str("time"))
		if evTime.Before(time.Now().Add(30 * 24 * time.Hour)) {
			t.Fatalf("renewed at %s, want dev's time, a month ahead", evTime)
		}

		// Bounds: per call, in total, and bad values; none moves the clock.
		for _, bad := range []struct {
			body any
			code string
		}{
			{obj{"seconds": 0}, "invalidValue"},
			{obj{"seconds": -5}, "invalidValue"},
			{obj{"seconds": 365*24*3600 + 1}, "invalidValue"},
			{obj{"seconds": 1.5}, "invalidType"},
			{obj{"seconds": "60"}, "invalidType"},
			{`{"seconds": 1e30}`, "invalidType"},
			{obj{}, "fieldRequired"},
		} {
			other.errorCode("POST", "/projects/other/simulator/clock/advance", bad.body, 422, bad.code)
		}
		for range 10 {
			other.json("POST", "/projects/other/simulator/clock/advance", obj{"seconds": 365 * 24 * 3600}, 200)
		}
		other.errorCode("POST", "/projects/other/simulator/clock/advance", obj{"seconds": 1}, 422, "clockLimitReached")
		got := other.json("GET", "/projects/other/simulator/clock", nil, 200)
		if got["offsetSeconds"].(float64) != 10*365*24*3600 {
			t.Fatalf("after the limit: %v", got)
		}
		tm, err := time.Parse(time.RFC3339, got.str("time"))
		if err != nil || tm.Year() < time.Now().Year()+9 || tm.Year() > time.Now().Year()+11 {
			t.Fatalf("clock time %q: %v", got.str("time"), err)
		}
		// dev's clock is where dev left it.
		if d := e.json("GET", "/projects/dev/simulator/clock", nil, 200); d["offsetSeconds"].(float64) != 31*24*3600 {
			t.Fatalf("dev's clock: %v", d)
		}
	})
}

// TestClockMovesNoDelivery checks that advancing a project's clock moves
// neither its own nor another project's webhook delivery: an endpoint
// failing for six days of test-clock time is not disabled (delivery runs
// on the server's wall clock).
func TestClockMovesNoDelivery(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		var received atomic.Int64
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			received.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(rcv.Close)
		e := startTenancy(t, b, func(c *server.Config) {
			c.Delivery.Schedule = slices.Repeat([]time.Duration{20 * time.Millisecond}, 1000)
			c.Delivery.Jitter = -1
			c.Delivery.DisableAfter = 5 * 24 * time.Hour
			c.Delivery.PollInterval = 10 * time.Millisecond
		})
		op := e.as(adminKey)
		op.json("POST", "/projects", obj{"id": "other", "name": "Other", "mode": "test"}, 201)
		other := e.as(op.json("POST", "/projects/other/apiKeys", obj{"name": "k"}, 201).str("token"))
		ep := e.json("POST", "/projects/dev/webhookEndpoints", obj{"url": rcv.URL, "enabledEvents": []string{"*"}}, 201)
		e.json("POST", "/projects/dev/users", obj{"email": "a@example.com"}, 201)
		storetest.WaitFor(t, 10*time.Second, "a failed attempt", func() bool { return received.Load() >= 1 })
		other.json("POST", "/projects/other/simulator/clock/advance", obj{"seconds": 6 * 24 * 3600}, 200)
		e.json("POST", "/projects/dev/simulator/clock/advance", obj{"seconds": 6 * 24 * 3600}, 200)
		seen := received.Load()
		storetest.WaitFor(t, 10*time.Second, "more failed attempts after the advances", func() bool { return received.Load() >= seen+3 })
		if got := e.json("GET", "/projects/dev/webhookEndpoints/"+ep.str("id"), nil, 200); got.str("status") != "enabled" {
			t.Fatalf("endpoint %s after the clocks moved six days, want enabled", got.str("status"))
		}
	})
}

func TestMetricsNeedTheOperatorKey(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := startTenancy(t, b)
		get := func(url, key string) (int, string) {
			req, _ := http.NewRequest("GET", url, nil)
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		for _, tc := range []struct {
			key    string
			status int
			code   string
		}{{"", 401, "unauthenticated"}, {e.key, 403, "operatorKeyRequired"}, {"sk_wrong", 403, "operatorKeyRequired"}} {
			status, body := get(e.base+"/metrics", tc.key)
			if status != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) || strings.Contains(body, "switchboard_") {
				t.Fatalf("/metrics with %q: %d %s", tc.key, status, body)
			}
		}
		if status, body := get(e.base+"/metrics", adminKey); status != 200 || !strings.Contains(body, "switchboard_webhook_pending") {
			t.Fatalf("/metrics with the operator key: %d %.200s", status, body)
		}
		for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
			if status, body := get(e.base+path, ""); status != 200 || body != want {
				t.Fatalf("%s: %d %q", path, status, body)
			}
		}

		// On a listener of its own, /metrics is open there and gone from
		// the API's.
		own := startTenancy(t, storetest.New(t, b.Name), func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" })
		if status, body := get("http://"+own.srv.MetricsAddr()+"/metrics", ""); status != 200 || !strings.Contains(body, "switchboard_webhook_pending") {
			t.Fatalf("/metrics on its own listener: %d %.200s", status, body)
		}
		if status, _ := get(own.base+"/metrics", adminKey); status != 404 {
			t.Fatalf("/metrics beside the API with --metrics-addr: %d, want 404", status)
		}
	})
}

// TestConfiguredKeysChange restarts a server on one database with other
// SWITCHBOARD_API_KEY and SWITCHBOARD_ADMIN_KEY values: the previous ones
// stop working.
func TestConfiguredKeysChange(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		run := func(apiKey, admin string) (*env, string) {
			t.Helper()
			var out bytes.Buffer
			cfg := server.Config{Addr: "127.0.0.1:0", DB: b.DB, Schema: b.Schema, Project: project, APIKey: apiKey, AdminKey: admin,
				SecretKey: servertest.SecretKey, Out: &out, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			srv, err := server.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Shutdown(context.Background()) })
			return &env{t: t, srv: srv, base: srv.URL(), key: apiKey, seen: map[string]bool{}}, out.String()
		}
		stop := func(e *env) {
			if err := e.srv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		// First start: both generated, printed once.
		first, printed := run("", "")
		admin := tokenAfter(t, printed, "Generated the operator key")
		generated := tokenAfter(t, printed, "Generated an API key")
		first.as(generated).json("GET", "/projects/dev/users", nil, 200)
		first.as(admin).json("GET", "/projects", nil, 200)
		kept := first.as(admin).json("POST", "/projects/dev/apiKeys", obj{"name": "made through the API"}, 201).str("token")
		stop(first)

		// Second start, nothing configured: nothing changes, nothing printed.
		second, printed := run("", "")
		if printed != "" {
			t.Fatalf("second start printed %q", printed)
		}
		second.as(generated).json("GET", "/projects/dev/users", nil, 200)
		second.as(admin).json("GET", "/projects", nil, 200)
		stop(second)

		// SWITCHBOARD_API_KEY=one, SWITCHBOARD_ADMIN_KEY=adm1: the configured
		// keys work, the generated key (not the API's) and operator key do not.
		third, _ := run("sk_test_one", "adm1")
		third.as("sk_test_one").json("GET", "/projects/dev/users", nil, 200)
		third.as(kept).json("GET", "/projects/dev/users", nil, 200)
		third.as(generated).errorCode("GET", "/projects/dev/users", nil, 401, "invalidApiKey")
		third.as(admin).errorCode("GET", "/projects", nil, 401, "invalidApiKey")
		third.as("adm1").json("GET", "/projects", nil, 200)
		stop(third)

		// SWITCHBOARD_API_KEY=two: one is revoked.
		fourth, _ := run("sk_test_two", "adm1")
		fourth.as("sk_test_one").errorCode("GET", "/projects/dev/users", nil, 401, "invalidApiKey")
		fourth.as("sk_test_two").json("GET", "/projects/dev/users", nil, 200)
		stop(fourth)

		// Unset again: two is revoked too; the key made through the API
		// stays, so no key is generated.
		fifth, printed := run("", "")
		fifth.as("sk_test_two").errorCode("GET", "/projects/dev/users", nil, 401, "invalidApiKey")
		fifth.as(kept).json("GET", "/projects/dev/users", nil, 200)
		fifth.as("adm1").json("GET", "/projects", nil, 200)
		if printed != "" {
			t.Fatalf("fifth start printed %q", printed)
		}
		// Once the project has no key left, the next start generates one.
		fifth.as("adm1").json("DELETE", "/projects/dev/apiKeys/"+fifth.keyID(kept), nil, 200)
		stop(fifth)
		sixth, printed := run("", "")
		sixth.as(tokenAfter(t, printed, "Generated an API key")).json("GET", "/projects/dev/users", nil, 200)
		sixth.as(kept).errorCode("GET", "/projects/dev/users", nil, 401, "invalidApiKey")
	})
}

// keyID returns the ID of the project's key whose redacted token the token
// begins with.
func (e *env) keyID(token string) string {
	e.t.Helper()
	l := e.as(token).json("GET", "/projects/dev/apiKeys?limit=200", nil, 200)
	for _, it := range l["items"].([]any) {
		k := obj(it.(map[string]any))
		if strings.HasPrefix(token, strings.TrimSuffix(k.str("token"), "••••")) && k.str("name") == "made through the API" {
			return k.str("id")
		}
	}
	e.t.Fatalf("no key for %s", token)
	return ""
}

// tokenAfter returns the token printed on the line that begins with prefix.
func tokenAfter(t *testing.T, printed, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(printed, "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			return f[len(f)-1]
		}
	}
	t.Fatalf("no line %q in %q", prefix, printed)
	return ""
}

// TestClockAcrossProcesses moves a project's clock on one server and checks
// that another server on the same PostgreSQL database dates the project's
// changes by the moved clock, and fires its timers.
func TestClockAcrossProcesses(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	a := startTenancy(t, b)
	other := startTenancy(t, b)
	a.json("POST", "/projects/dev/simulator/clock/advance", obj{"seconds": 30 * 24 * 3600}, 200)
	n := 0
	storetest.WaitFor(t, 2*time.Second, "the other server to date a new user by the moved clock", func() bool {
		n++
		u := other.json("POST", "/projects/dev/users", obj{"email": "u" + strings.Repeat("x", n) + "@example.com"}, 201)
		at, err := time.Parse(time.RFC3339, u.str("createdAt"))
		return err == nil && at.After(time.Now().Add(29*24*time.Hour))
	})
	if c := other.json("GET", "/projects/dev/simulator/clock", nil, 200); c["offsetSeconds"].(float64) != 30*24*3600 {
		t.Fatalf("the other server's clock: %v", c)
	}
}

// TestUpgradeAdoptsOlderData starts a server on a database as an older
// version left it — API keys without projects, one global clock offset —
// and checks that the keys keep working in (test) projects of their own,
// and that the global clock became the default project's, once.
func TestUpgradeAdoptsOlderData(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		st := b.Open(t)
		legacy := func(id, project, token string) store.Resource {
			return store.Resource{Kind: apikey.Kind, ID: id, Owner: project, Unique: apikey.Hash(nil, token),
				Body: map[string]any{"id": id, "project": project, "hash": apikey.Hash(nil, token), "createdAt": "2025-01-01T00:00:00Z"}}
		}
		storetest.Update(t, st, func(tx *store.Tx) error {
			for _, r := range []store.Resource{
				legacy("apk_old1", "dev", "sk_old_dev_key"),
				legacy("apk_old2", "older", "sk_old_other_key"),
			} {
				if err := tx.Put(context.Background(), r); err != nil {
					return err
				}
			}
			return tx.SetSetting(context.Background(), "clock.offsetNanos", fmt.Sprint(int64(48*time.Hour)))
		})
		st.Close()

		for range 2 { // the second start changes nothing more
			e := startTenancy(t, b, func(c *server.Config) { c.APIKey = "" })
			e.as("sk_old_dev_key").json("GET", "/projects/dev/users", nil, 200)
			e.as("sk_old_other_key").json("GET", "/projects/older/users", nil, 200)
			if p := e.as(adminKey).json("GET", "/projects/older", nil, 200); p.str("mode") != "test" {
				t.Fatalf("adopted project %v, want test mode", p)
			}
			if c := e.as("sk_old_dev_key").json("GET", "/projects/dev/simulator/clock", nil, 200); c["offsetSeconds"].(float64) != 48*3600 {
				t.Fatalf("dev's clock after the upgrade: %v, want the old offset (48 h)", c)
			}
			if c := e.as("sk_old_other_key").json("GET", "/projects/older/simulator/clock", nil, 200); c["offsetSeconds"].(float64) != 0 {
				t.Fatalf("the other project's clock after the upgrade: %v, want 0", c)
			}
			if err := e.srv.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
}
