package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/webhook"
)

const testKey = "sk_test_toolkit"

// syncBuffer is a buffer the command under test writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs a server on a loopback port and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	b := storetest.New(t, "sqlite")
	srv := servertest.Start(t, server.Config{DB: b.DB, APIKey: testKey, Simulator: "on", SimulatorDelay: 20 * time.Millisecond})
	return srv.URL()
}

// runCmd runs the CLI in-process and returns its exit code and output.
func runCmd(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestTriggerEveryTypeThroughListen triggers every event type against a
// real server and sees each event arrive, forwarded by listen, at a local
// receiver that verifies it with the secret listen printed.
func TestTriggerEveryTypeThroughListen(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	url := startServer(t)
	api := []string{"--api-url", url, "--api-key", testKey}

	// The receiver: the webhook package's handler, made once listen has
	// printed its secret.
	var handler atomic.Pointer[webhook.Handler]
	var mu sync.Mutex
	received := map[string]string{} // event ID → type
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := handler.Load()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer receiver.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"listen", "--forward-to", receiver.URL + "/webhooks"}, api...), out, errOut)
	}()
	secretLine := regexp.MustCompile(`secret: (whsec_\S+)`)
	storetest.WaitFor(t, 10*time.Second, "listen to be ready", func() bool {
		select {
		case code := <-done:
			t.Fatalf("listen exited with %d: %s%s", code, out, errOut)
		default:
		}
		return strings.Contains(out.String(), "Ready.")
	})
	m := secretLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("listen printed no secret:\n%s", out)
	}
	h, err := webhook.NewHandler(m[1], webhook.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	h.Fallback(func(_ context.Context, ev *switchboard.ParsedEvent) error {
		mu.Lock()
		defer mu.Unlock()
		received[ev.ID] = ev.Type
		return nil
	})
	handler.Store(h)

	want := map[string]string{} // event ID → type
	for _, typ := range switchboard.EventTypes {
		code, stdout, stderr := runCmd(ctx, append([]string{"trigger", typ, "--json"}, api...)...)
		if code != 0 {
			t.Fatalf("trigger %s: exit %d: %s", typ, code, stderr)
		}
		var res triggerResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("trigger %s printed %q: %v", typ, stdout, err)
		}
		if res.Event == "" || res.Resource == "" || len(res.Created) == 0 {
			t.Fatalf("trigger %s: incomplete result %+v", typ, res)
		}
		want[res.Event] = typ
	}
	// listen prints an event's line once the receiver has answered it, a
	// moment after the receiver saw it: wait for both.
	printed := func(id, typ string) bool {
		line := regexp.MustCompile(regexp.QuoteMeta(typ) + `\s+` + id + `\s+-> 204 No Content`)
		return line.MatchString(out.String())
	}
	storetest.WaitFor(t, 30*time.Second, "every triggered event at the receiver and in listen's output", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id, typ := range want {
			if received[id] != typ || !printed(id, typ) {
				return false
			}
		}
		return true
	})

	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("listen exited with %d: %s", code, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not stop")
	}
	c := client.New(url, testKey, "dev")
	l, err := c.ListEndpoints(context.Background(), client.Page{Limit: 10})
	if err != nil {
		t.Fatalf("list endpoints: %v", err)
	}
	if len(l.Items) != 0 {
		t.Errorf("listen left %d endpoints behind", len(l.Items))
	}
}

