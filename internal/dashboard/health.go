package dashboard

import (
	"fmt"
	"slices"
	"time"
)

// measure sums up an endpoint's recent deliveries: success rate and latency
// over their attempts, the pending ones, the last failure and the chart.
func measure(ds []delivery, partial bool) health {
	h := health{Deliveries: len(ds), Partial: partial, SuccessRate: "–", P50: "–", P99: "–"}
	var latencies []int64
	var attempts []attempt
	for _, d := range ds {
		if d.Status == "pending" {
			h.QueueDepth++
		}
		for _, a := range d.Attempts {
			attempts = append(attempts, a)
			latencies = append(latencies, a.LatencyMs)
			if a.OK() {
				h.Succeeded++
				continue
			}
			if h.LastErrorAt == nil || a.AttemptedAt.After(*h.LastErrorAt) {
				at := a.AttemptedAt
				h.LastErrorAt, h.LastError = &at, attemptProblem(a)
			}
		}
	}
	h.Attempts = len(attempts)
	if h.Attempts > 0 {
		h.SuccessRate = fmt.Sprintf("%.1f%%", 100*float64(h.Succeeded)/float64(h.Attempts))
		slices.Sort(latencies)
		h.P50 = fmt.Sprintf("%d ms", percentile(latencies, 50))
		h.P99 = fmt.Sprintf("%d ms", percentile(latencies, 99))
	}
	h.Chart = newChart(attempts)
	return h
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []int64, p int) int64 {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// attemptProblem says what went wrong in a failed attempt.
func attemptProblem(a attempt) string {
	switch {
	case a.Error != nil && *a.Error != "":
		return *a.Error
	case a.ResponseStatus != nil:
		msg := fmt.Sprintf("HTTP %d", *a.ResponseStatus)
		if a.ResponseBody != nil && *a.ResponseBody != "" {
			body := *a.ResponseBody
			if len(body) > 200 {
				body = body[:200] + "…"
			}
			msg += ": " + body
		}
		return msg
	}
	return "failed"
}

// chart is an SVG bar chart of attempts over time: succeeded and failed,
// stacked, in equal time buckets.
type chart struct {
	Width, Height, Top, Bottom, Left float64
	Bars                             []bar
	Max                              int
	From, To                         time.Time
	Empty                            bool
}

// bar is one bucket: its place and the heights of its two parts.
type bar struct {
	X, W             float64
	OKY, OKH         float64
	FailY, FailH     float64
	OK, Failed       int
	FromTime, ToTime time.Time
}

const chartBuckets = 24

func newChart(attempts []attempt) chart {
	c := chart{Width: 720, Height: 200, Top: 10, Bottom: 30, Left: 40}
	if len(attempts) == 0 {
		c.Empty = true
		return c
	}
	from, to := attempts[0].AttemptedAt, attempts[0].AttemptedAt
	for _, a := range attempts {
		if a.AttemptedAt.Before(from) {
			from = a.AttemptedAt
		}
		if a.AttemptedAt.After(to) {
			to = a.AttemptedAt
		}
	}
	span := to.Sub(from)
	if span < time.Minute {
		span = time.Minute
	}
	step := span / chartBuckets
	span = step * chartBuckets
	to = from.Add(span)
	c.From, c.To = from, to
	oks, fails := make([]int, chartBuckets), make([]int, chartBuckets)
	for _, a := range attempts {
		i := min(int(a.AttemptedAt.Sub(from)/step), chartBuckets-1)
		if a.OK() {
			oks[i]++
		} else {
			fails[i]++
		}
	}
	for i := range chartBuckets {
		c.Max = max(c.Max, oks[i]+fails[i])
	}
	plotW, plotH := c.Width-c.Left-10, c.Height-c.Top-c.Bottom
	w := plotW / chartBuckets
	for i := range chartBuckets {
		okH := plotH * float64(oks[i]) / float64(c.Max)
		failH := plotH * float64(fails[i]) / float64(c.Max)
		base := c.Top + plotH
		c.Bars = append(c.Bars, bar{
			X: c.Left + float64(i)*w + 1, W: w - 2,
			OKY: base - okH, OKH: okH, FailY: base - okH - failH, FailH: failH,
			OK: oks[i], Failed: fails[i],
			FromTime: from.Add(time.Duration(i) * step), ToTime: from.Add(time.Duration(i+1) * step),
		})
	}
	return c
}
