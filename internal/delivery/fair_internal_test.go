package delivery

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

func testFairness(workers, initial, threshold int) *fairness {
	cfg := Config{Workers: workers, EndpointConcurrency: initial, BreakerThreshold: threshold, BreakerCooldown: time.Minute}
	return newFairness(cfg, time.Now)
}

func jobFor(t *target, n int) *job {
	return &job{t: t, d: store.DeliveryRow{ID: t.id + "-" + string(rune('a'+n%26)), EndpointID: t.id}}
}

// TestFairnessRoundRobin: projects take turns, then each project's
// endpoints, whatever their backlogs.
func TestFairnessRoundRobin(t *testing.T) {
	f := testFairness(64, 64, 0)
	big1 := &target{id: "ep_big1", project: "big"}
	big2 := &target{id: "ep_big2", project: "big"}
	small := &target{id: "ep_small", project: "small"}
	for i := range 4 {
		f.push(jobFor(big1, i))
		f.push(jobFor(big2, i))
	}
	f.push(jobFor(small, 0))
	var order []string
	for range 4 {
		j, ok := f.next()
		if !ok {
			t.Fatal("no job")
		}
		order = append(order, j.t.id)
	}
	want := []string{"ep_big1", "ep_small", "ep_big2", "ep_big1"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

// TestFairnessLimits: an endpoint runs no more than its limit nor its fair
// share, holds at most twice that, and its limit halves on congestion (once
// per round) and grows on success.
func TestFairnessLimits(t *testing.T) {
	f := testFairness(12, 8, 0)
	a := &target{id: "ep_a", project: "p"}
	pushed := 0
	for i := range 40 {
		if ok, _ := f.push(jobFor(a, i)); ok {
			pushed++
		}
	}
	// One busy endpoint: its share is 12/(1+1) = 6, so it holds 12.
	if pushed != 12 {
		t.Fatalf("the lane took %d jobs, want 12 (twice its share)", pushed)
	}
	var running []*job
	for {
		f.mu.Lock()
		j := f.pick()
		f.mu.Unlock()
		if j == nil {
			break
		}
		running = append(running, j)
	}
	if len(running) != 6 {
		t.Fatalf("%d attempts at once, want the share, 6", len(running))
	}
	start := time.Now()
	timeout := &outcome{res: store.Result{Attempt: store.Attempt{StatusCode: 0}}}
	for _, j := range running {
		f.done(j, timeout, start)
	}
	st, _ := f.state("ep_a")
	if st.Limit != 4 {
		t.Fatalf("limit after a round of timeouts %v, want 8/2 = 4 (one cut per round)", st.Limit)
	}
	j, _ := f.next()
	f.done(j, &outcome{success: true}, time.Now())
	st, _ = f.state("ep_a")
	if st.Limit <= 4 {
		t.Fatalf("limit after a success %v, want more than 4", st.Limit)
	}
}

// TestFairnessBreaker: failures in a row open the breaker, dropping the
// queue; after the cool-down one probe runs at a time; a success closes it.
func TestFairnessBreaker(t *testing.T) {
	now := time.Now()
	f := testFairness(16, 4, 3)
	f.now = func() time.Time { return now }
	a := &target{id: "ep_a", project: "p"}
	for i := range 8 {
		f.push(jobFor(a, i))
	}
	fail := func() []*job {
		j, ok := f.next()
		if !ok {
			t.Fatal("no job")
		}
		dropped, _ := f.done(j, &outcome{res: store.Result{Attempt: store.Attempt{StatusCode: 400}}}, time.Now())
		return dropped
	}
	fail()
	fail()
	if dropped := fail(); len(dropped) != 5 {
		t.Fatalf("the breaker dropped %d queued jobs, want 5", len(dropped))
	}
	if ok, _ := f.push(jobFor(a, 9)); ok {
		t.Fatal("an open breaker took a job during its cool-down")
	}
	now = now.Add(2 * time.Minute)
	if ok, _ := f.push(jobFor(a, 10)); !ok {
		t.Fatal("the breaker took no probe after its cool-down")
	}
	if ok, _ := f.push(jobFor(a, 11)); ok {
		t.Fatal("the breaker took a second job beside its probe")
	}
	j, _ := f.next()
	f.done(j, &outcome{success: true}, time.Now())
	if st, _ := f.state("ep_a"); st.Open {
		t.Fatal("a successful probe left the breaker open")
	}
}
