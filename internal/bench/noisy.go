package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The noisy scenario: NoisyEndpoints endpoints that hang (never answer: the
// dispatcher's timeout ends each attempt) or answer slowly (NoisyDelay),
// each with a backlog of NoisyBacklog deliveries queued before the
// measurement, and beside them the measured endpoint, receiving a steady
// rate of events (--rate, --duration). The figures (latency, rates) are the
// measured endpoint's: what a customer sees while another's endpoints are
// slow. The noisy endpoints belong to a project of their own, created with
// the operator key (in the measured project when the harness has no
// operator key, or with NoisySameProject); they receive user.created
// events only, so in the same project the steady load adds to their
// backlog as it runs.

// Noisy modes.
const (
	NoisyHang = "hang"
	NoisySlow = "slow"
)

// noisyReceiver is the noisy endpoints' server.
type noisyReceiver struct {
	srv   *http.Server
	ln    net.Listener
	hits  atomic.Int64
	done  chan struct{}
	close sync.Once
}

func startNoisy(mode string, delay time.Duration) (*noisyReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: noisy receiver: %w", err)
	}
	n := &noisyReceiver{ln: ln, done: make(chan struct{})}
	n.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.hits.Add(1)
		wait := make(<-chan time.Time) // hang: until the sender gives up
		if mode == NoisySlow {
			wait = time.After(delay)
		}
		select {
		case <-wait:
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		case <-n.done:
		}
	})}
	go n.srv.Serve(ln)
	return n, nil
}

func (n *noisyReceiver) url(i int) string { return fmt.Sprintf("http://%s/noisy/%d", n.ln.Addr(), i) }

func (n *noisyReceiver) Close() {
	n.close.Do(func() {
		close(n.done)
		n.srv.Close()
	})
}

// noisySetup creates the noisy endpoints and queues their backlog (users
// created through the API, one user.created each, as fast as the workers
// go), before the measured endpoint exists.
func (r *runner) noisySetup(ctx context.Context) (*noisyReceiver, error) {
	o := &r.opts
	api, project := r.api, o.Project
	if !o.NoisySameProject && r.srv.adminKey != "" {
		project = "noisy-" + randomTag()
		api = newAPIClient(r.srv.urls, r.srv.adminKey, project, o.Workers+8)
		body := fmt.Appendf(nil, `{"id":%q,"name":"bench noisy neighbours","mode":"test"}`, project)
		if _, _, err := api.call(ctx, 0, "POST", "/projects", body, 201); err != nil {
			return nil, fmt.Errorf("bench: create the noisy project: %w", err)
		}
	}
	r.res.NoisyProject = project
	nr, err := startNoisy(o.NoisyMode, o.NoisyDelay)
	if err != nil {
		return nil, err
	}
	for i := range o.NoisyEndpoints {
		body := fmt.Appendf(nil, `{"url":%q,"enabledEvents":["com.gigs.user.created"],"description":"bench noisy endpoint %d"}`,
			nr.url(i), i)
		b, _, err := api.call(ctx, 0, "POST", "/projects/"+project+"/webhookEndpoints", body, 201)
		if err != nil {
			nr.Close()
			return nil, err
		}
		var ep struct{ ID string }
		if err := jsonUnmarshal(b, &ep); err != nil {
			nr.Close()
			return nil, fmt.Errorf("bench: noisy endpoint answer: %.200s", b)
		}
		if project == o.Project {
			r.endpointIDs = append(r.endpointIDs, ep.ID)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	tag := randomTag()
	for w := range o.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(o.NoisyBacklog) {
					return
				}
				body := fmt.Appendf(nil, `{"email":"noisy-%s-%d@example.com","fullName":"Noisy %d"}`, tag, i, i)
				if _, _, err := api.call(ctx, w, "POST", "/projects/"+project+"/users", body, 201); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		nr.Close()
		return nil, firstErr
	}
	r.res.NoisyEndpoints, r.res.NoisyBacklog, r.res.NoisyMode = o.NoisyEndpoints, o.NoisyBacklog, o.NoisyMode
	return nr, nil
}