// TestEventsAndEndpointsCommands runs the events and endpoints commands
// against a real server, as tables and as JSON.
func TestEventsAndEndpointsCommands(t *testing.T) {
	url := startServer(t)
	api := []string{"--api-url", url, "--api-key", testKey}
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(ctx, append(args, api...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	var res triggerResult
	if err := json.Unmarshal([]byte(run("trigger", switchboard.TypeUserUpdated, "--json")), &res); err != nil {
		t.Fatalf("trigger: %v", err)
	}

	table := run("events", "list", "--type", switchboard.TypeUserUpdated)
	if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, res.Event) || !strings.Contains(table, res.Resource) {
		t.Errorf("events list:\n%s", table)
	}
	var page client.List[switchboard.Event]
	if err := json.Unmarshal([]byte(run("events", "list", "--json", "--limit", "1")), &page); err != nil || len(page.Items) != 1 {
		t.Errorf("events list --json: %v, %d items", err, len(page.Items))
	}
	detail := run("events", "get", res.Event)
	for _, s := range []string{res.Event, switchboard.TypeUserUpdated, "Previous data:", `"fullName"`} {
		if !strings.Contains(detail, s) {
			t.Errorf("events get lacks %q:\n%s", s, detail)
		}
	}
	var ev switchboard.Event
	if err := json.Unmarshal([]byte(run("events", "get", res.Event, "--json")), &ev); err != nil || ev.ID != res.Event {
		t.Errorf("events get --json: %v, id %q", err, ev.ID)
	}

	created := run("endpoints", "create", "--url", "http://127.0.0.1:9/hooks", "--events", "com.gigs.user.*", "--description", "test")
	id := regexp.MustCompile(`whe_\w+`).FindString(created)
	if id == "" || !regexp.MustCompile(`Signing secret \(shown once, keep it\): whsec_`).MatchString(created) {
		t.Fatalf("endpoints create:\n%s", created)
	}
	if list := run("endpoints", "list"); !strings.Contains(list, id) || !strings.Contains(list, "com.gigs.user.*") {
		t.Errorf("endpoints list:\n%s", list)
	}
	if resent := run("events", "resend", res.Event, "--endpoint", id); !strings.Contains(resent, id) {
		t.Errorf("events resend:\n%s", resent)
	}
	if out := run("endpoints", "delete", id); !strings.Contains(out, "Deleted "+id) {
		t.Errorf("endpoints delete: %s", out)
	}
	var endpoints client.List[client.Endpoint]
	if err := json.Unmarshal([]byte(run("endpoints", "list", "--json")), &endpoints); err != nil || len(endpoints.Items) != 0 {
		t.Errorf("endpoints after delete: %v, %d", err, len(endpoints.Items))
	}
}

func TestTriggerKnowsEveryType(t *testing.T) {
	for _, typ := range switchboard.EventTypes {
		if sc, ok := scenarios[typ]; !ok || sc.how == "" || sc.run == nil {
			t.Errorf("trigger has no scenario for %s", typ)
		}
	}
	if len(scenarios) != len(switchboard.EventTypes) {
		t.Errorf("%d scenarios for %d event types", len(scenarios), len(switchboard.EventTypes))
	}
	code, out, _ := runCmd(context.Background(), "trigger", "--list")
	if code != 0 {
		t.Fatalf("trigger --list: exit %d", code)
	}
	for _, typ := range switchboard.EventTypes {
		if !strings.Contains(out, typ+" ") {
			t.Errorf("trigger --list lacks %s", typ)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"trigger", "--api-key", "k"}, "needs one event type", 2},
		{[]string{"trigger", "com.gigs.nope", "--api-key", "k"}, `unknown event type "com.gigs.nope"`, 2},
		{[]string{"trigger", "com.gigs.porting.declined", "--code", "nope", "--api-key", "k"}, `unknown decline code`, 2},
		{[]string{"trigger", "--frob"}, "flag provided but not defined", 2},
		{[]string{"events", "get", "--api-key", "k"}, "want an event ID", 2},
		{[]string{"events", "frob"}, `unknown events subcommand "frob"`, 2},
		{[]string{"events", "list", "--limit", "many"}, `invalid value "many"`, 2},
		{[]string{"endpoints", "create", "--api-key", "k"}, "needs --url", 2},
		{[]string{"endpoints", "list", "--api-key", ""}, "no API key", 1},
		{[]string{"listen", "--secret", "nope", "--api-key", "k"}, "--secret", 1},
		{[]string{"serve", "--simulator-delay", "soon"}, `invalid value "soon"`, 2},
		{[]string{"migrate", "--frob"}, "flag provided but not defined", 2},
		{[]string{"migrate", "--db", "/nonexistent/dir/x.db", "extra"}, `unexpected argument "extra"`, 2},
		{[]string{"serve", "--db", "/nonexistent/dir/x.db", "extra"}, `unexpected argument "extra"`, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("SWITCHBOARD_API_KEY", "")
			code, _, errOut := runCmd(context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestForwardSecretIsStable(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	first, where, err := forwardSecret("")
	if err != nil {
		t.Fatalf("forwardSecret: %v", err)
	}
	if !strings.HasPrefix(first, webhook.SecretPrefix) || !strings.Contains(where, "new") {
		t.Fatalf("secret %q (%s)", first, where)
	}
	again, where, err := forwardSecret("")
	if err != nil || again != first || strings.Contains(where, "new") {
		t.Fatalf("second run: %q (%s), %v; want %q kept", again, where, err, first)
	}
	info, err := os.Stat(filepath.Join(dir, "switchboard", "listen-secret"))
	if err != nil {
		t.Fatalf("secret file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", info.Mode().Perm())
	}
	given, _ := webhook.NewSecret()
	if s, where, err := forwardSecret(given); err != nil || s != given || where != "from --secret" {
		t.Fatalf("forwardSecret(flag) = %q, %q, %v", s, where, err)
	}
}

// TestListenReapsTemporaryEndpoints checks that listen deletes the temporary
// endpoints earlier listen processes on this host left behind when they
// died, and nothing else.
func TestListenReapsTemporaryEndpoints(t *testing.T) {
	url := startServer(t)
	c := client.New(url, testKey, "dev")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	host := hostname()
	tests := []struct {
		name, description string
		wantKept          bool
	}{
		{"this host, process gone", temporaryDescription(host, gone.Process.Pid), false},
		{"this host, process running", temporaryDescription(host, os.Getpid()), true},
		{"another host", temporaryDescription(host+"-other", gone.Process.Pid), true},
		{"not listen's", "my production endpoint", true},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		desc := tt.description
		ep, err := c.CreateEndpoint(context.Background(), client.EndpointParams{URL: "http://127.0.0.1:9/" + strconv.Itoa(i), Description: &desc})
		if err != nil {
			t.Fatalf("create %s: %v", tt.name, err)
		}
		ids[i] = ep.ID
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--api-url", url, "--api-key", testKey}, out, errOut)
	}()
	storetest.WaitFor(t, 10*time.Second, "listen to be ready", func() bool { return strings.Contains(out.String(), "Ready.") })
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("listen exited with %d: %s", code, errOut)
	}

	l, err := c.ListEndpoints(context.Background(), client.Page{Limit: 20})
	if err != nil {
		t.Fatalf("list endpoints: %v", err)
	}
	kept := map[string]bool{}
	for _, e := range l.Items {
		kept[e.ID] = true
	}
	for i, tt := range tests {
		if kept[ids[i]] != tt.wantKept {
			t.Errorf("%s: kept %v, want %v", tt.name, kept[ids[i]], tt.wantKept)
		}
		if reported := strings.Contains(out.String(), "Deleted the temporary endpoint "+ids[i]+" an earlier listen"); reported == tt.wantKept {
			t.Errorf("%s: deletion reported %v, want %v", tt.name, reported, !tt.wantKept)
		}
	}
	if len(l.Items) != 3 {
		t.Errorf("%d endpoints after listen, want the 3 kept (listen deletes its own)", len(l.Items))
	}
}

// TestTriggerEndCauses ends a subscription for every cause trigger knows
// and checks the cause the subscription ended with, and that its SIM
// retired.
func TestTriggerEndCauses(t *testing.T) {
	url := startServer(t)
	api := []string{"--api-url", url, "--api-key", testKey}
	c := client.New(url, testKey, "dev")
	ctx := context.Background()
	for _, cause := range endCauses {
		t.Run(cause, func(t *testing.T) {
			code, out, errOut := runCmd(ctx, append([]string{"trigger", switchboard.TypeSubscriptionEnded, "--cause", cause, "--json"}, api...)...)
			if code != 0 {
				t.Fatalf("trigger: exit %d: %s", code, errOut)
			}
			var res triggerResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("trigger printed %q: %v", out, err)
			}
			sub, err := c.GetSubscription(ctx, res.Resource)
			if err != nil {
				t.Fatal(err)
			}
			if sub.Status != switchboard.SubscriptionEnded || sub.CancellationDetails == nil || sub.CancellationDetails.Cause != cause {
				t.Fatalf("subscription %s %v, want ended with cause %s", sub.Status, sub.CancellationDetails, cause)
			}
			if sub.Sim == nil || sub.Sim.Status != "retired" {
				t.Fatalf("SIM %+v, want retired", sub.Sim)
			}
		})
	}
	if code, _, errOut := runCmd(ctx, append([]string{"trigger", switchboard.TypeSubscriptionEnded, "--cause", "nope"}, api...)...); code == 0 ||
		!strings.Contains(errOut, `unknown cause "nope"`) {
		t.Errorf("trigger --cause nope: exit %d: %s", code, errOut)
	}
}
