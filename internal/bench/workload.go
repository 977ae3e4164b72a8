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
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/field"
)

// apiClient calls the REST API of one or more servers and times each call.
type apiClient struct {
	bases   []string
	key     string
	project string
	hc      *http.Client

	calls  atomic.Int64
	errs   atomic.Int64
	lat    samples
	errMu  sync.Mutex
	errMsg string // the first error, for the report
}

func newAPIClient(bases []string, key, project string, conns int) *apiClient {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &apiClient{bases: bases, key: key, project: project, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// apiError is an answer with an unexpected status.
type apiError struct {
	method, path string
	status       int
	body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.status, e.body)
}

// call sends one request to server srv and returns the answer's body and
// the moment the answer was read.
func (c *apiClient) call(ctx context.Context, srv int, method, path string, body []byte, want int) ([]byte, time.Time, error) {
	out, _, end, err := c.timedCall(ctx, srv, method, path, body, want)
	return out, end, err
}

// timedCall is call, also returning the moment the request was sent.
func (c *apiClient) timedCall(ctx context.Context, srv int, method, path string, body []byte, want int) (out []byte, start, end time.Time, err error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.bases[srv%len(c.bases)]+path, r)
	if err != nil {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("bench: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start = time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.fail(err)
		return nil, time.Time{}, time.Time{}, fmt.Errorf("bench: %s %s: %w", method, path, err)
	}
	out, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	end = time.Now()
	c.calls.Add(1)
	c.lat.add(end.Sub(start))
	if err != nil {
		c.fail(err)
		return nil, start, end, fmt.Errorf("bench: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		err := &apiError{method: method, path: path, status: resp.StatusCode, body: string(out)}
		c.fail(err)
		return out, start, end, err
	}
	return out, start, end, nil
}

func (c *apiClient) fail(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // the run's end cut the call short
	}
	c.errs.Add(1)
	c.errMu.Lock()
	if c.errMsg == "" {
		c.errMsg = err.Error()
	}
	c.errMu.Unlock()
}

// idOf returns the "id" of a JSON object: resources render object, then id.
func idOf(body []byte) (string, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
		return "", fmt.Errorf("bench: no id in answer %.200s", body)
	}
	return v.ID, nil
}

// catalogIDs are what the lifecycles refer to.
type catalogIDs struct {
	plan  string // a monthly recurring plan the harness creates
	donor string // the AT&T donor provider
}

// seedCatalog creates the harness's plan and finds the donor provider.
func seedCatalog(ctx context.Context, c *apiClient) (catalogIDs, error) {
	var ids catalogIDs
	plan := []byte(`{"name":"Bench Thirty Days","provider":"p9","price":{"amount":1500,"currency":"USD"},` +
		`"validity":{"type":"recurring","unit":"day","value":30,"minimumPeriods":1}}`)
	b, _, err := c.call(ctx, 0, "POST", "/projects/"+c.project+"/plans", plan, http.StatusCreated)
	if err != nil {
		return ids, err
	}
	if ids.plan, err = idOf(b); err != nil {
		return ids, err
	}
	b, _, err = c.call(ctx, 0, "GET", "/serviceProviders?recipientProvider=p9&limit=200", nil, http.StatusOK)
	if err != nil {
		return ids, err
	}
	var list struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return ids, fmt.Errorf("bench: decode service providers: %w", err)
	}
	for _, p := range list.Items {
		if p.Name == "AT&T" {
			ids.donor = p.ID
		}
	}
	if ids.donor == "" {
		return ids, errors.New("bench: the catalog lacks the AT&T donor provider")
	}
	return ids, nil
}

// pacer spaces calls so that the events they cause come at a fixed rate;
// nil paces nothing.
type pacer struct {
	mu   sync.Mutex
	rate float64 // events per second
	next time.Time
}

