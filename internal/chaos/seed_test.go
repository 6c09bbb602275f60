package chaos

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseSeed(t *testing.T) {
	for _, tc := range []struct {
		in    string
		seed  uint64
		given bool
		err   bool
	}{
		{in: "", given: false},
		{in: "  ", given: false},
		{in: "42", seed: 42, given: true},
		{in: " 42\n", seed: 42, given: true},
		{in: "0x2a", seed: 42, given: true},
		{in: "18446744073709551615", seed: 1<<64 - 1, given: true},
		{in: "-1", err: true},
		{in: "forty-two", err: true},
		{in: "18446744073709551616", err: true},
	} {
		seed, given, err := ParseSeed(tc.in)
		if (err != nil) != tc.err || seed != tc.seed || given != tc.given {
			t.Errorf("ParseSeed(%q) = %d, %v, %v; want %d, %v, error %v", tc.in, seed, given, err, tc.seed, tc.given, tc.err)
		}
	}
}

func TestSeedFromEnv(t *testing.T) {
	t.Setenv(SeedEnv, "0x10")
	if got := Seed(t); got != 16 {
		t.Fatalf("Seed = %d with %s=0x10", got, SeedEnv)
	}
}

func TestDerive(t *testing.T) {
	seen := map[uint64]string{}
	for _, tc := range []struct {
		name   string
		seed   uint64
		labels []uint64
	}{
		{"seed 1", 1, nil},
		{"seed 2", 2, nil},
		{"seed 1, link 0", 1, []uint64{0}},
		{"seed 1, link 1", 1, []uint64{1}},
		{"seed 1, link 0, conn 1", 1, []uint64{0, 1}},
		{"seed 1, link 1, conn 0", 1, []uint64{1, 0}},
		{"seed 0, label 0", 0, []uint64{0}},
		{"seed 0", 0, nil},
	} {
		d := Derive(tc.seed, tc.labels...)
		if d != Derive(tc.seed, tc.labels...) {
			t.Fatalf("%s: Derive is not a function", tc.name)
		}
		if other, dup := seen[d]; dup {
			t.Fatalf("%s and %s derive the same seed", tc.name, other)
		}
		seen[d] = tc.name
	}
}

func TestTopName(t *testing.T) {
	for in, want := range map[string]string{"TestA": "TestA", "TestA/b/c": "TestA", "": ""} {
		if got := topName(in); got != want {
			t.Errorf("topName(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeTB records what Seed registers and logs, and can pretend to fail.
type fakeTB struct {
	testing.TB
	failed   bool
	logs     []string
	cleanups []func()
}

func (f *fakeTB) Helper()                      {}
func (f *fakeTB) Name() string                 { return "TestScenario/sub" }
func (f *fakeTB) Failed() bool                 { return f.failed }
func (f *fakeTB) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Logf(format string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }

// TestSeedLoggedOnFailure: a failed test logs its seed with the command
// that replays it; a passing one logs nothing.
func TestSeedLoggedOnFailure(t *testing.T) {
	t.Setenv(SeedEnv, "1234")
	for _, failed := range []bool{false, true} {
		f := &fakeTB{TB: t, failed: failed}
		if Seed(f) != 1234 {
			t.Fatal("the seed from the environment was not used")
		}
		for _, fn := range f.cleanups {
			fn()
		}
		logged := strings.Join(f.logs, "\n")
		want := "STARLING_CHAOS_SEED=1234 go test -run '^TestScenario$'"
		if failed != strings.Contains(logged, want) {
			t.Errorf("failed=%v: logged %q", failed, logged)
		}
	}
}
