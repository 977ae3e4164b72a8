package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard"
)

// DefaultMaxBodySize is the largest body a [Handler] reads by default.
const DefaultMaxBodySize = 1 << 20

// EventFunc handles one verified, parsed event. Returning an error makes the
// Handler answer 500, so that the sender delivers the event again later.
type EventFunc func(ctx context.Context, ev *switchboard.ParsedEvent) error

// Option configures a [Handler].
type Option func(*Handler)

// WithDedupStore sets where processed event ids are remembered; the default
// is a [MemoryDedup] of DefaultDedupCapacity ids, and nil turns
// de-duplication off.
func WithDedupStore(s DedupStore) Option {
	return func(h *Handler) { h.dedup = s }
}

// WithMaxBodySize sets the largest body read, in bytes; larger ones are
// answered 413. The default is DefaultMaxBodySize.
func WithMaxBodySize(n int64) Option {
	return func(h *Handler) { h.maxBody = n }
}

// WithTolerance sets how far a delivery's timestamp may be from now; the
// default is DefaultTolerance.
func WithTolerance(d time.Duration) Option {
	return func(h *Handler) { h.verifier.Tolerance = d }
}

// WithClock sets the clock timestamps are checked against; the default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(h *Handler) { h.verifier.Now = now }
}

// WithLogger sets the logger for rejected deliveries and failed handlers; the
// default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) { h.log = l }
}

// Handler is an http.Handler that receives webhook deliveries: it verifies
// the signature, parses the event with [switchboard.Parse], skips events
// already processed and calls the function registered for the event type.
// Its answers tell the sender what to do next:
//
//   - 204 No Content: the event was handled, was a duplicate of one already
//     handled, or has a type nobody registered for (consumers must ignore
//     unknown types).
//   - 401 Unauthorized: missing headers, bad signature, or a timestamp
//     outside the tolerance. Authentication failures are told apart from
//     400 so that the sender's delivery log points at the secret or clock.
//   - 400 Bad Request: an authentic body that is not a valid event.
//   - 405 Method Not Allowed, 413 Content Too Large: not a POST, or a body
//     beyond the size limit.
//   - 500 Internal Server Error: the event's function or the DedupStore
//     failed; the sender retries.
//   - 503 Service Unavailable: the request ended while another delivery of
//     the same event was being handled.
//
// Standard Webhooks senders retry every answer that is not 2xx, so the 4xx
// answers only name the problem: fixing it is up to the sender. Functions run
// on the request's goroutine and the sender waits for them (15 s at most):
// hand long work to a queue. Register functions before serving; Handler is
// safe for concurrent use.
type Handler struct {
	verifier *Verifier
	dedup    DedupStore
	maxBody  int64
	log      *slog.Logger
	inflight keyedMutex

	mu       sync.RWMutex
	funcs    map[string]EventFunc
	fallback EventFunc
}

// NewHandler returns a Handler that accepts deliveries signed with secrets,
// space-separated when there are several (during a rotation, the new and the
// old one).
func NewHandler(secrets string, opts ...Option) (*Handler, error) {
	v, err := NewVerifier(secrets)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		verifier: v,
		dedup:    NewMemoryDedup(DefaultDedupCapacity),
		maxBody:  DefaultMaxBodySize,
		funcs:    make(map[string]EventFunc),
	}
	for _, opt := range opts {
		opt(h)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodySize
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h, nil
}

// On registers fn for events of eventType, such as
// switchboard.TypePortingDeclined. It panics if eventType is empty, fn is nil
// or eventType already has a function.
func (h *Handler) On(eventType string, fn EventFunc) {
	if eventType == "" || fn == nil {
		panic("webhook: On needs an event type and a function")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.funcs[eventType]; ok {
		panic("webhook: a function is already registered for " + eventType)
	}
	h.funcs[eventType] = fn
}

// Fallback registers fn for events of every type that has no function of its
// own, including types this package does not know (their Resource is nil).
// Without a fallback, such events are acknowledged and ignored.
func (h *Handler) Fallback(fn EventFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fallback = fn
}

// handlerFor returns the function for eventType, or nil.
func (h *Handler) handlerFor(eventType string) EventFunc {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if fn, ok := h.funcs[eventType]; ok {
		return fn
	}
	return h.fallback
}

// ServeHTTP receives one delivery; see [Handler] for its answers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if err := h.verifier.Verify(r.Header, body); err != nil {
		h.log.WarnContext(r.Context(), "webhook rejected", "webhook_id", r.Header.Get(HeaderID), "err", err)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	ev, err := switchboard.Parse(body)
	if err != nil {
		h.log.WarnContext(r.Context(), "webhook body is not a valid event", "webhook_id", r.Header.Get(HeaderID), "err", err)
		http.Error(w, "invalid event", http.StatusBadRequest)
		return
	}
	status := h.handle(r.Context(), ev)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	http.Error(w, http.StatusText(status), status)
}

// handle runs the function registered for ev at most once per successful
// delivery and returns the status to answer.
func (h *Handler) handle(ctx context.Context, ev *switchboard.ParsedEvent) int {
	fn := h.handlerFor(ev.Type)
	if fn == nil {
		return http.StatusNoContent
	}
	log := h.log.With("event_id", ev.ID, "event_type", ev.Type)

	// Deliveries of one event wait for each other, so that a concurrent
	// duplicate sees the first one's outcome instead of racing it.
	unlock, err := h.inflight.lock(ctx, ev.ID)
	if err != nil {
		log.WarnContext(ctx, "webhook abandoned while a duplicate was handled", "err", err)
		return http.StatusServiceUnavailable
	}
	defer unlock()

	if h.dedup != nil {
		seen, err := h.dedup.Seen(ctx, ev.ID)
		if err != nil {
			log.ErrorContext(ctx, "webhook dedup lookup failed", "err", err)
			return http.StatusInternalServerError
		}
		if seen {
			return http.StatusNoContent
		}
	}
	if err := fn(ctx, ev); err != nil {
		log.ErrorContext(ctx, "webhook handler failed", "err", err)
		return http.StatusInternalServerError
	}
	if h.dedup != nil {
		// The event was handled: answering 500 now would only make the
		// sender deliver it again, so a failed Mark is logged, not answered.
		if err := h.dedup.Mark(ctx, ev.ID); err != nil {
			log.ErrorContext(ctx, "webhook dedup mark failed", "err", err)
		}
	}
	return http.StatusNoContent
}
