package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/webhook"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// eventBody returns a porting event of the given type and id.
func eventBody(typ, id string) []byte {
	return fmt.Appendf(nil, `{"object":"event","id":%q,"data":{"object":"porting","id":"prt_1",`+
		`"declinedCode":"portingPhoneNumberPortProtected","required":[],"createdAt":"2025-06-01T11:00:00Z"},`+
		`"datacontenttype":"application/json","project":"gigs","source":"https://api.gigs.com",`+
		`"specversion":"1.0","time":"2025-06-01T12:00:00Z","type":%q,"version":"2024-10-28"}`, id, typ)
}

// delivery returns a POST of body signed with secret at ts.
func delivery(t testing.TB, secret string, ts time.Time, body []byte) *http.Request {
	t.Helper()
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
	signer.SetHeaders(r.Header, "msg_1", ts, body)
	return r
}

// newHandler returns a Handler on testSecret and testNow with a silent log.
func newHandler(t testing.TB, opts ...webhook.Option) *webhook.Handler {
	t.Helper()
	opts = append([]webhook.Option{
		webhook.WithClock(func() time.Time { return testNow }),
		webhook.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)
	h, err := webhook.NewHandler(testSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, r *http.Request) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// failingDedup fails every lookup.
type failingDedup struct{}

func (failingDedup) Seen(context.Context, string) (bool, error) { return false, errors.New("db down") }
func (failingDedup) Mark(context.Context, string) error         { return errors.New("db down") }

// markFailingDedup finds nothing and fails to mark.
type markFailingDedup struct{}

func (markFailingDedup) Seen(context.Context, string) (bool, error) { return false, nil }
func (markFailingDedup) Mark(context.Context, string) error         { return errors.New("db down") }

func TestHandlerStatus(t *testing.T) {
	declined := eventBody(switchboard.TypePortingDeclined, "evt_1")
	unknown := eventBody("com.gigs.porting.teleported", "evt_2")
	fail := errors.New("boom")

	tests := []struct {
		name       string
		opts       []webhook.Option
		fn         webhook.EventFunc // for TypePortingDeclined
		fallback   webhook.EventFunc
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantCalls  int
	}{
		{
			name:       "handled",
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusNoContent,
			wantCalls:  1,
		},
		{
			name:       "handler error is retried",
			fn:         func(context.Context, *switchboard.ParsedEvent) error { return fail },
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusInternalServerError,
			wantCalls:  1,
		},
		{
			name:       "no function for the type is ignored",
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, unknown) },
			wantStatus: http.StatusNoContent,
		},
		{
			name:       "fallback gets the rest",
			fallback:   func(context.Context, *switchboard.ParsedEvent) error { return nil },
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, unknown) },
			wantStatus: http.StatusNoContent,
			wantCalls:  1,
		},
		{
			name:       "fallback error is retried",
			fallback:   func(context.Context, *switchboard.ParsedEvent) error { return fail },
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, unknown) },
			wantStatus: http.StatusInternalServerError,
			wantCalls:  1,
		},
		{
			name:       "wrong secret",
			req:        func(t *testing.T) *http.Request { return delivery(t, mustSecret(t), testNow, declined) },
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "tampered body",
			req: func(t *testing.T) *http.Request {
				r := delivery(t, testSecret, testNow, declined)
				r.Body = io.NopCloser(bytes.NewReader(eventBody(switchboard.TypePortingDeclined, "evt_9")))
				return r
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "missing headers",
			req: func(t *testing.T) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(declined))
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "stale timestamp",
			req: func(t *testing.T) *http.Request {
				return delivery(t, testSecret, testNow.Add(-6*time.Minute), declined)
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "stale timestamp within a wider tolerance",
			opts: []webhook.Option{webhook.WithTolerance(10 * time.Minute)},
			req: func(t *testing.T) *http.Request {
				return delivery(t, testSecret, testNow.Add(-6*time.Minute), declined)
			},
			wantStatus: http.StatusNoContent,
			wantCalls:  1,
		},
		{
			name:       "signed but not an event",
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, []byte(`{"object":"list"}`)) },
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "signed but invalid data",
			req: func(t *testing.T) *http.Request {
				return delivery(t, testSecret, testNow, bytes.Replace(declined, []byte(`"object":"porting"`), []byte(`"object":"user"`), 1))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "GET",
			req: func(t *testing.T) *http.Request {
				return httptest.NewRequest(http.MethodGet, "/webhooks", nil)
			},
			wantStatus: http.StatusMethodNotAllowed,
		},
		{
			name:       "body too large",
			opts:       []webhook.Option{webhook.WithMaxBodySize(int64(len(declined) - 1))},
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "body at the size limit",
			opts:       []webhook.Option{webhook.WithMaxBodySize(int64(len(declined)))},
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusNoContent,
			wantCalls:  1,
		},
		{
			name:       "dedup store down",
			opts:       []webhook.Option{webhook.WithDedupStore(failingDedup{})},
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusInternalServerError,
		},
		{
			name:       "dedup mark failing after success",
			opts:       []webhook.Option{webhook.WithDedupStore(markFailingDedup{})},
			req:        func(t *testing.T) *http.Request { return delivery(t, testSecret, testNow, declined) },
			wantStatus: http.StatusNoContent,
			wantCalls:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			count := func(fn webhook.EventFunc) webhook.EventFunc {
				return func(ctx context.Context, ev *switchboard.ParsedEvent) error {
					calls.Add(1)
					if fn == nil {
						return nil
					}
					return fn(ctx, ev)
				}
			}
			h := newHandler(t, tt.opts...)
			h.On(switchboard.TypePortingDeclined, count(tt.fn))
			if tt.fallback != nil {
				h.Fallback(count(tt.fallback))
			}
			if got := serve(h, tt.req(t)); got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("functions called %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestHandlerPassesParsedEvent(t *testing.T) {
	h := newHandler(t)
	var code string
	h.On(switchboard.TypePortingDeclined, func(_ context.Context, ev *switchboard.ParsedEvent) error {
		p, ok := ev.Porting()
		if !ok {
			return errors.New("no porting")
		}
		code = *p.DeclinedCode
		return nil
	})
	if got := serve(h, delivery(t, testSecret, testNow, eventBody(switchboard.TypePortingDeclined, "evt_1"))); got != http.StatusNoContent {
		t.Fatalf("status = %d, want %d", got, http.StatusNoContent)
	}
	if want := "portingPhoneNumberPortProtected"; code != want {
		t.Errorf("decline code = %q, want %q", code, want)
	}
}

// TestHandlerPassesNewResources: the SIM and user events added with the
// domain fidelity work reach their functions with their typed resource.
func TestHandlerPassesNewResources(t *testing.T) {
	tests := []struct {
		typ, data string
		check     func(*switchboard.ParsedEvent) error
	}{
		{switchboard.TypeSimRetired, `{"object":"sim","id":"sim_1","iccid":"89883070000007537119","provider":"p9",` +
			`"status":"retired","type":"eSIM","createdAt":"2025-06-01T11:00:00Z"}`, func(ev *switchboard.ParsedEvent) error {
			if s, ok := ev.Sim(); !ok || s.Status != "retired" {
				return fmt.Errorf("sim %+v, %v", s, ok)
			}
			return nil
		}},
		{switchboard.TypeUserDeleted, `{"object":"user","id":"usr_1","birthday":null,"email":"jerry@example.com",` +
			`"emailVerified":false,"fullName":null,"preferredLocale":"en-US","createdAt":"2025-06-01T11:00:00Z"}`, func(ev *switchboard.ParsedEvent) error {
			if u, ok := ev.User(); !ok || u.PreferredLocale != "en-US" {
				return fmt.Errorf("user %+v, %v", u, ok)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			h := newHandler(t)
			var err error
			called := false
			h.On(tt.typ, func(_ context.Context, ev *switchboard.ParsedEvent) error {
				called, err = true, tt.check(ev)
				return nil
			})
			body := fmt.Appendf(nil, `{"object":"event","id":"evt_1","actor":{"type":"system"},"data":%s,`+
				`"datacontenttype":"application/json","project":"gigs","source":"https://api.gigs.com",`+
				`"specversion":"1.0","time":"2025-06-01T12:00:00Z","type":%q,"version":"2025-05-22"}`, tt.data, tt.typ)
			if got := serve(h, delivery(t, testSecret, testNow, body)); got != http.StatusNoContent || !called || err != nil {
				t.Fatalf("status %d, called %v, check %v", got, called, err)
			}
		})
	}
}

func TestHandlerDedup(t *testing.T) {
	tests := []struct {
		name       string
		results    []error // what the function returns on each call
		deliveries []string
		wantStatus []int
		wantCalls  int
	}{
		{
			name:       "duplicate acknowledged, not handled again",
			results:    []error{nil},
			deliveries: []string{"evt_1", "evt_1", "evt_1"},
			wantStatus: []int{204, 204, 204},
			wantCalls:  1,
		},
		{
			name:       "distinct events handled each",
			results:    []error{nil, nil},
			deliveries: []string{"evt_1", "evt_2", "evt_1"},
			wantStatus: []int{204, 204, 204},
			wantCalls:  2,
		},
		{
			name:       "failed event handled again on retry",
			results:    []error{errors.New("boom"), errors.New("boom"), nil},
			deliveries: []string{"evt_1", "evt_1", "evt_1", "evt_1"},
			wantStatus: []int{500, 500, 204, 204},
			wantCalls:  3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t)
			calls := 0
			h.On(switchboard.TypePortingDeclined, func(context.Context, *switchboard.ParsedEvent) error {
				calls++
				return tt.results[calls-1]
			})
			for i, id := range tt.deliveries {
				got := serve(h, delivery(t, testSecret, testNow, eventBody(switchboard.TypePortingDeclined, id)))
				if got != tt.wantStatus[i] {
					t.Errorf("delivery %d of %s: status = %d, want %d", i+1, id, got, tt.wantStatus[i])
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("function called %d times, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestHandlerDedupOff(t *testing.T) {
	h := newHandler(t, webhook.WithDedupStore(nil))
	calls := 0
	h.On(switchboard.TypePortingDeclined, func(context.Context, *switchboard.ParsedEvent) error {
		calls++
		return nil
	})
	for range 2 {
		serve(h, delivery(t, testSecret, testNow, eventBody(switchboard.TypePortingDeclined, "evt_1")))
	}
	if calls != 2 {
		t.Errorf("function called %d times, want 2", calls)
	}
}

// TestHandlerConcurrentDuplicates delivers one event many times at once: the
// function must run once when it succeeds, and again after it fails.
func TestHandlerConcurrentDuplicates(t *testing.T) {
	const n = 20
	tests := []struct {
		name      string
		failFirst bool
		wantCalls int32
		want500   int
	}{
		{"first succeeds", false, 1, 0},
		{"first fails", true, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t)
			var calls, running atomic.Int32
			release := make(chan struct{})
			h.On(switchboard.TypePortingDeclined, func(context.Context, *switchboard.ParsedEvent) error {
				if running.Add(1) != 1 {
					t.Error("two deliveries of one event handled at once")
				}
				defer running.Add(-1)
				c := calls.Add(1)
				<-release
				if tt.failFirst && c == 1 {
					return errors.New("boom")
				}
				return nil
			})
			body := eventBody(switchboard.TypePortingDeclined, "evt_1")
			statuses := make(chan int, n)
			var wg sync.WaitGroup
			for range n {
				r := delivery(t, testSecret, testNow, body) // here: it may t.Fatal
				wg.Go(func() { statuses <- serve(h, r) })
			}
			time.Sleep(20 * time.Millisecond) // let the deliveries pile up
			close(release)
			wg.Wait()
			close(statuses)

			got500 := 0
			for s := range statuses {
				switch s {
				case http.StatusNoContent:
				case http.StatusInternalServerError:
					got500++
				default:
					t.Errorf("status = %d, want %d or %d", s, http.StatusNoContent, http.StatusInternalServerError)
				}
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("function called %d times, want %d", got, tt.wantCalls)
			}
			if got500 != tt.want500 {
				t.Errorf("%d answers 500, want %d", got500, tt.want500)
			}
		})
	}
}

// TestHandlerDuplicateGivesUp checks that a duplicate waiting for the first
// delivery answers 503 when its request ends.
func TestHandlerDuplicateGivesUp(t *testing.T) {
	h := newHandler(t)
	started, release := make(chan struct{}), make(chan struct{})
	h.On(switchboard.TypePortingDeclined, func(context.Context, *switchboard.ParsedEvent) error {
		close(started)
		<-release
		return nil
	})
	body := eventBody(switchboard.TypePortingDeclined, "evt_1")
	first := make(chan int)
	r := delivery(t, testSecret, testNow, body) // here: it may t.Fatal
	go func() { first <- serve(h, r) }()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := serve(h, delivery(t, testSecret, testNow, body).WithContext(ctx)); got != http.StatusServiceUnavailable {
		t.Errorf("waiting duplicate: status = %d, want %d", got, http.StatusServiceUnavailable)
	}
	close(release)
	if got := <-first; got != http.StatusNoContent {
		t.Errorf("first delivery: status = %d, want %d", got, http.StatusNoContent)
	}
}

func TestHandlerOverHTTP(t *testing.T) {
	h := newHandler(t, webhook.WithClock(time.Now))
	h.On(switchboard.TypePortingDeclined, func(context.Context, *switchboard.ParsedEvent) error { return nil })
	srv := httptest.NewServer(h)
	defer srv.Close()

	body := eventBody(switchboard.TypePortingDeclined, "evt_1")
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	signer.SetHeaders(req.Header, "msg_1", time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusNoContent)
	}
}

func TestNewHandlerInvalidSecret(t *testing.T) {
	if _, err := webhook.NewHandler("secret"); !errors.Is(err, webhook.ErrInvalidSecret) {
		t.Errorf("NewHandler error = %v, want %v", err, webhook.ErrInvalidSecret)
	}
}

func TestOnPanics(t *testing.T) {
	nop := func(context.Context, *switchboard.ParsedEvent) error { return nil }
	tests := []struct {
		name string
		typ  string
		fn   webhook.EventFunc
	}{
		{"empty type", "", nop},
		{"nil function", switchboard.TypePortingDeclined, nil},
		{"registered twice", switchboard.TypePortingCreated, nop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t)
			h.On(switchboard.TypePortingCreated, nop)
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "webhook: ") {
					t.Errorf("On panicked with %v, want a webhook: panic", r)
				}
			}()
			h.On(tt.typ, tt.fn)
		})
	}
}

