package cli

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestSampleRates(t *testing.T) {
	tests := []struct {
		name      string
		s         sample
		msgs, bps float64
	}{
		{"one second", sample{msgs: 1000, bytes: 16000, start: 0, end: time.Second}, 1000, 16000},
		{"half second", sample{msgs: 1000, bytes: 1000, start: time.Second, end: 1500 * time.Millisecond}, 2000, 2000},
		{"no interval", sample{msgs: 1, bytes: 10, start: 5, end: 5}, 0, 0},
		{"empty", sample{}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.msgsPerSec(); got != tc.msgs {
				t.Errorf("msgsPerSec = %v, want %v", got, tc.msgs)
			}
			if got := tc.s.bytesPerSec(); got != tc.bps {
				t.Errorf("bytesPerSec = %v, want %v", got, tc.bps)
			}
		})
	}
}

func TestTotal(t *testing.T) {
	tests := []struct {
		name    string
		samples []sample
		want    sample
	}{
		{"none", nil, sample{}},
		{"one", []sample{{msgs: 5, bytes: 50, start: 1, end: 9}}, sample{msgs: 5, bytes: 50, start: 1, end: 9}},
		{
			"span from earliest start to latest end",
			[]sample{{msgs: 10, bytes: 100, start: 2 * time.Second, end: 4 * time.Second}, {msgs: 30, bytes: 300, start: time.Second, end: 3 * time.Second}},
			sample{msgs: 40, bytes: 400, start: time.Second, end: 4 * time.Second},
		},
		{
			// A queue member that got nothing must not pull start back to 0.
			"empty client ignored for the interval",
			[]sample{{}, {msgs: 7, bytes: 7, start: 5 * time.Second, end: 6 * time.Second}},
			sample{msgs: 7, bytes: 7, start: 5 * time.Second, end: 6 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := total(tc.samples); got != tc.want {
				t.Errorf("total = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRateSummary(t *testing.T) {
	// Rates 100, 200, 300 msgs/s: mean 200, population stddev sqrt(20000/3).
	samples := []sample{
		{msgs: 100, end: time.Second},
		{msgs: 200, end: time.Second},
		{msgs: 300, end: time.Second},
	}
	got := rateSummary(samples)
	if got.min != 100 || got.max != 300 || got.avg != 200 {
		t.Errorf("summary = %+v", got)
	}
	if want := math.Sqrt(20000.0 / 3); math.Abs(got.stddev-want) > 1e-9 {
		t.Errorf("stddev = %v, want %v", got.stddev, want)
	}
	if z := rateSummary(nil); z != (rateStats{}) {
		t.Errorf("empty summary = %+v", z)
	}
	if one := rateSummary(samples[:1]); one.stddev != 0 || one.min != 100 || one.max != 100 {
		t.Errorf("single summary = %+v", one)
	}
}

func TestPercentile(t *testing.T) {
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		return s
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", seq(1), 50, 1},
		{"single p99.9", seq(1), 99.9, 1},
		{"p50 of 100", seq(100), 50, 50},
		{"p90 of 100", seq(100), 90, 90},
		{"p99 of 100", seq(100), 99, 99},
		{"p99.9 of 100 is the max", seq(100), 99.9, 100},
		{"p99.9 of 1000", seq(1000), 99.9, 999},
		{"p99.9 of 10000", seq(10000), 99.9, 9990},
		{"p50 of 2 is the lower", seq(2), 50, 1},
		{"p50 of 3", seq(3), 50, 2},
		{"p100", seq(7), 100, 7},
		{"p0 is the min", seq(7), 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeLatency(t *testing.T) {
	// 1..1000 µs, shuffled deterministically: the summary must sort.
	var samples []time.Duration
	for i := 0; i < 1000; i++ {
		samples = append(samples, time.Duration((i*617)%1000+1)*time.Microsecond)
	}
	got := summarizeLatency(samples)
	want := latencyStats{
		count: 1000,
		min:   1 * time.Microsecond,
		p50:   500 * time.Microsecond,
		p90:   900 * time.Microsecond,
		p99:   990 * time.Microsecond,
		p999:  999 * time.Microsecond,
		max:   1000 * time.Microsecond,
		avg:   500500 * time.Nanosecond,
	}
	if got != want {
		t.Errorf("summary = %+v\nwant      %+v", got, want)
	}
	if !slices.IsSorted(samples) {
		t.Error("samples not sorted in place")
	}
	if z := summarizeLatency(nil); z != (latencyStats{}) {
		t.Errorf("empty = %+v", z)
	}
}

func TestSplitCount(t *testing.T) {
	tests := []struct {
		n, clients int
		want       []int
	}{
		{10, 1, []int{10}},
		{10, 3, []int{4, 3, 3}},
		{2, 2, []int{1, 1}},
		{100000, 4, []int{25000, 25000, 25000, 25000}},
		{5, 0, nil},
	}
	for _, tc := range tests {
		if got := splitCount(tc.n, tc.clients); !slices.Equal(got, tc.want) {
			t.Errorf("splitCount(%d, %d) = %v, want %v", tc.n, tc.clients, got, tc.want)
		}
	}
}
