package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Outcomes of a recorded attempt, as the deliveries metric labels them.
const (
	outcomeSucceeded = "succeeded"
	outcomeRetrying  = "retrying"
	outcomeFailed    = "failed"
	outcomeReleased  = "released"
)

// metrics are the dispatcher's Prometheus metrics.
type metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	// endpoints are the endpoints attempts has series of.
	emu       sync.Mutex
	endpoints map[string]bool
	latency   prometheus.Histogram
	taken     *prometheus.CounterVec // by how: claimed or handed over
}

// How the dispatcher came to hold deliveries, as the taken metric labels it.
const (
	takenClaimed = "claimed"
	takenHanded  = "handed_over"
)

func newMetrics(reg prometheus.Registerer, d *Dispatcher) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "webhook", Name: "deliveries_total",
			Help: "Delivery attempts recorded, by outcome: succeeded, retrying (failed, to be retried), failed (retries exhausted), released (given back unattempted).",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "webhook", Name: "endpoint_attempts_total",
			Help: "Delivery attempts recorded per endpoint, by result: success or failure.",
		}, []string{"endpoint", "result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "switchboard", Subsystem: "webhook", Name: "attempt_duration_seconds",
			Help:    "How long endpoints took to answer delivery attempts.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		taken: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "webhook", Name: "deliveries_taken_total",
			Help: "Deliveries this process took to attempt, by how: claimed from the queue, or handed_over by the transaction that queued them.",
		}, []string{"how"}),
	}
	m.taken.WithLabelValues(takenClaimed)
	m.taken.WithLabelValues(takenHanded)
	for _, o := range []string{outcomeSucceeded, outcomeRetrying, outcomeFailed, outcomeReleased} {
		m.deliveries.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, &pruned{vec: m.attempts, d: d}, m.latency, m.taken,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "switchboard", Subsystem: "webhook", Name: "in_flight",
				Help: "Deliveries claimed by this process and not yet recorded.",
			}, func() float64 { return float64(d.InFlight()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "switchboard", Subsystem: "webhook", Name: "breakers_open",
				Help: "Endpoints whose circuit breaker is open: probed one request at a time.",
			}, func() float64 { return float64(d.fair.openBreakers()) }),
			&queueCollector{store: d.store, clock: d.clock.Now})
	}
	return m
}

// recorded counts the outcomes of a committed batch.
func (m *metrics) recorded(batch []*outcome, applied []bool) {
	for i, o := range batch {
		if !applied[i] {
			continue
		}
		if o.release {
			m.deliveries.WithLabelValues(outcomeReleased).Inc()
			continue
		}
		outcome, result := outcomeRetrying, "failure"
		switch {
		case o.success:
			outcome, result = outcomeSucceeded, "success"
		case o.res.Status == store.DeliveryFailed:
			outcome = outcomeFailed
		}
		m.deliveries.WithLabelValues(outcome).Inc()
		m.attempts.WithLabelValues(o.j.t.id, result).Inc()
		m.seen(o.j.t.id)
		m.latency.Observe(o.res.Attempt.Latency.Seconds())
	}
}

// queueCollector reports the pending queue from the database when scraped,
// so that every process reports the same shared queue.
type queueCollector struct {
	store *store.Store
	clock func() time.Time
}

var (
	queueDepthDesc = prometheus.NewDesc("switchboard_webhook_queue_depth",
		"Pending deliveries, paused ones included, per endpoint.", []string{"endpoint"}, nil)
	queueAgeDesc = prometheus.NewDesc("switchboard_webhook_oldest_pending_age_seconds",
		"Age of the oldest pending delivery, per endpoint.", []string{"endpoint"}, nil)
	queueTotalDesc = prometheus.NewDesc("switchboard_webhook_pending",
		"Pending deliveries of all endpoints.", nil, nil)
	queueOldestDesc = prometheus.NewDesc("switchboard_webhook_pending_oldest_age_seconds",
		"Age of the oldest pending delivery of all endpoints.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueAgeDesc
	ch <- queueTotalDesc
	ch <- queueOldestDesc
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var stats []store.QueueStat
	err := c.store.View(ctx, func(tx *store.Tx) error {
		var err error
		stats, err = tx.QueueStats(ctx)
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueTotalDesc, err)
		return
	}
	now := c.clock()
	var total int64
	var oldest float64
	for _, s := range stats {
		age := max(now.Sub(s.Oldest).Seconds(), 0)
		total += s.Pending
		oldest = max(oldest, age)
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(s.Pending), s.EndpointID)
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, age, s.EndpointID)
	}
	ch <- prometheus.MustNewConstMetric(queueTotalDesc, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, oldest)
}

// seen notes that attempts has series of the endpoint.
func (m *metrics) seen(endpointID string) {
	m.emu.Lock()
	defer m.emu.Unlock()
	if m.endpoints == nil {
		m.endpoints = map[string]bool{}
	}
	m.endpoints[endpointID] = true
}

// pruned collects the per-endpoint attempt counters without the series of
// endpoints deleted since (by any process): at each scrape it asks the
// store which of the endpoints it has series of still exist, and forgets
// the others, their compiled targets included.
type pruned struct {
	vec *prometheus.CounterVec
	d   *Dispatcher
}

// Describe implements prometheus.Collector.
func (p *pruned) Describe(ch chan<- *prometheus.Desc) { p.vec.Describe(ch) }

// Collect implements prometheus.Collector.
func (p *pruned) Collect(ch chan<- prometheus.Metric) {
	p.d.pruneDeleted(context.Background())
	p.vec.Collect(ch)
}

// pruneDeleted forgets the metric series and compiled targets of endpoints
// that no longer exist.
func (d *Dispatcher) pruneDeleted(ctx context.Context) {
	m := d.m
	m.emu.Lock()
	ids := make([]string, 0, len(m.endpoints))
	for id := range m.endpoints {
		ids = append(ids, id)
	}
	m.emu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var bodies map[string][]byte
	err := d.store.View(ctx, func(tx *store.Tx) (err error) {
		bodies, err = tx.Bodies(ctx, endpoint.Kind, ids)
		return err
	})
	if err != nil {
		return // keep them until the store answers
	}
	for _, id := range ids {
		if bodies[id] != nil {
			continue
		}
		m.attempts.DeletePartialMatch(prometheus.Labels{"endpoint": id})
		m.emu.Lock()
		delete(m.endpoints, id)
		m.emu.Unlock()
		d.mu.Lock()
		delete(d.targets, id)
		d.mu.Unlock()
	}
}
