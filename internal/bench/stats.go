package bench

import (
	"slices"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method; 0 when sorted is empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(p/100*float64(len(sorted)) + 0.9999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Summary is the distribution of a set of durations.
type Summary struct {
	// Count is how many durations there were.
	Count int
	// P50, P95 and P99 are nearest-rank percentiles; Max the largest.
	P50, P95, P99, Max time.Duration
	// Mean is the arithmetic mean.
	Mean time.Duration
}

// Summarize sorts ds in place and summarizes them.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Summary{
		Count: len(ds), P50: Percentile(ds, 50), P95: Percentile(ds, 95), P99: Percentile(ds, 99),
		Max: ds[len(ds)-1], Mean: sum / time.Duration(len(ds)),
	}
}

// samples collects durations from many goroutines.
type samples struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
}

func (s *samples) addAll(ds []time.Duration) {
	s.mu.Lock()
	s.ds = append(s.ds, ds...)
	s.mu.Unlock()
}

// take returns the samples collected so far and forgets them.
func (s *samples) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.ds
	s.ds = nil
	return ds
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