// wait waits until n more events may be caused.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil || n == 0 {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// lifecycle drives one user's portings and subscriptions through the API.
type lifecycle struct {
	c       *apiClient
	t       *tracker
	p       *pacer
	cat     catalogIDs
	srv     int    // the server this lifecycle talks to
	n       int64  // the lifecycle's number in the run
	run     string // the run's tag, unique across runs
	numbers *numberSource
	path    string // "/projects/<project>"
}

// ev is one event a step causes: its resource and type.
type ev struct{ resource, typ string }

// step calls the API and, once it has answered, notes the events it caused.
func (l *lifecycle) step(ctx context.Context, method, path string, body any, want int, events func(resp []byte) ([]ev, error), expect int) ([]byte, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("bench: encode %s %s: %w", method, path, err)
		}
	}
	if err := l.p.wait(ctx, expect); err != nil {
		return nil, err
	}
	resp, start, end, err := l.c.timedCall(ctx, l.srv, method, l.path+path, raw, want)
	if err != nil {
		return nil, err
	}
	evs, err := events(resp)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		l.t.committed(e.resource, e.typ, start, end)
	}
	return resp, nil
}

// on returns an events function naming the events of one resource.
func on(resource string, types ...string) func([]byte) ([]ev, error) {
	return func([]byte) ([]ev, error) {
		out := make([]ev, len(types))
		for i, t := range types {
			out[i] = ev{resource, t}
		}
		return out, nil
	}
}

// created returns an events function for a create: the events of the new
// resource, whose ID the answer carries, are types.
func created(id *string, types ...string) func([]byte) ([]ev, error) {
	return func(resp []byte) ([]ev, error) {
		var err error
		if *id, err = idOf(resp); err != nil {
			return nil, err
		}
		return on(*id, types...)(resp)
	}
}

// both joins the events of two functions.
func both(a, b func([]byte) ([]ev, error)) func([]byte) ([]ev, error) {
	return func(resp []byte) ([]ev, error) {
		x, err := a(resp)
		if err != nil {
			return nil, err
		}
		y, err := b(resp)
		return append(x, y...), err
	}
}

type obj = map[string]any

// Event types, short.
const (
	pCreated  = switchboard.TypePortingCreated
	pUpdated  = switchboard.TypePortingUpdated
	pInfo     = switchboard.TypePortingInformationRequired
	pReq      = switchboard.TypePortingRequested
	pDeclined = switchboard.TypePortingDeclined
	pDone     = switchboard.TypePortingCompleted
	pCanceled = switchboard.TypePortingCanceled
	pExpired  = switchboard.TypePortingExpired
	pDeleted  = switchboard.TypePortingDeleted
	sCreated  = switchboard.TypeSubscriptionCreated
	sActive   = switchboard.TypeSubscriptionActivated
	sCanceled = switchboard.TypeSubscriptionCanceled
	sResumed  = switchboard.TypeSubscriptionResumed
	sEnded    = switchboard.TypeSubscriptionEnded
	sUpdated  = switchboard.TypeSubscriptionUpdated
	credsIss  = switchboard.TypePortOutCredentialsIssued
	uCreated  = switchboard.TypeUserCreated
	uUpdated  = switchboard.TypeUserUpdated
)

// EventsPerLifecycle is how many events one lifecycle causes on average
// (lifecycles of the three variants take turns): 31, 16 and 19. SIM events
// are not counted: the bench endpoints do not subscribe to them (their
// resource, the SIM, is not named in the API answers the bench reads).
const EventsPerLifecycle = (31 + 16 + 19) / 3.0

func address() obj {
	return obj{"line1": "129 West 81st Street", "city": "New York City", "postalCode": "10024", "state": "NY", "country": "US"}
}

