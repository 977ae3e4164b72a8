package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/webhook"
)

// TestVectors proves that the test's own signature check agrees with the
// Standard Webhooks specification's published vectors.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile("../../webhook/testdata/standard-webhooks.json")
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v struct {
		Cases []struct {
			Name      string `json:"name"`
			Secret    string `json:"secret"`
			MsgID     string `json:"msgId"`
			Timestamp int64  `json:"timestamp"`
			Payload   string `json:"payload"`
			Signature string `json:"signature"`
			Valid     bool   `json:"valid"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got := verifySignature(c.Secret, c.MsgID, strconv.FormatInt(c.Timestamp, 10), []byte(c.Payload), c.Signature)
			if got != c.Valid {
				t.Fatalf("verify = %v, want %v", got, c.Valid)
			}
		})
	}
}

func TestRetriesUntilSuccess(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const failures = 3
		rc := newReceiver(t, func(r request, n int) (int, http.Header) {
			if n < failures {
				return http.StatusInternalServerError, nil
			}
			return http.StatusOK, nil
		})
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the delivery to succeed", func() bool {
			ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
			return len(ds) == 1 && ds[0].Status == store.DeliverySucceeded
		})
		reqs := rc.got()
		if len(reqs) != failures+1 {
			t.Fatalf("got %d requests, want %d", len(reqs), failures+1)
		}
		for _, r := range reqs {
			if r.ID != ids[0] {
				t.Errorf("webhook-id %q, want the event ID %q on every retry", r.ID, ids[0])
			}
		}
		checkSigned(t, reqs, ep.Secret)
		// The webhook package, written independently, agrees.
		for _, r := range reqs {
			if err := webhook.Verify(ep.Secret, r.Header, r.Body); err != nil {
				t.Errorf("webhook.Verify: %v", err)
			}
		}
		d := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))[0]
		if len(d.Attempts) != failures+1 || *d.Attempts[0].ResponseStatus != 500 || *d.Attempts[failures].ResponseStatus != 200 {
			t.Fatalf("attempts %+v, want %d failures then a success", d.Attempts, failures)
		}
		if *d.Attempts[0].ResponseBody != "answer 500" || d.NextAttemptAt != nil {
			t.Fatalf("attempt body %q, next %v", *d.Attempts[0].ResponseBody, d.NextAttemptAt)
		}
	})
}

func TestExhaustedRetriesFailThenRecover(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(request, int) (int, http.Header) { return http.StatusBadRequest, nil })
		cfg := fast()
		cfg.Schedule = cfg.Schedule[:2]
		h := start(t, b, cfg)
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 2)
		dpath := path("webhookEndpoints", ep.ID, "deliveries")
		await(t, 10*time.Second, "both deliveries to fail", func() bool {
			ds := h.deliveriesOf(dpath)
			return len(ds) == 2 && ds[0].Status == store.DeliveryFailed && ds[1].Status == store.DeliveryFailed
		})
		if n := len(rc.got()); n != 6 {
			t.Fatalf("got %d requests, want 3 attempts for each of 2 deliveries", n)
		}
		rc.setRespond(nil)
		var rec struct {
			Requeued int `json:"requeued"`
		}
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if status := h.call("POST", path("webhookEndpoints", ep.ID, "recover"), map[string]any{"since": since}, &rec); status != 200 || rec.Requeued != 2 {
			t.Fatalf("recover: status %d, requeued %d; want 200, 2", status, rec.Requeued)
		}
		await(t, 10*time.Second, "recovered deliveries to succeed", func() bool {
			ds := h.deliveriesOf(dpath)
			return ds[0].Status == store.DeliverySucceeded && ds[1].Status == store.DeliverySucceeded
		})
		// Resend a delivered event: same webhook-id again.
		before := len(rc.got())
		var l struct {
			Items []deliveryObject `json:"items"`
		}
		if status := h.call("POST", path("events", ids[0], "resend"), map[string]any{"endpoint": ep.ID}, &l); status != 200 || len(l.Items) != 1 {
			t.Fatalf("resend: status %d, %d deliveries", status, len(l.Items))
		}
		await(t, 10*time.Second, "the resent event", func() bool { return len(rc.got()) == before+1 })
		if r := rc.got()[before]; r.ID != ids[0] {
			t.Fatalf("resent webhook-id %q, want %q", r.ID, ids[0])
		}
		// Resend to every endpoint without a body; an unknown event is 404.
		if status := h.call("POST", path("events", ids[1], "resend"), nil, &l); status != 200 || len(l.Items) != 1 {
			t.Fatalf("resend to all: status %d, %d deliveries", status, len(l.Items))
		}
		if status := h.call("POST", path("events", "evt_nope", "resend"), nil, nil); status != 404 {
			t.Fatalf("resend of an unknown event: status %d, want 404", status)
		}
		checkSigned(t, rc.got(), ep.Secret)
	})
}

func TestDisabledAfterWindowThenEnabled(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(request, int) (int, http.Header) { return http.StatusInternalServerError, nil })
		cfg := fast()
		cfg.Schedule = slices.Repeat([]time.Duration{20 * time.Millisecond}, 1000)
		cfg.DisableAfter = 5 * 24 * time.Hour
		h := start(t, b, cfg)
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "a few failures", func() bool { return len(rc.got()) >= 3 })
		if e := h.endpoint(ep.ID); e.Status != endpoint.Enabled {
			t.Fatalf("endpoint %s after a few failures, want still enabled", e.Status)
		}
		h.srv.DeliveryClock.Advance(5*24*time.Hour + time.Minute) // delivery runs on the server's own clock, not a test clock
		await(t, 10*time.Second, "the endpoint to be disabled", func() bool { return h.endpoint(ep.ID).Status == endpoint.Disabled })
		if e := h.endpoint(ep.ID); e.DisabledReason == nil {
			t.Fatal("disabled endpoint has no reason")
		}
		// Paused: nothing more arrives, and new events are not queued for it.
		await(t, 5*time.Second, "the delivery to be paused", func() bool {
			ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
			return ds[0].Paused && ds[0].Status == store.DeliveryPending
		})
		n := len(rc.got())
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		time.Sleep(100 * time.Millisecond) // give a wrongly running dispatcher the chance to send
		if got := len(rc.got()); got != n {
			t.Fatalf("disabled endpoint got %d more requests", got-n)
		}
		rc.setRespond(nil)
		var e endpointObject
		if status := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{"status": "enabled"}, &e); status != 200 || e.Status != endpoint.Enabled {
			t.Fatalf("enable: status %d, endpoint %s", status, e.Status)
		}
		await(t, 10*time.Second, "the paused delivery to resume and succeed", func() bool {
			ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
			return ds[0].Status == store.DeliverySucceeded && !ds[0].Paused
		})
	})
}

func TestGoneDisablesAtOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(request, int) (int, http.Header) { return http.StatusGone, nil })
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the endpoint to be disabled", func() bool { return h.endpoint(ep.ID).Status == endpoint.Disabled })
		if n := len(rc.got()); n != 1 {
			t.Fatalf("got %d requests, want 1", n)
		}
		if r := h.endpoint(ep.ID).DisabledReason; r == nil || !strings.Contains(*r, "410") {
			t.Fatalf("reason %v, want one naming 410", r)
		}
	})
}

func TestSlowDownHonoursRetryAfter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(r request, n int) (int, http.Header) {
			if n == 0 {
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
			}
			return http.StatusOK, nil
		})
		h := start(t, b, fast())
		h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the retry", func() bool { return len(rc.got()) == 2 })
		reqs := rc.got()
		if gap := reqs[1].At.Sub(reqs[0].At); gap < 900*time.Millisecond {
			t.Fatalf("retried after %s; Retry-After asked for 1s (the schedule says 20ms)", gap)
		}
		// A later event waits out the endpoint's slow-down too.
		var refused atomic.Bool // only the next request is refused
		rc.setRespond(func(r request, n int) (int, http.Header) {
			if r.ID != ids[0] && !refused.Swap(true) {
				return http.StatusServiceUnavailable, http.Header{"Retry-After": {time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)}}
			}
			return http.StatusOK, nil
		})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the second event's first attempt", func() bool { return len(rc.got()) >= 3 })
		first := rc.got()[2].At
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "both to arrive", func() bool { return len(rc.got()) >= 5 })
		if n := len(rc.got()); n != 5 {
			t.Fatalf("got %d requests, want 5: one refusal, its retry and the later event", n)
		}
		for _, r := range rc.got()[3:] {
			if gap := r.At.Sub(first); gap < 900*time.Millisecond {
				t.Errorf("request %s %s after the 503 asked for about 2s", r.ID, gap)
			}
		}
	})
}

// TestEnablingAgainEndsRetryAfter checks that an endpoint disabled and
// enabled again resumes its deliveries at once, though it had asked to be
// left alone for an hour.
func TestEnablingAgainEndsRetryAfter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(r request, n int) (int, http.Header) {
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"3600"}}
		})
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the refusal to be recorded", func() bool {
			ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
			return len(ds[0].Attempts) == 1 && ds[0].NextAttemptAt != nil && ds[0].NextAttemptAt.After(time.Now().Add(30*time.Minute))
		})
		rc.setRespond(nil)
		for _, status := range []string{"disabled", "enabled"} {
			if code := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{"status": status}, nil); code != 200 {
				t.Fatalf("PATCH status %s: %d", status, code)
			}
		}
		await(t, 10*time.Second, "the delivery, long before the hour", func() bool {
			ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
			return ds[0].Status == store.DeliverySucceeded
		})
	})
}

func TestSecretRotationSignsWithBoth(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, nil)
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		if got := h.endpoint(ep.ID).Secret; got != "" {
			t.Fatalf("GET shows the secret %q", got)
		}
		var rotated endpointObject
		if status := h.call("POST", path("webhookEndpoints", ep.ID, "rotateSecret"), nil, &rotated); status != 200 {
			t.Fatalf("rotate: status %d", status)
		}
		if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == ep.Secret {
			t.Fatalf("rotated secret %q", rotated.Secret)
		}
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the event", func() bool { return len(rc.got()) == 1 })
		r := rc.got()[0]
		if n := len(strings.Fields(r.Signature)); n != 2 {
			t.Fatalf("%d signatures during the grace period, want 2: %q", n, r.Signature)
		}
		checkSigned(t, []request{r}, ep.Secret)
		checkSigned(t, []request{r}, rotated.Secret)
		h.srv.DeliveryClock.Advance(25 * time.Hour) // past the grace period
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the second event", func() bool { return len(rc.got()) == 2 })
		r = rc.got()[1]
		if n := len(strings.Fields(r.Signature)); n != 1 || verifySignature(ep.Secret, r.ID, r.Timestamp, r.Body, r.Signature) {
			t.Fatalf("after the grace period: %q, want only the new secret's signature", r.Signature)
		}
		checkSigned(t, []request{r}, rotated.Secret)
	})
}

func TestEventTypeFilter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, nil)
		all := newReceiver(t, nil)
		h := start(t, b, fast())
		h.createEndpoint(map[string]any{"url": rc.URL, "enabledEvents": []string{"com.gigs.porting.*", switchboard.TypeUserUpdated}})
		h.createEndpoint(map[string]any{"url": all.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		want := h.record(context.Background(), switchboard.TypePortingUpdated, 1)
		want = append(want, h.record(context.Background(), switchboard.TypeUserUpdated, 1)...)
		await(t, 10*time.Second, "the catch-all endpoint to get all three", func() bool { return len(all.got()) == 3 })
		await(t, 10*time.Second, "the filtered endpoint to get two", func() bool { return len(rc.got()) == 2 })
		var got []string
		for _, r := range rc.got() {
			got = append(got, r.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("filtered endpoint got %v, want %v", got, want)
		}
	})
}

func TestOrderedKeepsFIFOThroughFailures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		// Every event fails twice before it is taken.
		rc := newReceiver(t, func(r request, n int) (int, http.Header) {
			if n < 2 {
				return http.StatusInternalServerError, nil
			}
			return http.StatusOK, nil
		})
		h := start(t, b, fast())
		h.createEndpoint(map[string]any{"url": rc.URL, "ordered": true})
		var ids []string
		for range 8 { // separate transactions, as separate changes would be
			ids = append(ids, h.record(context.Background(), switchboard.TypeUserCreated, 1)...)
		}
		await(t, 20*time.Second, "every event", func() bool { return len(rc.got()) == 3*len(ids) })
		reqs := rc.got()
		for i, r := range reqs {
			if want := ids[i/3]; r.ID != want {
				t.Fatalf("request %d is %s, want %s (strict FIFO, 3 attempts each)", i, r.ID, want)
			}
		}
	})
}

func TestUnorderedRunsConcurrently(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		release := make(chan struct{})
		rc := newReceiver(t, func(request, int) (int, http.Header) { <-release; return 200, nil })
		h := start(t, b, fast())
		h.createEndpoint(map[string]any{"url": rc.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 5)
		await(t, 10*time.Second, "five requests at once", func() bool { return len(rc.got()) == 5 })
		close(release)
	})
}

func TestRateLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, nil)
		h := start(t, b, fast())
		const rate, n = 10, 30
		h.createEndpoint(map[string]any{"url": rc.URL, "rateLimit": rate})
		h.record(context.Background(), switchboard.TypeUserCreated, n)
		await(t, 20*time.Second, "every event", func() bool { return len(rc.got()) >= n })
		reqs := rc.got()
		// A token bucket of rate tokens: the k-th request (from 0) comes no
		// sooner than (k-rate)/rate seconds after the first.
		for k, r := range reqs {
			min := time.Duration(float64(k-rate) / rate * float64(time.Second))
			if gap := r.At.Sub(reqs[0].At); gap < min-50*time.Millisecond {
				t.Fatalf("request %d came %s after the first; the rate limit allows it after %s", k, gap, min)
			}
		}
		if total := reqs[n-1].At.Sub(reqs[0].At); total > 5*time.Second {
			t.Errorf("took %s for %d requests at %d/s", total, n, rate)
		}
	})
}

func TestVersionRendering(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		old, cur := newReceiver(t, nil), newReceiver(t, nil)
		h := start(t, b, fast())
		h.createEndpoint(map[string]any{"url": old.URL, "version": switchboard.Version20240829})
		h.createEndpoint(map[string]any{"url": cur.URL, "version": switchboard.Version20250522})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "both endpoints", func() bool { return len(old.got()) == 1 && len(cur.got()) == 1 })
		for _, c := range []struct {
			rc      *receiver
			version string
			actor   bool
		}{{old, switchboard.Version20240829, false}, {cur, switchboard.Version20250522, true}} {
			var ev map[string]json.RawMessage
			if err := json.Unmarshal(c.rc.got()[0].Body, &ev); err != nil {
				t.Fatal(err)
			}
			if v := string(ev["version"]); v != `"`+c.version+`"` {
				t.Errorf("version %s, want %s", v, c.version)
			}
			if _, ok := ev["actor"]; ok != c.actor {
				t.Errorf("version %s: actor present %v, want %v", c.version, ok, c.actor)
			}
		}
	})
}

func TestRefusesPrivateAddresses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, nil)
		cfg := fast()
		cfg.RefusePrivate = true
		h := start(t, b, cfg)
		for _, u := range []string{rc.URL, "http://localhost:8080/", "http://[::1]/", "http://10.0.0.1/", "http://169.254.169.254/latest", "http://0.0.0.0/"} {
			if status := h.call("POST", path("webhookEndpoints"), map[string]any{"url": u}, nil); status != http.StatusUnprocessableEntity {
				t.Errorf("create %s: status %d, want 422", u, status)
			}
		}
		// A name that resolves to a private address passes creation; the
		// dialer refuses it when connecting. Store one as if DNS had changed.
		e := endpoint.Endpoint{ID: "whe_ssrf", Project: testProject, URL: rc.URL, EnabledEvents: []string{"*"},
			Version: switchboard.LatestVersion, Status: endpoint.Enabled, Secrets: []endpoint.Secret{{Value: endpoint.NewSecret()}}}
		if err := h.srv.Store.Update(context.Background(), func(tx *store.Tx) error { return tx.Put(context.Background(), e.Record()) }); err != nil {
			t.Fatal(err)
		}
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "a refused attempt", func() bool {
			ds := h.deliveriesOf(path("webhookEndpoints", e.ID, "deliveries"))
			return len(ds) == 1 && len(ds[0].Attempts) > 0
		})
		d := h.deliveriesOf(path("webhookEndpoints", e.ID, "deliveries"))[0]
		if a := d.Attempts[0]; a.Error == nil || *a.Error != "privateAddressRefused" || a.ResponseStatus != nil {
			t.Fatalf("attempt %+v, want a refused connection", a)
		}
		if n := len(rc.got()); n != 0 {
			t.Fatalf("the private receiver got %d requests", n)
		}
	})
}

func TestRedirectIsFailure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		target := newReceiver(t, nil)
		rc := newReceiver(t, func(request, int) (int, http.Header) {
			return http.StatusTemporaryRedirect, http.Header{"Location": {target.URL}}
		})
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "a failed attempt", func() bool {
			ds := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))
			return len(ds) == 1 && len(ds[0].Attempts) > 0
		})
		if n := len(target.got()); n != 0 {
			t.Fatalf("the redirect was followed %d times", n)
		}
	})
}

// TestPrivateResponsesHidden checks that what a loopback destination
// answered is kept in the attempt log only when the server keeps private
// responses (a loopback-only server), its status either way.
func TestPrivateResponsesHidden(t *testing.T) {
	for _, hide := range []bool{false, true} {
		storetest.Run(t, func(t *testing.T, b storetest.Backend) {
			rc := newReceiver(t, func(request, int) (int, http.Header) { return http.StatusUnauthorized, nil })
			cfg := fast()
			cfg.Schedule = []time.Duration{time.Hour}
			cfg.HidePrivateResponses = hide
			h := start(t, b, cfg)
			ep := h.createEndpoint(map[string]any{"url": rc.URL})
			h.record(context.Background(), switchboard.TypeUserCreated, 1)
			await(t, 10*time.Second, "an attempt", func() bool {
				ds := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))
				return len(ds) == 1 && len(ds[0].Attempts) > 0
			})
			a := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))[0].Attempts[0]
			want := "answer 401"
			if hide {
				want = ""
			}
			if a.ResponseStatus == nil || *a.ResponseStatus != http.StatusUnauthorized || a.ResponseBody == nil || *a.ResponseBody != want {
				t.Errorf("hide %v: attempt status %v body %v, want 401 and %q", hide, a.ResponseStatus, a.ResponseBody, want)
			}
		})
	}
}

// TestResendWhileInFlight: an event resent while its delivery's attempt is
// still in flight is sent again once that attempt ends, whatever it
// answered: the resend is not lost to the result of the attempt it
// overtook.
func TestResendWhileInFlight(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		hold := make(chan struct{})
		rc := newReceiver(t, func(_ request, n int) (int, http.Header) {
			if n == 0 {
				<-hold // the first attempt waits for the resend
			}
			return http.StatusNoContent, nil
		})
		t.Cleanup(func() {
			select {
			case <-hold:
			default:
				close(hold)
			}
		})
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
		await(t, 10*time.Second, "the first attempt to arrive", func() bool { return len(rc.got()) == 1 })
		var l struct {
			Items []deliveryObject `json:"items"`
		}
		if status := h.call("POST", path("events", ids[0], "resend"), map[string]any{"endpoint": ep.ID}, &l); status != 200 || len(l.Items) != 1 {
			t.Fatalf("resend: status %d, %d deliveries", status, len(l.Items))
		}
		close(hold)
		await(t, 10*time.Second, "the resent event", func() bool { return len(rc.got()) == 2 })
		if r := rc.got()[1]; r.ID != ids[0] {
			t.Fatalf("resent webhook-id %q, want %q", r.ID, ids[0])
		}
		dpath := path("webhookEndpoints", ep.ID, "deliveries")
		await(t, 10*time.Second, "the delivery to succeed", func() bool {
			ds := h.deliveriesOf(dpath)
			return len(ds) == 1 && ds[0].Status == store.DeliverySucceeded
		})
	})
}