func TestMemoryDedup(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		capacity int
		mark     []string
		seen     []string
		notSeen  []string
	}{
		{"empty", 3, nil, nil, []string{"a"}},
		{"within capacity", 3, []string{"a", "b", "c"}, []string{"a", "b", "c"}, []string{"d"}},
		{"oldest forgotten", 3, []string{"a", "b", "c", "d", "e"}, []string{"c", "d", "e"}, []string{"a", "b"}},
		{"marking twice does not evict", 3, []string{"a", "b", "a", "a", "c"}, []string{"a", "b", "c"}, nil},
		{"capacity 1", 1, []string{"a", "b"}, []string{"b"}, []string{"a"}},
		{"default capacity", 0, []string{"a"}, []string{"a"}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := webhook.NewMemoryDedup(tt.capacity)
			for _, id := range tt.mark {
				if err := d.Mark(ctx, id); err != nil {
					t.Fatalf("Mark(%q): %v", id, err)
				}
			}
			for _, id := range tt.seen {
				if ok, err := d.Seen(ctx, id); !ok || err != nil {
					t.Errorf("Seen(%q) = %v, %v, want true, nil", id, ok, err)
				}
			}
			for _, id := range tt.notSeen {
				if ok, err := d.Seen(ctx, id); ok || err != nil {
					t.Errorf("Seen(%q) = %v, %v, want false, nil", id, ok, err)
				}
			}
		})
	}
}

func TestMemoryDedupZeroValue(t *testing.T) {
	ctx := context.Background()
	var d webhook.MemoryDedup
	for i := range webhook.DefaultDedupCapacity + 1 {
		if err := d.Mark(ctx, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := d.Seen(ctx, "0"); ok {
		t.Errorf("Seen(first of %d) = true, want false", webhook.DefaultDedupCapacity+1)
	}
	if ok, _ := d.Seen(ctx, "1"); !ok {
		t.Errorf("Seen(second of %d) = false, want true", webhook.DefaultDedupCapacity+1)
	}
}
