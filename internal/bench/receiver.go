package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/webhook"
)

// Receiver is the harness's webhook receiver: a net/http server on loopback
// with one path per endpoint (/hook/0, /hook/1, …). It checks that the
// webhook headers are present on every delivery, fully verifies the
// signature of one delivery in VerifyEvery (every one when 1), notes the
// receipt time of each delivery and hands it to the tracker. While Failing
// is set it answers 503 with Retry-After, as an endpoint that is down would.
type Receiver struct {
	// VerifyEvery makes the receiver verify the signature of one delivery
	// in this many; 0 verifies none, 1 all.
	VerifyEvery int64
	// RetryAfter is the Retry-After header of a failing answer, in seconds.
	RetryAfter int

	failing   atomic.Bool
	received  atomic.Int64 // deliveries answered 2xx
	refused   atomic.Int64 // deliveries answered 503 while failing
	verified  atomic.Int64
	badSig    atomic.Int64
	malformed atomic.Int64
	first     atomic.Int64 // unix nanos of the first 2xx receipt
	last      atomic.Int64 // unix nanos of the latest 2xx receipt

	mu        sync.RWMutex
	verifiers []*webhook.Verifier
	tracker   *tracker

	srv *http.Server
	ln  net.Listener
}

// Start listens on a loopback port and serves until Close.
func (r *Receiver) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench: receiver listen: %w", err)
	}
	r.ln = ln
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return nil
}

// URL returns the URL of endpoint i's path.
func (r *Receiver) URL(i int) string {
	return "http://" + r.ln.Addr().String() + "/hook/" + strconv.Itoa(i)
}

// Close stops the receiver.
func (r *Receiver) Close() error {
	if r.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("bench: receiver shutdown: %w", err)
	}
	return nil
}

// AddEndpoint registers the signing secret of the next endpoint and returns
// its index.
func (r *Receiver) AddEndpoint(secret string) (int, error) {
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		return 0, fmt.Errorf("bench: endpoint secret: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verifiers = append(r.verifiers, v)
	return len(r.verifiers) - 1, nil
}

// SetFailing makes the receiver answer 503 (true) or accept (false).
func (r *Receiver) SetFailing(f bool) { r.failing.Store(f) }

// Received returns how many deliveries were accepted.
func (r *Receiver) Received() int64 { return r.received.Load() }

// ServeHTTP receives one delivery.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/hook/")
	ep, err := strconv.Atoi(rest)
	if !ok || err != nil || req.Method != http.MethodPost {
		http.NotFound(w, req)
		return
	}
	var buf [4096]byte
	body, err := readAll(req.Body, buf[:0])
	if err != nil {
		r.malformed.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.failing.Load() {
		r.refused.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(r.RetryAfter))
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	at := time.Now()
	id := req.Header.Get(webhook.HeaderID)
	if id == "" || req.Header.Get(webhook.HeaderTimestamp) == "" || req.Header.Get(webhook.HeaderSignature) == "" {
		r.malformed.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	n := r.received.Add(1)
	if r.VerifyEvery > 0 && n%r.VerifyEvery == 0 {
		r.mu.RLock()
		var v *webhook.Verifier
		if ep < len(r.verifiers) {
			v = r.verifiers[ep]
		}
		r.mu.RUnlock()
		if v != nil {
			r.verified.Add(1)
			if err := v.Verify(req.Header, body); err != nil {
				r.badSig.Add(1)
				r.received.Add(-1)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
		}
	}
	ns := at.UnixNano()
	r.first.CompareAndSwap(0, ns)
	for {
		old := r.last.Load()
		if ns <= old || r.last.CompareAndSwap(old, ns) {
			break
		}
	}
	if r.tracker != nil {
		typ, resource, ok := parseEvent(body)
		if !ok {
			r.malformed.Add(1)
		} else {
			r.tracker.receipt(ep, id, resource, typ, at)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// readAll reads r into buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) > 1<<20 {
			return buf, errors.New("bench: delivery body too large")
		}
	}
}

var (
	typeKey = []byte(`,"type":"`)
	dataKey = []byte(`"data":{"object":"`)
	idKey   = []byte(`","id":"`)
	subKey  = []byte(`"subscription":"`)
)

// parseEvent returns an event's type and the ID of the resource it is
// about (for port-out credentials, the subscription's). It reads the
// envelope's shape directly — its type is the last "type" member, after data
// and previousData, and resources render object then id first — and falls
// back to decoding JSON.
func parseEvent(body []byte) (typ, resource string, ok bool) {
	if i := bytes.LastIndex(body, typeKey); i >= 0 {
		rest := body[i+len(typeKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			typ = string(rest[:j])
		}
	}
	if i := bytes.Index(body, dataKey); i >= 0 && typ != "" {
		rest := body[i+len(dataKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			key := idKey
			if bytes.Equal(rest[:j], []byte("portOutCredentials")) {
				key = subKey
			}
			if k := bytes.Index(rest[j:], key); k >= 0 && (k == 0 || bytes.Equal(key, subKey)) {
				rest = rest[j+k+len(key):]
				if k := bytes.IndexByte(rest, '"'); k > 0 {
					return typ, string(rest[:k]), true
				}
			}
		}
	}
	var e struct {
		Type string `json:"type"`
		Data struct {
			ID           string `json:"id"`
			Subscription string `json:"subscription"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type == "" {
		return "", "", false
	}
	if e.Data.ID != "" {
		return e.Type, e.Data.ID, true
	}
	return e.Type, e.Data.Subscription, e.Data.Subscription != ""
}
