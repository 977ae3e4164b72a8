package delivery_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const (
	testProject  = "proj"
	testKey      = "sk_test_delivery"
	testAdminKey = "sk_admin_delivery"
)

// fast is a delivery configuration for tests: quick polls and retries.
func fast() delivery.Config {
	return delivery.Config{
		Workers:      16,
		PollInterval: 10 * time.Millisecond,
		Schedule:     []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		Jitter:       -1,
		Timeout:      5 * time.Second,
	}
}

// harness is a running server with a client for its API.
type harness struct {
	t   *testing.T
	srv *server.Server
	b   storetest.Backend
}

// start runs the real server on a loopback port over the backend.
func start(t *testing.T, b storetest.Backend, cfg delivery.Config) *harness {
	t.Helper()
	srv := servertest.Start(t, server.Config{
		DB: b.DB, Schema: b.Schema, Project: testProject, APIKey: testKey, AdminKey: testAdminKey, Logger: testLogger(), Delivery: cfg,
	})
	return &harness{t: t, srv: srv, b: b}
}

// getMetrics reads /metrics with the operator key.
func (h *harness) getMetrics() (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, h.srv.URL()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	return http.DefaultClient.Do(req)
}

// call sends an API request and decodes the JSON answer into out (when
// non-nil); it returns the status.
func (h *harness) call(method, path string, body any, out any) int {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL()+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// endpointObject is the API's webhook endpoint.
type endpointObject struct {
	ID             string   `json:"id"`
	Object         string   `json:"object"`
	URL            string   `json:"url"`
	Status         string   `json:"status"`
	Secret         string   `json:"secret"`
	Version        string   `json:"version"`
	EnabledEvents  []string `json:"enabledEvents"`
	Ordered        bool     `json:"ordered"`
	RateLimit      *int     `json:"rateLimit"`
	DisabledReason *string  `json:"disabledReason"`
}

// createEndpoint creates an endpoint from fields and returns it (secret
// included).
func (h *harness) createEndpoint(fields map[string]any) endpointObject {
	h.t.Helper()
	var e endpointObject
	if status := h.call("POST", "/projects/"+testProject+"/webhookEndpoints", fields, &e); status != http.StatusCreated {
		h.t.Fatalf("create endpoint %v: status %d", fields, status)
	}
	return e
}

func (h *harness) endpoint(id string) endpointObject {
	h.t.Helper()
	var e endpointObject
	if status := h.call("GET", "/projects/"+testProject+"/webhookEndpoints/"+id, nil, &e); status != http.StatusOK {
		h.t.Fatalf("get endpoint %s: status %d", id, status)
	}
	return e
}

// deliveryObject is the API's delivery.
type deliveryObject struct {
	ID            string     `json:"id"`
	Event         string     `json:"event"`
	Endpoint      string     `json:"endpoint"`
	Status        string     `json:"status"`
	Paused        bool       `json:"paused"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	Attempts      []struct {
		AttemptedAt    time.Time `json:"attemptedAt"`
		ResponseStatus *int      `json:"responseStatus"`
		ResponseBody   *string   `json:"responseBody"`
		LatencyMs      int64     `json:"latencyMs"`
		Error          *string   `json:"error"`
	} `json:"attempts"`
}

func (h *harness) deliveriesOf(path string) []deliveryObject {
	h.t.Helper()
	var l struct {
		Items []deliveryObject `json:"items"`
	}
	if status := h.call("GET", path+"?limit=200", nil, &l); status != http.StatusOK {
		h.t.Fatalf("GET %s: status %d", path, status)
	}
	return l.Items
}

// record records events of type typ directly in the event log, as a service
// would, and returns their IDs in order.
func (h *harness) record(ctx context.Context, typ string, n int) []string {
	h.t.Helper()
	return h.recordIn(ctx, testProject, typ, n)
}

// recordIn is record in another project.
func (h *harness) recordIn(ctx context.Context, project, typ string, n int) []string {
	h.t.Helper()
	var ids []string
	err := h.srv.Store.Update(ctx, func(tx *store.Tx) error {
		ids = ids[:0]
		changes := make([]eventlog.Change, n)
		for i := range changes {
			changes[i] = eventlog.Change{Type: typ, Resource: fmt.Sprintf("usr_%d", i),
				Data: map[string]any{"object": "user", "id": fmt.Sprintf("usr_%d", i), "email": "a@example.com"}}
		}
		evs, err := h.srv.Events.Record(ctx, tx, project, changes...)
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		return err
	})
	if err != nil {
		h.t.Fatalf("record %s: %v", typ, err)
	}
	return ids
}

// request is one request the receiver got.
type request struct {
	At        time.Time
	ID        string
	Timestamp string
	Signature string
	Body      []byte
	Header    http.Header
}

// receiver is a webhook endpoint on a loopback port that records every
// request and answers with what respond returns.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	respond  func(r request, n int) (int, http.Header) // n: earlier requests with the same webhook-id
	changed  chan struct{}
}

func newReceiver(t *testing.T, respond func(r request, n int) (int, http.Header)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond, changed: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{At: time.Now(), ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), Body: body, Header: r.Header.Clone()}
		rc.mu.Lock()
		n := 0
		for _, p := range rc.requests {
			if p.ID == req.ID {
				n++
			}
		}
		rc.requests = append(rc.requests, req)
		respond := rc.respond
		rc.mu.Unlock()
		select {
		case rc.changed <- struct{}{}:
		default:
		}
		status, header := http.StatusOK, http.Header(nil)
		if respond != nil {
			status, header = respond(req, n)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setRespond(fn func(r request, n int) (int, http.Header)) {
	rc.mu.Lock()
	rc.respond = fn
	rc.mu.Unlock()
}

func (rc *receiver) got() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

// await waits until cond holds, checking it whenever the receiver gets a
// request and every few milliseconds, and fails the test after timeout.
func await(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// verifySignature is an independent, minimal Standard Webhooks check: it
// reports whether one of the header's "v1,<sig>" entries is the base64
// HMAC-SHA256, keyed with the secret's decoded bytes, of
// "<id>.<timestamp>.<body>".
func verifySignature(secret, id, timestamp string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, got := range strings.Fields(header) {
		if hmac.Equal([]byte(got), []byte(want)) {
			return true
		}
	}
	return false
}

// checkSigned fails the test unless every request is signed with secret,
// carries the headers Standard Webhooks asks for, and is fresh.
func checkSigned(t *testing.T, reqs []request, secret string) {
	t.Helper()
	for _, r := range reqs {
		if !verifySignature(secret, r.ID, r.Timestamp, r.Body, r.Signature) {
			t.Errorf("request %s: signature %q does not verify", r.ID, r.Signature)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("request %s: Content-Type %q", r.ID, ct)
		}
		var ev switchboard.Event
		if err := json.Unmarshal(r.Body, &ev); err != nil || ev.ID != r.ID {
			t.Errorf("request %s: body is not its event (%v): %s", r.ID, err, r.Body)
		}
		var ts int64
		fmt.Sscan(r.Timestamp, &ts)
		if d := time.Since(time.Unix(ts, 0)); d < -5*time.Minute || d > 5*time.Minute {
			t.Errorf("request %s: timestamp %s off by %s", r.ID, r.Timestamp, d)
		}
	}
}

func path(parts ...string) string {
	return "/projects/" + testProject + "/" + strings.Join(parts, "/")
}

// testLogger discards the server's logs unless SWITCHBOARD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
