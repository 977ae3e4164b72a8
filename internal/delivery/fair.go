package delivery

import (
	"math"
	"sync"
	"time"
)

// Isolation: the workers are shared fairly, and each endpoint uses only its
// own share of them.
//
// Claimed and handed-over jobs wait in a lane per endpoint. Workers take
// them round-robin: across projects first, then across the project's
// endpoints, so a project with many endpoints does not crowd out one with
// few. An endpoint runs at most its limit of attempts at once:
//
//   - the limit adapts (AIMD): +1/limit for each success, halved on a
//     timeout, a connection error, a 429 or a 5xx — once per round of
//     attempts, for attempts started after the previous decrease;
//   - it never exceeds the endpoint's fair share of the workers,
//     workers/(busy endpoints + 1): the "+1" keeps a share free for an
//     endpoint that has nothing in flight now, so a delivery to a quiet
//     endpoint finds a worker at once however busy the others are;
//   - an endpoint whose attempts failed breakerThreshold times in a row
//     trips its circuit breaker: its queued deliveries are released and
//     deferred (in the store, so that no claim takes them meanwhile) for a
//     cool-down, after which one probe goes out; a success closes the
//     breaker, a failure opens it again for twice as long (up to 32×).
//
// A lane also holds at most twice its limit (claimed or handed over and not
// yet done); the claim skips full lanes, and what comes beyond is released
// at once, so that a slow endpoint's backlog never fills the dispatcher's
// room for the others.

// lane is one endpoint's share of the dispatcher.
type lane struct {
	id, project string
	queue       []*job
	active      int
	limit       float64   // AIMD concurrency limit
	cut         time.Time // wall time of the last decrease
	failures    int       // consecutive failed attempts
	// The breaker: open until openUntil (platform time); probing while the
	// one attempt after a cool-down is out.
	open      bool
	openUntil time.Time
	probing   bool
	cooldown  time.Duration
	listed    bool // in its project's ring (it has queued jobs)
	// latency is a moving average of the attempts' latency; zero before
	// the first.
	latency time.Duration
	used    time.Time // wall time of the last push or done
}

// fastLatency is the moving average of attempt latency below which an
// endpoint that is not failing counts as fast: its lane may hold as many
// jobs as the dispatcher has room for, since they leave it quickly.
const fastLatency = 100 * time.Millisecond

// idleLane is how long a healthy lane with nothing held is remembered.
const idleLane = time.Minute

// held is how many jobs the lane holds: queued and in flight.
func (l *lane) held() int { return len(l.queue) + l.active }

// projectRing is a project's lanes that have queued jobs, served in turn.
type projectRing struct {
	id     string
	lanes  []*lane
	next   int
	listed bool
}

// fairness is the dispatcher's scheduler of jobs to workers.
type fairness struct {
	mu        sync.Mutex
	cond      *sync.Cond
	closed    bool
	workers   int
	room      int // the dispatcher's room: the most it holds
	initial   float64
	threshold int           // consecutive failures that open the breaker; 0: never
	cooldown  time.Duration // the breaker's first cool-down
	now       func() time.Time

	lanes    map[string]*lane
	projects map[string]*projectRing
	ring     []*projectRing // projects with queued jobs
	turn     int
	busy     int // lanes holding jobs
	queued   int
}

