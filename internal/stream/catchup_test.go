package stream

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/store"
)

// storedState is dumpState without the de-duplication window: a caught-up
// replica knows the IDs of the messages it fetched, not of those removed
// before it fetched them.
func storedState(s *Stream) string {
	d := dumpState(s)
	if i := strings.Index(d, "\ndedup"); i >= 0 {
		return d[:i]
	}
	return d
}

// A replica that stopped applying at a random point, while the leader
// went on storing, deleting and purging, fetches the rest in small
// pieces and ends with the leader's messages and sequences.
func TestCatchUpMatchesLeader(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			cfg := baseConfig("S")
			if seed%3 == 0 {
				cfg.MaxMsgsPer = 4
			}
			leader, armed := replica(t, cfg, store.NewMemory())
			armed.Store(false) // the leader proposes, which reads the clock
			follower, _ := replica(t, cfg, store.NewMemory())
			cut := rng.IntN(200)
			apply := func(i int, b []byte) {
				if _, err := leader.ApplyEntry(b); err != nil {
					t.Fatalf("leader, entry %d: %v", i, err)
				}
				if i < cut {
					if _, err := follower.ApplyEntry(b); err != nil {
						t.Fatalf("follower, entry %d: %v", i, err)
					}
				}
			}
			subjects := []string{"S.a", "S.b", "S.c"}
			for i := range 200 {
				var b []byte
				switch last := leader.LastSeq(); {
				case last > 5 && rng.IntN(6) == 0:
					b, _ = leader.ProposeDelete(1+rng.Uint64N(last), false)
				case last > 5 && rng.IntN(40) == 0:
					b, _ = leader.ProposePurge(store.PurgeRequest{Seq: 1 + rng.Uint64N(last)})
				default:
					b, _ = leader.Propose(subjects[rng.IntN(3)], nil, make([]byte, rng.IntN(100)))
				}
				if b != nil {
					apply(i, b)
				}
			}
			had, to := follower.LastSeq(), leader.LastSeq()
			from := uint64(1)
			for n := 0; from <= to; n++ {
				if n > 10000 {
					t.Fatal("the fetch does not end")
				}
				c, err := leader.ServeCatchUp(from, to, had, 1+rng.IntN(600))
				if err != nil {
					t.Fatal(err)
				}
				wire, _ := c.MarshalBinary()
				var got CatchUp
				if err := got.UnmarshalBinary(wire); err != nil {
					t.Fatal(err)
				}
				if err := follower.ApplyCatchUp(&got, had, to); err != nil {
					t.Fatal(err)
				}
				if got.Next <= from {
					t.Fatalf("piece from %d ends at %d", from, got.Next)
				}
				from = got.Next
			}
			if got, want := storedState(follower), storedState(leader); got != want {
				t.Fatalf("cut %d, had %d: follower\n%s\nleader\n%s", cut, had, got, want)
			}
		})
	}
}

func FuzzCatchUpUnmarshal(f *testing.F) {
	for _, c := range []CatchUp{
		{From: 1, Next: 5, First: 1, Present: [][2]uint64{{1, 2}, {4, 4}}},
		{From: 3, Next: 9, Entries: [][]byte{EncodeEntry(&Entry{Kind: EntryMsg, Seq: 3, Subject: "a", Data: []byte("x")})}},
		{From: 1, Next: 1},
	} {
		b, _ := c.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c CatchUp
		if err := c.UnmarshalBinary(b); err != nil {
			return
		}
		again, _ := c.MarshalBinary()
		var d CatchUp
		if err := d.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded piece refused: %v", err)
		}
	})
}
