package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func randInt(n int) int { return rand.IntN(n) }

// startClock marks the start of the measured calls, once.
func (r *runner) startClock() {
	if r.apiStart.IsZero() {
		r.apiStart = time.Now()
	}
}

// wanted is how many deliveries the calls so far should cause.
func (r *runner) wanted() int64 {
	r.trk.mu.Lock()
	defer r.trk.mu.Unlock()
	return r.trk.expected * int64(r.opts.Endpoints)
}

func (r *runner) matched() int64 {
	r.trk.mu.Lock()
	defer r.trk.mu.Unlock()
	return r.trk.matched
}

// waitDelivered waits until every delivery the calls caused has arrived,
// at most timeout.
func (r *runner) waitDelivered(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.matched() >= r.wanted() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.matched() < r.wanted() {
		r.opts.Log.Warn("bench: not every delivery arrived in time", "wanted", r.wanted(), "matched", r.matched(),
			"timeout", timeout.String())
	}
}

// drain builds a backlog of deliveries while the receiver answers 503 with
// Retry-After (the dispatcher defers the endpoint's deliveries by then, up
// to an hour), then brings the receiver up, disables every endpoint (which
// pauses its deliveries) and enables them again (which makes the paused
// deliveries due at once), and measures how fast the backlog drains.
// Webhook delivery runs on the server's wall clock, which no test clock
// moves, so the API's way to end a deferral early is this.
func (r *runner) drain(ctx context.Context, lifecycles int) error {
	if err := r.drive(ctx, lifecycles, time.Time{}, nil); err != nil {
		return err
	}
	want := r.wanted()
	deadline := time.Now().Add(r.opts.DrainTimeout)
	var backlog int64
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if backlog = r.srv.backlog(ctx); backlog >= want {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.res.DrainBacklog = backlog
	// Let the dispatcher finish claiming and releasing what the last calls
	// queued, so that nothing is in flight when the receiver comes up.
	time.Sleep(time.Second)
	before := r.rcv.Received()
	r.rcv.SetFailing(false)
	due, err := r.resumeEndpoints(ctx)
	if err != nil {
		return err
	}
	r.waitDelivered(ctx, r.opts.DrainTimeout)
	last := time.Unix(0, r.rcv.last.Load())
	n := r.rcv.Received() - before
	if d := last.Sub(due); d > 0 && n > 0 {
		r.res.DrainSec = d.Seconds()
		r.res.DeliveriesPerSec = float64(n) / d.Seconds()
		r.res.EventsPerSec = r.res.DeliveriesPerSec / float64(r.opts.Endpoints)
	}
	return nil
}

// resumeEndpoints disables every endpoint, then enables them again, and
// returns when the first was enabled: from then on the backlog is due.
func (r *runner) resumeEndpoints(ctx context.Context) (time.Time, error) {
	var due time.Time
	for _, status := range []string{"disabled", "enabled"} {
		body := fmt.Appendf(nil, `{"status":%q}`, status)
		for _, id := range r.endpointIDs {
			start := time.Now()
			if _, _, err := r.api.call(ctx, 0, "PATCH", "/projects/"+r.opts.Project+"/webhookEndpoints/"+id, body, 200); err != nil {
				return time.Time{}, err
			}
			if due.IsZero() && status == "enabled" {
				due = start
			}
		}
	}
	return due, nil
}

// finish waits for the deliveries and fills in the result.
func (r *runner) finish(ctx context.Context) {
	o, res := &r.opts, r.res
	if r.apiDone.IsZero() {
		r.apiDone = time.Now()
	}
	if o.Scenario != Drain {
		r.waitDelivered(ctx, o.DrainTimeout)
	}
	if pg := r.srv.pgCPU(ctx); pg != nil {
		for pid, cpu := range pg {
			res.PGCPUSeconds += cpu - r.pgStart[pid]
		}
		res.PGBackends = len(pg)
	}
	u := r.srv.usage()
	res.PeakRSS, res.CPUSeconds, res.Processes = u.peakRSS, u.cpu.Seconds(), u.perProc
	var ru syscall.Rusage
	if r.srv.inproc == nil && syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.HarnessCPUSeconds = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	// A delivery is recorded just after the receiver answers: give the
	// dispatcher a moment to record the last ones.
	bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	for i := 0; i < 20; i++ {
		if res.Backlog = r.srv.backlog(bctx); res.Backlog <= 0 || o.Scenario == Drain && r.matched() < r.wanted() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()

	res.Lifecycles, res.LifecyclesFailed = int(r.lifecycles.Load()), r.failed.Load()
	res.APIRequests, res.APIErrors = r.api.calls.Load(), r.api.errs.Load()
	res.APIFirstError = r.api.errMsg
	api := Summarize(r.api.lat.take())
	res.APIP50, res.APIP99 = ms(api.P50), ms(api.P99)
	if r.apiStart.IsZero() {
		return
	}
	apiSec := r.apiDone.Sub(r.apiStart).Seconds()
	res.APISec = apiSec
	res.APIRequestsPerSec = float64(res.APIRequests) / apiSec

	st := r.trk.stats()
	res.Events = st.Expected
	res.CommittedPerSec = float64(st.Expected) / apiSec
	res.Deliveries = r.rcv.Received()
	res.BeforeAnswer, res.Duplicates = st.Early, st.Dupes
	res.Missing = st.Expected*int64(o.Endpoints) - st.Matched
	res.Verified, res.BadSignatures = r.rcv.verified.Load(), r.rcv.badSig.Load()
	if len(st.Unmatched) > 0 {
		res.Unmatched = st.Unmatched
	}
	end := r.apiDone
	if last := time.Unix(0, r.rcv.last.Load()); last.After(end) {
		end = last
	}
	res.DurationSec = end.Sub(r.apiStart).Seconds()
	if o.Scenario != Drain {
		lat := Summarize(st.Latency)
		res.LatencyP50, res.LatencyP95, res.LatencyP99, res.LatencyMax = ms(lat.P50), ms(lat.P95), ms(lat.P99), ms(lat.Max)
		sent := Summarize(st.FromSend)
		res.SendLatencyP50, res.SendLatencyP99, res.SendLatencyMax = ms(sent.P50), ms(sent.P99), ms(sent.Max)
		if st.Expected > 0 {
			res.CPUPerEventMs = (res.CPUSeconds + res.PGCPUSeconds) * 1000 / float64(st.Expected)
		}
		delivered := float64(st.Matched) / float64(o.Endpoints) // events delivered to every endpoint
		res.EventsPerSec = delivered / res.DurationSec
		res.DeliveriesPerSec = float64(res.Deliveries) / res.DurationSec
	}
}

// progress prints a line every second until the returned function is
// called.
func (r *runner) progress(ctx context.Context) func() {
	w := r.opts.Progress
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		var lastCalls, lastDel int64
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			calls, del := r.api.calls.Load(), r.rcv.Received()
			refused := r.rcv.refused.Load()
			fmt.Fprintf(w, "[%4.0fs] lifecycles %6d  api %7d (%5d/s)  events %7d  deliveries %8d (%6d/s)  undelivered %7d  refused %6d  server rss %4d MB\n",
				time.Since(start).Seconds(), r.lifecycles.Load(), calls, calls-lastCalls, r.wanted()/int64(r.opts.Endpoints),
				del, del-lastDel, r.wanted()-r.matched(), refused, r.srv.currentRSS()>>20)
			lastCalls, lastDel = calls, del
		}
	}()
	return func() { close(done); <-stopped }
}
