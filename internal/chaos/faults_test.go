package chaos

import (
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	const n = 100
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		f      Faults
		d      Direction
		want   Verdict
		random bool // Pass is drawn: only its range is checked
	}{
		{name: "healthy", f: Faults{}, d: ToTarget, want: Verdict{Pass: n}},
		{name: "cut", f: Faults{Cut: true, DropProb: 1}, d: FromTarget, want: Verdict{Close: true}},
		{name: "blackhole this way", f: Faults{Blackhole: [2]bool{true, false}}, d: ToTarget, want: Verdict{}},
		{name: "blackhole the other way", f: Faults{Blackhole: [2]bool{true, false}}, d: FromTarget, want: Verdict{Pass: n}},
		{name: "delay this way", f: Faults{Delay: [2]time.Duration{0, 5 * ms}}, d: FromTarget, want: Verdict{Pass: n, Delay: 5 * ms}},
		{name: "delay the other way", f: Faults{Delay: [2]time.Duration{0, 5 * ms}}, d: ToTarget, want: Verdict{Pass: n}},
		{name: "certain drop", f: Faults{DropProb: 1, Delay: [2]time.Duration{3 * ms}}, d: ToTarget, want: Verdict{Delay: 3 * ms, Close: true}, random: true},
		{name: "drop into a blackhole", f: Faults{DropProb: 1, Blackhole: [2]bool{false, true}}, d: FromTarget, want: Verdict{Close: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				got := tc.f.Judge(tc.d, n, NewRand(seed))
				if tc.random {
					if got.Pass < 0 || got.Pass >= n {
						t.Fatalf("seed %d: Pass %d outside [0, %d)", seed, got.Pass, n)
					}
					got.Pass = 0
				}
				if got != tc.want {
					t.Fatalf("seed %d: got %+v, want %+v", seed, got, tc.want)
				}
			}
		})
	}
}

// TestJudgeReplays: the same seed gives the same verdicts, chunk after
// chunk; a link without drops draws nothing.
func TestJudgeReplays(t *testing.T) {
	f := Faults{DropProb: 0.3}
	run := func(seed uint64) []Verdict {
		rng := NewRand(seed, 7)
		var out []Verdict
		for i := range 200 {
			out = append(out, f.Judge(Direction(i%2), 1+i, rng))
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	drops := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("chunk %d: %+v then %+v with the same seed", i, a[i], b[i])
		}
		if a[i].Close {
			drops++
		}
	}
	if drops == 0 || drops == len(a) {
		t.Fatalf("%d drops in %d chunks at p=0.3", drops, len(a))
	}
	if equalVerdicts(a, c) {
		t.Fatal("seeds 1 and 2 gave the same verdicts")
	}

	rng := NewRand(3)
	healthy := Faults{Delay: [2]time.Duration{time.Millisecond, 0}}
	for range 10 {
		healthy.Judge(ToTarget, 10, rng)
	}
	if rng.Uint64() != NewRand(3).Uint64() {
		t.Fatal("a link without drops drew from its generator")
	}
}

func equalVerdicts(a, b []Verdict) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestVerdictHoles(t *testing.T) {
	for _, tc := range []struct {
		v    Verdict
		n    int
		want bool
	}{
		{Verdict{Pass: 10}, 10, false},
		{Verdict{Pass: 0}, 10, true},
		{Verdict{Pass: 3, Close: true}, 10, false},
		{Verdict{Close: true}, 10, false},
	} {
		if got := tc.v.Holes(tc.n); got != tc.want {
			t.Errorf("%+v.Holes(%d) = %v, want %v", tc.v, tc.n, got, tc.want)
		}
	}
}

func TestCheckProb(t *testing.T) {
	zero := 0.0
	for _, tc := range []struct {
		p  float64
		ok bool
	}{{0, true}, {0.5, true}, {1, true}, {-0.1, false}, {1.01, false}, {zero / zero, false}} {
		if err := checkProb(tc.p); (err == nil) != tc.ok {
			t.Errorf("checkProb(%v) = %v", tc.p, err)
		}
	}
}
