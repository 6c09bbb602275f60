package stream

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

var opsSeed = flag.Uint64("opsseed", 0, "seed of TestReplicatedOpsRandom (0: from the clock)")

// TestReplicatedOpsRandom mixes random publishes (message IDs, TTLs,
// roll-ups, expected last sequence and message ID), deletes, purges,
// clock steps with expiry and configuration updates, pipelined on the
// leader, and holds every answer and the final states to a single
// server's.
func TestReplicatedOpsRandom(t *testing.T) {
	seed := *opsSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -opsseed=%d)", seed, seed)
	var seen opsStats
	for round := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, round))
		cfg := baseConfig("S")
		cfg.AllowMsgTTL, cfg.AllowRollup = true, true
		if round%2 == 1 {
			cfg.SubjectDeleteMarkerTTL = 45 * time.Second
		}
		t.Run(strconv.FormatUint(round, 10), func(t *testing.T) {
			r := newOpsRig(t, cfg)
			if err := opsRound(r, rng, &seen); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			want, err := r.check()
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if err := replayLog(t, cfg, r.log, rng, want); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		})
	}
	if seen.deletes == 0 || seen.purges == 0 || seen.expiries == 0 || seen.updates == 0 {
		t.Errorf("seed %d exercised too little: %+v", seed, seen)
	}
}

type opsStats struct{ deletes, purges, expiries, updates int }

func opsRound(r *opsRig, rng *rand.Rand, seen *opsStats) error {
	subjects := []string{"S.a", "S.b", "S.c", "S.d"}
	for i := range 300 {
		r.single.mu.Lock()
		last := r.single.last
		r.single.mu.Unlock()
		var err error
		switch n := rng.IntN(100); {
		case n < 60:
			subj := subjects[rng.IntN(len(subjects))]
			err = r.pub(subj, randomOpsHeaders(rng, r.single), make([]byte, rng.IntN(32)))
		case n < 70:
			seen.deletes++
			err = r.del(1+rng.Uint64N(last+2), rng.IntN(2) == 0)
		case n < 77:
			seen.purges++
			var req store.PurgeRequest
			if rng.IntN(2) == 0 {
				req.Subject = []string{"S.a", "S.b", "S.*", ">"}[rng.IntN(4)]
			}
			switch rng.IntN(4) {
			case 0:
				req.Keep = rng.Uint64N(6)
			case 1:
				req.Seq = 1 + rng.Uint64N(last+4)
			}
			err = r.purge(req)
		case n < 90:
			seen.expiries++
			err = r.tick(time.Duration(rng.IntN(40)) * time.Second)
		case n < 94:
			seen.updates++
			err = r.update(func(c *jsapi.StreamConfig) {
				c.MaxMsgs = []int64{-1, 5, 12, 30}[rng.IntN(4)]
				c.MaxMsgsPer = []int64{-1, 1, 3}[rng.IntN(3)]
				c.MaxAge = []time.Duration{0, 30 * time.Second, 2 * time.Minute}[rng.IntN(3)]
			})
		default:
			for k := rng.IntN(len(r.queue) + 1); k > 0 && err == nil; k-- {
				q := r.queue[0]
				r.queue = r.queue[1:]
				err = r.applyToAll(q.b, q.what, q.want)
			}
		}
		if err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
	}
	return nil
}

// randomOpsHeaders draws headers whose checks a pending removal cannot
// change (a removal never moves the last sequence or message ID back):
// not the expected last subject sequence, which a pending purge would.
func randomOpsHeaders(rng *rand.Rand, s *Stream) []byte {
	s.mu.Lock()
	last, lastID := s.last, s.lmsgID
	s.mu.Unlock()
	var kv []string
	if rng.IntN(2) == 0 {
		kv = append(kv, "Nats-Msg-Id", "id"+strconv.Itoa(rng.IntN(50)))
	}
	if rng.IntN(4) == 0 {
		kv = append(kv, "Nats-TTL", strconv.Itoa(5+rng.IntN(90))+"s")
	}
	switch rng.IntN(10) {
	case 0:
		kv = append(kv, "Nats-Expected-Last-Sequence", strconv.FormatUint(last+uint64(rng.IntN(2)), 10))
	case 1:
		kv = append(kv, "Nats-Expected-Last-Msg-Id", lastID)
	case 2:
		kv = append(kv, "Nats-Rollup", []string{"sub", "all"}[rng.IntN(2)])
	}
	if len(kv) == 0 {
		return nil
	}
	return hdr(kv...)
}

// replayLog applies log to a fresh replica up to a random point, then
// again from an earlier random point to the end, as a restarted replica
// replays what its store already holds: it must end as want.
func replayLog(t *testing.T, cfg jsapi.StreamConfig, log [][]byte, rng *rand.Rand, want string) error {
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: discard{}, Created: t0, Now: func() time.Time { return t0 }, Replicated: true})
	if err != nil {
		return err
	}
	defer s.Close()
	k := rng.IntN(len(log) + 1)
	j := rng.IntN(k + 1)
	for _, b := range append(log[:k:k], log[j:]...) {
		if _, err := s.ApplyEntry(b); err != nil && !errors.Is(err, ErrApplied) {
			var aerr *jsapi.ApiError
			if !errors.As(err, &aerr) {
				return err
			}
		}
	}
	if got := replicatedState(s); got != want {
		return fmt.Errorf("replayed from %d after %d of %d entries:\n%s\nwant\n%s", j, k, len(log), got, want)
	}
	return nil
}
