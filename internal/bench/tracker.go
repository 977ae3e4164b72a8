package bench

import (
	"sync"
	"time"
)

// tracker matches deliveries to the API calls that committed their events,
// to measure commit-to-receipt latency.
//
// An event's time has second precision and the server does not say when it
// committed, so the commit time of an event is taken to be the moment the
// API call that caused it returned (the commit happens just before the
// answer is written). Each lifecycle step declares the (resource, type)
// events it causes; when the step returns, its return time is appended to
// the list of that (resource, type). A delivery of (resource, type) to an
// endpoint takes the next unused return time of that list for that
// endpoint. One (resource, type) recurs (porting.updated) but only within
// one lifecycle whose steps run one after another, so the n-th delivery of
// it belongs to the n-th step that caused it; should two be delivered out of
// order their latencies swap, which leaves the distribution unchanged. A
// delivery that arrives before its call has returned counts as latency 0
// (and is counted as early). Beside it the tracker measures what a user
// sees: from the moment the call was sent to the receipt (never negative,
// and no delivery counts as 0).
type tracker struct {
	endpoints int

	mu        sync.Mutex
	slots     map[string]*slot
	lat       []time.Duration
	sent      []time.Duration // request sent → receipt
	early     int64
	expected  int64 // events the calls caused
	matched   int64 // deliveries matched to a call
	dupes     int64 // deliveries of an event already delivered to the endpoint
	seen      []map[string]struct{}
	unmatched map[string]int // type → deliveries that matched no call (reported)
}

type slot struct {
	ends   []time.Time
	starts []time.Time   // when each call of ends was sent
	next   []int32       // per endpoint: the next end to consume
	early  [][]time.Time // per endpoint: receipts before their call returned
}

func newTracker(endpoints int) *tracker {
	t := &tracker{endpoints: endpoints, slots: map[string]*slot{}, unmatched: map[string]int{}}
	t.seen = make([]map[string]struct{}, endpoints)
	for i := range t.seen {
		t.seen[i] = map[string]struct{}{}
	}
	return t
}

func (t *tracker) slot(resource, typ string) *slot {
	key := resource + " " + typ
	s := t.slots[key]
	if s == nil {
		s = &slot{next: make([]int32, t.endpoints)}
		t.slots[key] = s
	}
	return s
}

// committed notes that a call sent at start that returned at end caused an
// event.
func (t *tracker) committed(resource, typ string, start, end time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expected++
	s := t.slot(resource, typ)
	s.ends = append(s.ends, end)
	s.starts = append(s.starts, start)
	if s.early == nil {
		return
	}
	for ep, pending := range s.early {
		if len(pending) == 0 {
			continue
		}
		s.early[ep] = pending[1:]
		s.next[ep]++
		t.lat = append(t.lat, max(pending[0].Sub(end), 0))
		t.sent = append(t.sent, max(pending[0].Sub(start), 0))
		t.early++
		t.matched++
	}
}

// receipt notes that endpoint ep received the event at.
func (t *tracker) receipt(ep int, eventID, resource, typ string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ep < 0 || ep >= t.endpoints {
		t.unmatched[typ]++
		return
	}
	if _, dup := t.seen[ep][eventID]; dup {
		t.dupes++
		return
	}
	t.seen[ep][eventID] = struct{}{}
	s := t.slot(resource, typ)
	if i := int(s.next[ep]); i < len(s.ends) {
		s.next[ep]++
		t.lat = append(t.lat, max(at.Sub(s.ends[i]), 0))
		t.sent = append(t.sent, max(at.Sub(s.starts[i]), 0))
		t.matched++
		return
	}
	if s.early == nil {
		s.early = make([][]time.Time, t.endpoints)
	}
	s.early[ep] = append(s.early[ep], at)
}

// trackerStats is what the tracker learned.
type trackerStats struct {
	Latency   []time.Duration
	FromSend  []time.Duration // request sent → receipt
	Expected  int64
	Matched   int64
	Early     int64
	Dupes     int64
	Unmatched map[string]int // by type: deliveries no call caused
}

func (t *tracker) stats() trackerStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := trackerStats{Latency: append([]time.Duration(nil), t.lat...), FromSend: append([]time.Duration(nil), t.sent...), Expected: t.expected, Matched: t.matched,
		Early: t.early, Dupes: t.dupes, Unmatched: map[string]int{}}
	for k, n := range t.unmatched {
		st.Unmatched[k] = n
	}
	for key, s := range t.slots {
		for _, e := range s.early {
			if len(e) > 0 {
				st.Unmatched[typeOf(key)] += len(e)
			}
		}
	}
	return st
}

func typeOf(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == ' ' {
			return key[i+1:]
		}
	}
	return key
}
