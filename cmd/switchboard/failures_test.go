package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/webhook"
)

// answering returns a server that answers every request alike.
func answering(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closedPort returns the URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// runCatching runs the CLI in-process, turning a panic into a test failure
// that shows where it happened.
func runCatching(t *testing.T, ctx context.Context, args ...string) (code int, out, errOut string) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%v panicked: %v\n%s", args, p, debug.Stack())
			code = -1
		}
	}()
	return runCmd(ctx, args...)
}

// TestNoCommandPanicsOnAnyAnswer runs every command that talks to the
// server against a server that is down and servers answering errors with
// and without the error object, and garbage: each must fail with a clear
// message and a non-zero exit, and none may panic.
func TestNoCommandPanicsOnAnyAnswer(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	errObject := func(typ, code, msg string) string {
		return fmt.Sprintf(`{"object":"error","type":%q,"code":%q,"message":%q}`, typ, code, msg)
	}
	situations := []struct {
		name string
		url  string
		want string // in the error message
	}{
		{"server down", closedPort(t), "connection refused"},
		{"wrong key", answering(t, 401, "application/json", errObject("unauthenticated", "invalidApiKey", "The API key is not valid.")), "invalidApiKey"},
		{"401 without the error object", answering(t, 401, "text/plain", "Unauthorized\n"), "HTTP 401"},
		{"not found", answering(t, 404, "application/json", errObject("notFound", "routeNotFound", "No route matches.")), "routeNotFound"},
		{"404 without the error object", answering(t, 404, "text/plain", ""), "HTTP 404: Not Found"},
		{"internal error", answering(t, 500, "application/json", errObject("internal", "internalError", "An internal error occurred.")), "internalError"},
		{"500 without the error object", answering(t, 500, "text/html", "<html><body>"+strings.Repeat("Oops ", 200)+"</body></html>"), "HTTP 500"},
		{"unavailable", answering(t, 503, "", ""), "HTTP 503"},
		{"garbage", answering(t, 200, "text/html", "<html>surely not JSON</html>"), "not JSON"},
		{"truncated JSON", answering(t, 200, "application/json", `{"object":"list","items":[{"id":`), "not JSON"},
	}

	commands := [][]string{
		{"listen", "--secret", secret, "--forward-to", "http://127.0.0.1:1/hooks"},
		{"events", "list"},
		{"events", "get", "evt_x"},
		{"events", "resend", "evt_x"},
		{"endpoints", "list"},
		{"endpoints", "create", "--url", "http://127.0.0.1:1/hooks"},
		{"endpoints", "delete", "whe_x"},
	}
	types := slices.Clone(switchboard.EventTypes)
	sort.Strings(types)
	for _, typ := range types {
		commands = append(commands, []string{"trigger", typ, "--timeout", "2s"})
	}

	for _, sit := range situations {
		t.Run(sit.name, func(t *testing.T) {
			for _, cmd := range commands {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				args := append(slices.Clone(cmd), "--api-url", sit.url, "--api-key", "sk_test_wrong")
				code, out, errOut := runCatching(t, ctx, args...)
				cancel()
				name := strings.Join(cmd[:min(2, len(cmd))], " ")
				switch {
				case code == -1: // panicked, reported
				case code == 0:
					t.Errorf("%s: exit 0, stdout %q; want a failure", name, out)
				case !strings.HasPrefix(errOut, "switchboard "+cmd[0]+": ") && !strings.Contains(errOut, "\nswitchboard "+cmd[0]+": "):
					t.Errorf("%s: stderr %q; want a line switchboard %s: …", name, errOut, cmd[0])
				case !strings.Contains(errOut, sit.want):
					t.Errorf("%s: stderr %q; want it to say %q", name, errOut, sit.want)
				case strings.Count(errOut, "\n") > 3 || len(errOut) > 600:
					t.Errorf("%s: stderr is not one clear message (%d bytes):\n%s", name, len(errOut), errOut)
				}
			}
		})
	}
}