// run drives the lifecycle: a user, then one of three variants by turn, so
// that every event type but the timer-driven subscription.renewed flows.
//
//	ported   (31 events): draft porting, subscription waiting for it,
//	          details, request, decline, correction, request, complete;
//	          cancel at period end, resume, port-out credentials, cancel
//	          immediately.
//	canceled (16): a complete porting and its subscription, the porting
//	          canceled (the subscription ends); a draft porting deleted;
//	          a new-number subscription canceled at period end.
//	expired  (19): a porting requested, then expired (the subscription
//	          ends); a new-number subscription with port-out credentials,
//	          canceled immediately.
func (l *lifecycle) runOnce(ctx context.Context) error {
	var user string
	email := fmt.Sprintf("bench-%s-%d@example.com", l.run, l.n)
	if _, err := l.step(ctx, "POST", "/users", obj{"email": email, "fullName": "Bench User"}, http.StatusCreated,
		created(&user, uCreated), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "PATCH", "/users/"+user, obj{"fullName": "Bench User " + strconv.FormatInt(l.n, 10)},
		http.StatusOK, on(user, uUpdated), 1); err != nil {
		return err
	}
	switch l.n % 3 {
	case 0:
		return l.ported(ctx, user)
	case 1:
		return l.canceled(ctx, user)
	default:
		return l.expired(ctx, user)
	}
}

func (l *lifecycle) ported(ctx context.Context, user string) error {
	var prt, sub string
	number := l.numbers.next()
	if _, err := l.step(ctx, "POST", "/portings", obj{"phoneNumber": number, "user": user, "provider": "p9",
		"donorProvider": l.cat.donor, "accountNumber": "ACC-1001", "firstName": "Bench"}, http.StatusCreated,
		created(&prt, pCreated), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions", obj{"user": user, "plan": l.cat.plan, "porting": prt}, http.StatusCreated,
		both(on(prt, pInfo, pUpdated), created(&sub, sCreated)), 3); err != nil {
		return err
	}
	details := obj{"accountPin": "7351", "lastName": "User", "birthday": "1970-01-01", "address": address()}
	steps := []struct {
		method, path string
		body         any
		events       func([]byte) ([]ev, error)
		n            int
	}{
		{"PATCH", "/portings/" + prt, details, both(on(prt, pUpdated), on(sub, sUpdated)), 2},
		{"POST", "/portings/" + prt + "/simulate", obj{"action": "request"}, both(on(prt, pReq, pUpdated), on(sub, sUpdated)), 3},
		{"POST", "/portings/" + prt + "/simulate", obj{"action": "decline", "declinedCode": "portingAccountPinRequiredOrInvalid"},
			both(on(prt, pDeclined, pUpdated), on(sub, sUpdated)), 3},
		{"PATCH", "/portings/" + prt, obj{"accountPin": "8642"}, both(on(prt, pUpdated), on(sub, sUpdated)), 2},
		{"POST", "/portings/" + prt + "/simulate", obj{"action": "request"}, both(on(prt, pReq, pUpdated), on(sub, sUpdated)), 3},
		{"POST", "/portings/" + prt + "/simulate", obj{"action": "complete"},
			both(on(prt, pDone, pUpdated), on(sub, sActive, sUpdated)), 4},
		{"POST", "/subscriptions/" + sub + "/cancel", obj{"immediately": false, "userReason": "tooExpensive"}, on(sub, sCanceled, sUpdated), 2},
		{"POST", "/subscriptions/" + sub + "/resume", nil, on(sub, sResumed, sUpdated), 2},
	}
	for _, s := range steps {
		if _, err := l.step(ctx, s.method, s.path, s.body, http.StatusOK, s.events, s.n); err != nil {
			return err
		}
	}
	if _, err := l.step(ctx, "POST", "/subscriptions/"+sub+"/portOutCredentials", nil, http.StatusCreated, on(sub, credsIss), 1); err != nil {
		return err
	}
	_, err := l.step(ctx, "POST", "/subscriptions/"+sub+"/cancel", obj{"immediately": true, "userReason": "unused"}, http.StatusOK,
		on(sub, sCanceled, sEnded, sUpdated), 3)
	return err
}

