package stream

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

var pipeSeed = flag.Uint64("pipeseed", 0, "seed of TestPipelineMatchesSingleServer (0: from the clock)")

// TestPipelineMatchesSingleServer publishes random messages two ways: to
// a single-server stream (propose and apply at once), and to a leader
// that pipelines proposals, applying them, on itself and two followers,
// a random number of steps later. Every publisher must get the same
// answer both ways, and all four streams must end alike. Headers are
// drawn from the single server's state, so checks pass and fail.
func TestPipelineMatchesSingleServer(t *testing.T) {
	seed := *pipeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -pipeseed=%d)", seed, seed)
	configs := map[string]func(*jsapi.StreamConfig){
		"limits": func(c *jsapi.StreamConfig) { c.MaxMsgsPer, c.AllowRollup = 3, true },
		"discard new": func(c *jsapi.StreamConfig) {
			c.Discard, c.MaxMsgs, c.MaxBytes, c.MaxMsgsPer = jsapi.DiscardNew, 40, 4000, 15
		},
		"interest": func(c *jsapi.StreamConfig) { c.Retention = jsapi.InterestPolicy },
	}
	for name, set := range configs {
		var seen pipeStats
		for round := range uint64(10) {
			rng := rand.New(rand.NewPCG(seed, round))
			cfg := baseConfig("S")
			set(&cfg)
			t.Run(fmt.Sprintf("%s/%d", name, round), func(t *testing.T) {
				if err := pipelineRound(t, rng, cfg, &seen); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
			})
		}
		// The draw must reach what the test is about.
		if seen.stored == 0 || seen.dups == 0 || seen.errs == 0 || seen.depth < 4 {
			t.Errorf("%s: seed %d exercised too little: %+v", name, seed, seen)
		}
	}
}

// pipeStats counts what a run exercised.
type pipeStats struct{ stored, dups, errs, depth int }

func pipelineRound(t *testing.T, rng *rand.Rand, cfg jsapi.StreamConfig, seen *pipeStats) error {
	clk := &clock{t: t0}
	open := func() *Stream {
		s, err := New(cfg, Options{Store: store.NewMemory(), Out: discard{}, Created: t0, Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	single, leader := open(), open()
	f1, _ := replica(t, cfg, store.NewMemory())
	f2, _ := replica(t, cfg, store.NewMemory())
	replicas := []*Stream{leader, f1, f2}
	var queue [][]byte
	applyOldest := func() error {
		want, err := DecodeEntry(queue[0])
		if err != nil {
			return err
		}
		for i, s := range replicas {
			if seq, err := s.ApplyEntry(queue[0]); err != nil || seq != want.Seq {
				return fmt.Errorf("replica %d applied entry %d: seq %d, %v", i, want.Seq, seq, err)
			}
		}
		queue = queue[1:]
		return nil
	}
	subjects := []string{"S.a", "S.b", "S.c"}
	for i := range 300 {
		if rng.IntN(4) == 0 {
			clk.add(time.Duration(rng.IntN(40)) * time.Second) // past the 2m window now and then
		}
		subj := subjects[rng.IntN(len(subjects))]
		h := randomHeaders(rng, single, subj, cfg.AllowRollup)
		data := make([]byte, rng.IntN(64))
		single.mu.Lock()
		r := single.storeLocked(subj, h, data)
		single.mu.Unlock()
		b, a := leader.Propose(subj, h, data)
		if got, want := wordAnswer(t, b, a), wordResult(r); got != want {
			return fmt.Errorf("publish %d on %s %q: pipelined %q, single server %q", i, subj, h, got, want)
		}
		switch {
		case b != nil:
			queue = append(queue, b)
			seen.stored++
			seen.depth = max(seen.depth, len(queue))
		case a.Duplicate:
			seen.dups++
		default:
			seen.errs++
		}
		// Commit and apply a random part of what is in flight.
		for n := rng.IntN(len(queue) + 1); n > 0 && rng.IntN(3) > 0; n-- {
			if err := applyOldest(); err != nil {
				return err
			}
		}
	}
	for len(queue) > 0 {
		if err := applyOldest(); err != nil {
			return err
		}
	}
	want := dumpState(single)
	for i, s := range replicas {
		if got := dumpState(s); got != want {
			return fmt.Errorf("replica %d differs from the single server:\n%s\nsingle server:\n%s", i, got, want)
		}
	}
	return nil
}

func wordResult(r result) string {
	switch {
	case r.err != nil:
		return "err " + r.err.Description
	case r.dup:
		return fmt.Sprintf("dup %d", r.seq)
	}
	return fmt.Sprintf("seq %d", r.seq)
}

// randomHeaders draws a publish's headers, its expectations right (from
// s, the single server's stream) more often than wrong.
func randomHeaders(rng *rand.Rand, s *Stream, subj string, rollup bool) []byte {
	s.mu.Lock()
	last, lastID, subjLast := s.last, s.lmsgID, s.lastSeqLocked(subj)
	s.mu.Unlock()
	off := func(v uint64) string {
		if rng.IntN(4) == 0 {
			v++
		}
		return strconv.FormatUint(v, 10)
	}
	var kv []string
	if rng.IntN(2) == 0 {
		kv = append(kv, "Nats-Msg-Id", "id"+strconv.Itoa(rng.IntN(8)))
	}
	switch rng.IntN(8) {
	case 0:
		kv = append(kv, "Nats-Expected-Last-Sequence", off(last))
	case 1:
		kv = append(kv, "Nats-Expected-Last-Subject-Sequence", off(subjLast))
	case 2:
		if lastID != "" && rng.IntN(4) > 0 {
			kv = append(kv, "Nats-Expected-Last-Msg-Id", lastID)
		} else {
			kv = append(kv, "Nats-Expected-Last-Msg-Id", "other")
		}
	}
	if rollup && rng.IntN(10) == 0 {
		kv = append(kv, "Nats-Rollup", []string{"sub", "all"}[rng.IntN(2)])
	}
	if len(kv) == 0 {
		return nil
	}
	return hdr(kv...)
}
