package mapping

import (
	"math/rand/v2"
	"testing"
)

// TestWeightDistribution: many draws from a seeded generator land on each
// destination about as often as its weight says (within 1.5 points over
// 200,000 draws: several standard deviations, so the test is stable).
func TestWeightDistribution(t *testing.T) {
	m, err := New("", []Entry{{Source: "s", Destinations: []Destination{
		{Subject: "a", Weight: 50},
		{Subject: "b", Weight: 30},
		{Subject: "c", Weight: 5},
		// the source takes the remaining 15
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		got, _ := m.Map("s", r.Uint32)
		counts[got]++
	}
	want := map[string]float64{"a": 50, "b": 30, "c": 5, "s": 15}
	for subj, pct := range want {
		got := 100 * float64(counts[subj]) / n
		if got < pct-1.5 || got > pct+1.5 {
			t.Errorf("%s: %.2f%% of draws; want about %.0f%%", subj, got, pct)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("unexpected destinations: %v", counts)
	}
}
