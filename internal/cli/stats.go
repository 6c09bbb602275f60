package cli

import (
	"math"
	"slices"
	"time"
)

// This file holds the benchmark arithmetic and nothing else: no I/O, no
// clocks, so every number the bench prints can be checked by a unit test.

// sample is one client's measurement. Times are offsets from a single bench
// epoch taken with the monotonic clock, so samples from different
// goroutines compare exactly and wall-clock jumps cannot distort them.
type sample struct {
	msgs  int64         // messages counted between start and end
	bytes int64         // payload bytes of those messages
	start time.Duration // first message (publishers: just before the first publish)
	end   time.Duration // last message (publishers: after the final flush)
}

func (s sample) duration() time.Duration { return s.end - s.start }

// msgsPerSec is the message rate. A client that saw one message, or none,
// has no measurable interval: it reports 0 rather than infinity so the
// JSON stays valid and an average is not poisoned.
func (s sample) msgsPerSec() float64 { return perSec(s.msgs, s.duration()) }

// bytesPerSec is the payload throughput, 0 when there is no interval.
func (s sample) bytesPerSec() float64 { return perSec(s.bytes, s.duration()) }

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// total aggregates samples the way the classic nats bench does: counts are
// summed and the interval runs from the earliest start to the latest end,
// so the aggregate rate is what the clients achieved together, not the
// sum of their individual rates. A client that saw no message (a queue
// member the server never picked) has no interval and does not stretch it.
func total(samples []sample) sample {
	var t sample
	seen := false
	for _, s := range samples {
		t.msgs += s.msgs
		t.bytes += s.bytes
		if s.msgs == 0 {
			continue
		}
		if !seen || s.start < t.start {
			t.start = s.start
		}
		if !seen || s.end > t.end {
			t.end = s.end
		}
		seen = true
	}
	return t
}

// rateStats summarises the per-client message rates: min, mean, max and
// the population standard deviation (the clients are the whole population
// of this run, not a sample of a larger one).
type rateStats struct {
	min, avg, max, stddev float64
}

func rateSummary(samples []sample) rateStats {
	if len(samples) == 0 {
		return rateStats{}
	}
	var r rateStats
	sum := 0.0
	for i, s := range samples {
		v := s.msgsPerSec()
		if i == 0 || v < r.min {
			r.min = v
		}
		if i == 0 || v > r.max {
			r.max = v
		}
		sum += v
	}
	n := float64(len(samples))
	r.avg = sum / n
	sq := 0.0
	for _, s := range samples {
		d := s.msgsPerSec() - r.avg
		sq += d * d
	}
	r.stddev = math.Sqrt(sq / n)
	return r
}

// latencyStats are exact order statistics over every round trip measured.
type latencyStats struct {
	count                         int
	min, p50, p90, p99, p999, max time.Duration
	avg                           time.Duration
}

// summarizeLatency sorts samples in place and reads the percentiles from
// the sorted slice; no histogram buckets, so nothing is approximated.
func summarizeLatency(samples []time.Duration) latencyStats {
	if len(samples) == 0 {
		return latencyStats{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return latencyStats{
		count: len(samples),
		min:   samples[0],
		p50:   percentile(samples, 50),
		p90:   percentile(samples, 90),
		p99:   percentile(samples, 99),
		p999:  percentile(samples, 99.9),
		max:   samples[len(samples)-1],
		avg:   sum / time.Duration(len(samples)),
	}
}

// percentile returns the nearest-rank percentile of an ascending slice: the
// smallest value such that at least p percent of the samples are <= it.
// It is always one of the measured values, never an interpolation.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon absorbs float error such as 99.9/100*1000 = 999.0000000000001.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// splitCount divides n messages over clients as evenly as possible, the
// first n%clients clients taking one extra, as nats bench does.
func splitCount(n, clients int) []int {
	if clients <= 0 {
		return nil
	}
	counts := make([]int, clients)
	for i := range counts {
		counts[i] = n / clients
		if i < n%clients {
			counts[i]++
		}
	}
	return counts
}