// fullPorting returns the body of a porting with every detail.
func (l *lifecycle) fullPorting(user string) obj {
	return obj{"phoneNumber": l.numbers.next(), "user": user, "provider": "p9", "donorProvider": l.cat.donor,
		"accountNumber": "ACC-1001", "firstName": "Bench", "accountPin": "7351", "lastName": "User",
		"birthday": "1970-01-01", "address": address()}
}

func (l *lifecycle) canceled(ctx context.Context, user string) error {
	var prt, sub, draft, sub2 string
	if _, err := l.step(ctx, "POST", "/portings", l.fullPorting(user), http.StatusCreated, created(&prt, pCreated), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions", obj{"user": user, "plan": l.cat.plan, "porting": prt}, http.StatusCreated,
		both(on(prt, pUpdated), created(&sub, sCreated)), 2); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/portings/"+prt+"/cancel", nil, http.StatusOK,
		both(on(prt, pCanceled, pUpdated), on(sub, sEnded, sUpdated)), 4); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/portings", obj{"phoneNumber": l.numbers.next(), "user": user, "provider": "p9"},
		http.StatusCreated, created(&draft, pCreated), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "DELETE", "/portings/"+draft, nil, http.StatusOK, on(draft, pDeleted), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions", obj{"user": user, "plan": l.cat.plan}, http.StatusCreated,
		created(&sub2, sCreated, sActive, sUpdated), 3); err != nil {
		return err
	}
	_, err := l.step(ctx, "POST", "/subscriptions/"+sub2+"/cancel", obj{"immediately": false}, http.StatusOK,
		on(sub2, sCanceled, sUpdated), 2)
	return err
}

func (l *lifecycle) expired(ctx context.Context, user string) error {
	var prt, sub, sub2 string
	if _, err := l.step(ctx, "POST", "/portings", l.fullPorting(user), http.StatusCreated, created(&prt, pCreated), 1); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions", obj{"user": user, "plan": l.cat.plan, "porting": prt}, http.StatusCreated,
		both(on(prt, pUpdated), created(&sub, sCreated)), 2); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/portings/"+prt+"/simulate", obj{"action": "request"}, http.StatusOK,
		both(on(prt, pReq, pUpdated), on(sub, sUpdated)), 3); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/portings/"+prt+"/simulate", obj{"action": "expire"}, http.StatusOK,
		both(on(prt, pExpired, pUpdated), on(sub, sEnded, sUpdated)), 4); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions", obj{"user": user, "plan": l.cat.plan}, http.StatusCreated,
		created(&sub2, sCreated, sActive, sUpdated), 3); err != nil {
		return err
	}
	if _, err := l.step(ctx, "POST", "/subscriptions/"+sub2+"/portOutCredentials", nil, http.StatusCreated, on(sub2, credsIss), 1); err != nil {
		return err
	}
	_, err := l.step(ctx, "POST", "/subscriptions/"+sub2+"/cancel", obj{"immediately": true}, http.StatusOK,
		on(sub2, sCanceled, sEnded, sUpdated), 3)
	return err
}

// areaCodes are US area codes the phone numbers of a run are drawn from.
var areaCodes = []int{201, 212, 213, 310, 312, 323, 347, 408, 415, 510, 609, 617, 646, 650, 718, 732, 773, 908, 917, 973}

// numberSource hands out distinct valid US phone numbers, none of them
// magic, from a starting point chosen per run.
type numberSource struct {
	k atomic.Int64
}

func (s *numberSource) next() string {
	for {
		k := s.k.Add(1)
		line, rest := k%10000, k/10000
		exch := 200 + rest%800
		area := areaCodes[(rest/800)%int64(len(areaCodes))]
		if exch == 555 || exch%100 == 11 {
			continue
		}
		n := fmt.Sprintf("+1%03d%03d%04d", area, exch, line)
		if field.PhoneNumber("phoneNumber", n) == nil {
			return n
		}
	}
}
