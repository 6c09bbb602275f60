package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// SeedEnv names the environment variable that fixes the seed of every
// scenario in a run, to replay one that failed.
const SeedEnv = "STARLING_CHAOS_SEED"

// ParseSeed reads a seed as written in SeedEnv: decimal, or hexadecimal
// with 0x. An empty string means no seed was given.
func ParseSeed(s string) (seed uint64, given bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	seed, err = strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s=%q: want a decimal or 0x-prefixed hexadecimal uint64", SeedEnv, s)
	}
	return seed, true, nil
}

// Seed returns the seed of t's scenario: SeedEnv's when it is set, a new
// one otherwise. When t fails, the seed is logged with the command that
// replays it, so a failure seen once can be run again.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed, given, err := ParseSeed(os.Getenv(SeedEnv))
	if err != nil {
		t.Fatal(err)
	}
	if !given {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chaos seed %d; replay with %s=%d go test -run '^%s$'", seed, SeedEnv, seed, topName(t.Name()))
		}
	})
	return seed
}

// topName is the name of the top-level test, which -run matches first.
func topName(name string) string {
	top, _, _ := strings.Cut(name, "/")
	return top
}

// Derive returns a seed for one part of a scenario (a link, a connection,
// a direction) from the scenario's seed and labels naming the part, so
// each part draws from its own stream and a change in one part's traffic
// does not shift the draws of another. SplitMix64's finaliser mixes each
// label in.
func Derive(seed uint64, labels ...uint64) uint64 {
	x := seed
	for _, l := range labels {
		x = mix(x ^ mix(l+0x9e3779b97f4a7c15))
	}
	return mix(x)
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// NewRand returns a generator seeded from seed and labels (see Derive).
func NewRand(seed uint64, labels ...uint64) *rand.Rand {
	d := Derive(seed, labels...)
	return rand.New(rand.NewPCG(d, mix(d)))
}