func newFairness(cfg Config, now func() time.Time) *fairness {
	f := &fairness{
		workers: cfg.Workers, room: max(2*cfg.Workers, cfg.BatchSize), initial: float64(cfg.EndpointConcurrency), threshold: cfg.BreakerThreshold,
		cooldown: cfg.BreakerCooldown, now: now,
		lanes: map[string]*lane{}, projects: map[string]*projectRing{},
	}
	if f.threshold < 0 {
		f.threshold = 0
	}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// lane returns the endpoint's lane, made on first use.
func (f *fairness) lane(t *target) *lane {
	l := f.lanes[t.id]
	if l == nil {
		l = &lane{id: t.id, project: t.project, limit: f.initial, cooldown: f.cooldown}
		f.lanes[t.id] = l
	}
	return l
}

// share is the most any one endpoint may run at once now.
func (f *fairness) share() int {
	return max(1, f.workers/(f.busy+1))
}

// limitOf is how many attempts the lane may run at once.
func (f *fairness) limitOf(l *lane) int {
	if l.open {
		return 1 // the probe
	}
	return max(1, min(int(l.limit), f.share()))
}

// capOf is how many jobs the lane may hold: twice its limit, or, for a
// fast endpoint that is not failing, as many as the dispatcher holds.
func (f *fairness) capOf(l *lane) int {
	switch {
	case l.open:
		return 1
	case l.failures == 0 && l.latency > 0 && l.latency < fastLatency:
		return f.room
	}
	return 2 * f.limitOf(l)
}

// push queues a job on its endpoint's lane. It returns false, queuing
// nothing, when the lane is full or its breaker is open and not due for a
// probe; the caller releases the job, due again at next.
func (f *fairness) push(j *job) (ok bool, next time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lane(j.t)
	l.used = time.Now()
	if l.open {
		if l.probing || f.now().Before(l.openUntil) || l.held() > 0 {
			return false, later(j.d.NextAttemptAt, l.openUntil)
		}
	} else if l.held() >= f.capOf(l) && !f.closed {
		return false, j.d.NextAttemptAt
	}
	if l.held() == 0 {
		f.busy++
	}
	l.queue = append(l.queue, j)
	f.queued++
	f.list(l)
	f.cond.Signal()
	return true, time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// list puts the lane, and its project, in the rings.
func (f *fairness) list(l *lane) {
	if l.listed {
		return
	}
	p := f.projects[l.project]
	if p == nil {
		p = &projectRing{id: l.project}
		f.projects[l.project] = p
	}
	l.listed = true
	p.lanes = append(p.lanes, l)
	if !p.listed {
		p.listed = true
		f.ring = append(f.ring, p)
	}
}

// next blocks until a job may run and returns it, counted active on its
// lane; false once the dispatcher stops and nothing is queued. When
// stopping it hands out every queued job, whatever the limits (the worker
// releases them).
func (f *fairness) next() (*job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if j := f.pick(); j != nil {
			return j, true
		}
		if f.closed && f.queued == 0 {
			return nil, false
		}
		f.cond.Wait()
	}
}

// pick takes the next runnable job, round-robin over projects and then
// over each project's lanes, or returns nil.
func (f *fairness) pick() *job {
	for range len(f.ring) {
		if f.turn >= len(f.ring) {
			f.turn = 0
		}
		p := f.ring[f.turn]
		f.turn++
		for range len(p.lanes) {
			if p.next >= len(p.lanes) {
				p.next = 0
			}
			l := p.lanes[p.next]
			p.next++
			if len(l.queue) == 0 || (!f.closed && l.active >= f.limitOf(l)) {
				continue
			}
			j := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			f.queued--
			l.active++
			if l.open {
				l.probing = true
			}
			if len(l.queue) == 0 {
				f.unlist(l)
			}
			if f.queued > 0 {
				f.cond.Signal() // another job may be runnable: pass the wake on
			}
			return j
		}
	}
	return nil
}

// unlist takes a lane with an empty queue out of its project's ring, and
// the project out of the ring when it has no lane left.
func (f *fairness) unlist(l *lane) {
	p := f.projects[l.project]
	l.listed = false
	for i, x := range p.lanes {
		if x == l {
			p.lanes = append(p.lanes[:i], p.lanes[i+1:]...)
			if p.next > i {
				p.next--
			}
			break
		}
	}
	if len(p.lanes) > 0 {
		return
	}
	p.listed = false
	for i, x := range f.ring {
		if x == p {
			f.ring = append(f.ring[:i], f.ring[i+1:]...)
			if f.turn > i {
				f.turn--
			}
			break
		}
	}
	delete(f.projects, p.id)
}

// verdict classifies an outcome for the lane.
type verdict int

const (
	verdictNone      verdict = iota // released: no attempt
	verdictSuccess                  // a 2xx
	verdictFailure                  // a failure that says nothing of load (a 4xx)
	verdictCongested                // a timeout, connection error, 429 or 5xx
)

func classify(o *outcome) verdict {
	switch {
	case o.release:
		return verdictNone
	case o.success:
		return verdictSuccess
	case o.res.Attempt.StatusCode == 0, o.res.Attempt.StatusCode == 429, o.res.Attempt.StatusCode >= 500:
		return verdictCongested
	}
	return verdictFailure
}

// done ends a job's turn on its lane: it adapts the limit and the breaker
// to the outcome, and returns the queued jobs to release (the breaker
// opened: they are due again when it lets a probe through). When the
// breaker opens it sets o.defer_, so that recording the outcome defers the
// endpoint's other deliveries in the store too.
func (f *fairness) done(j *job, o *outcome, started time.Time) (dropped []*job, next time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The lane may run one more; a worker that takes a job passes the
	// wake on while jobs remain (pick), so one wake suffices.
	defer f.cond.Signal()
	l := f.lanes[j.t.id]
	l.active--
	l.used = time.Now()
	v := classify(o)
	if v != verdictNone {
		took := time.Since(started)
		if l.latency == 0 {
			l.latency = took
		} else {
			l.latency = (4*l.latency + took) / 5
		}
	}
	wasProbe := l.probing
	l.probing = false // a probe released before its attempt lets another go
	switch v {
	case verdictSuccess:
		l.failures = 0
		if l.open {
			l.open, l.cooldown, l.limit = false, f.cooldown, f.initial
		}
		if l.limit < float64(f.workers) {
			l.limit += 1 / l.limit
		}
	case verdictFailure, verdictCongested:
		l.failures++
		if v == verdictCongested && started.After(l.cut) {
			l.limit = math.Max(1, l.limit/2)
			l.cut = time.Now()
		}
		trip := f.threshold > 0 && ((l.open && wasProbe) || (!l.open && l.failures >= f.threshold))
		if trip {
			if l.open {
				l.cooldown = min(2*l.cooldown, 32*f.cooldown)
			}
			l.open = true
			l.openUntil = f.now().Add(l.cooldown)
			o.defer_ = later(o.defer_, l.openUntil)
			dropped = l.queue
			f.queued -= len(dropped)
			l.queue = nil
			if l.listed {
				f.unlist(l)
			}
			next = l.openUntil
		}
	}
	if l.held() == 0 {
		f.busy--
	}
	return dropped, next
}

// claimable returns the endpoints whose lanes can take no more jobs (the
// claim skips them) and how many jobs the others can take, a new lane's
// worth included for endpoints the dispatcher holds nothing of: a claim for
// more would only release the excess.
func (f *fairness) claimable() (skip []string, room int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// An open breaker's deliveries are deferred in the store; one that is
	// due nonetheless (the endpoint was enabled again, or its handoff was
	// refused) is claimed, so that its endpoint is looked at again, and
	// released if the breaker still holds.
	wall := time.Now()
	for id, l := range f.lanes {
		if l.held() == 0 && !l.open && l.failures == 0 && wall.Sub(l.used) > idleLane {
			delete(f.lanes, id) // idle and healthy: nothing worth remembering
			continue
		}
		c := f.capOf(l)
		if l.held() >= c {
			skip = append(skip, id)
			continue
		}
		room += c - l.held()
	}
	return skip, room + 2*max(1, min(int(f.initial), f.share()))
}

// reset forgets what the lane learned of the endpoint's health — its
// limit, failures and breaker — when the endpoint changes (its URL, its
// status: a user who enables it again, or points it elsewhere, wants it
// tried at once).
func (f *fairness) reset(endpointID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lanes[endpointID]
	if l == nil {
		return
	}
	l.open, l.probing, l.failures, l.cooldown, l.limit, l.latency = false, false, 0, f.cooldown, f.initial, 0
}

// openBreakers counts the lanes whose breaker is open.
func (f *fairness) openBreakers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.lanes {
		if l.open {
			n++
		}
	}
	return n
}

// close lets next hand out what is queued and then report the end.
func (f *fairness) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cond.Broadcast()
}

// laneState is a lane as the metrics and tests see it.
type laneState struct {
	Limit    float64
	Active   int
	Queued   int
	Open     bool
	Failures int
}

func (f *fairness) state(endpointID string) (laneState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lanes[endpointID]
	if l == nil {
		return laneState{}, false
	}
	return laneState{Limit: l.limit, Active: l.active, Queued: len(l.queue), Open: l.open, Failures: l.failures}, true
}
