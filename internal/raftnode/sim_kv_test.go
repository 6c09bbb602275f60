package raftnode

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// kvOutput is what a client saw; Unknown when the outcome was never
// learnt (the leader crashed, or a snapshot skipped the entry).
type kvOutput struct {
	kvResult
	Unknown bool
}

type kvState struct {
	V   string
	Set bool
}

// kvModel is the sequential specification of one key (histories are
// partitioned by key).
var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(kvOp).K
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(kvState), input.(kvOp), output.(kvOutput)
		switch in.Op {
		case "put":
			return true, kvState{V: in.V, Set: true}
		case "get":
			return out.Unknown || (out.Found == st.Set && out.Value == st.V), st
		case "cas":
			ok := st.Set && st.V == in.Old
			if !out.Unknown && out.OK != ok {
				return false, st
			}
			if ok {
				return true, kvState{V: in.V, Set: true}
			}
			return true, st
		}
		return false, st
	},
	DescribeOperation: func(in, out any) string {
		return fmt.Sprintf("%+v -> %+v", in, out)
	},
}

type kvClient struct {
	p    *Proposal
	op   kvOp
	call int64
}

// Clients put, get and compare-and-set three keys through whoever leads,
// under the chaos faults; porcupine checks the history is linearizable.
// An operation that failed for sure (not leader, dropped) is left out; one
// whose outcome is unknown may have happened any time after its call.
func TestSimLinearizableKV(t *testing.T) {
	cfg := chaosNet
	cfg.groups = 1
	for _, seed := range simSeeds(t, 3) {
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		rng := c.rng
		clients := make([]kvClient, 5)
		var ops []porcupine.Operation
		nextID := 0
		finish := func(i int, out kvOutput, ret int64) {
			cl := &clients[i]
			ops = append(ops, porcupine.Operation{ClientId: i, Input: cl.op, Call: cl.call, Output: out, Return: ret})
			cl.p = nil
		}
		for range 4000 {
			for i := range clients {
				cl := &clients[i]
				if cl.p != nil {
					if !isDone(cl.p) {
						continue
					}
					r, err := cl.p.Result()
					switch {
					case err == nil:
						v, ok := r.Value.(kvResult)
						if !ok {
							c.fatalf("client %d: acked at %d/%d with another entry's value %v", i, r.Index, r.Term, r.Value)
						}
						finish(i, kvOutput{kvResult: v}, c.round)
					case errors.Is(err, ErrDropped):
						cl.p = nil
					default:
						finish(i, kvOutput{Unknown: true}, math.MaxInt64)
					}
					continue
				}
				if rng.Float64() > 0.2 {
					continue
				}
				l := c.leader(g)
				if l == 0 {
					continue
				}
				nextID++
				op := kvOp{K: fmt.Sprintf("k%d", rng.Intn(3)), ID: nextID}
				switch rng.Intn(3) {
				case 0:
					op.Op, op.V = "put", fmt.Sprint(nextID)
				case 1:
					op.Op = "get"
				case 2:
					op.Op, op.Old, op.V = "cas", fmt.Sprint(rng.Intn(nextID)+1), fmt.Sprint(nextID)
				}
				p, err := c.node(l).eng.propose(g, mustJSON(op))
				if err != nil {
					continue
				}
				*cl = kvClient{p: p, op: op, call: c.round}
			}
			c.injectFaults()
			c.step()
		}
		for i := range clients {
			if clients[i].p != nil {
				finish(i, kvOutput{Unknown: true}, math.MaxInt64)
			}
		}
		// Unknown gets tell nothing and only slow the check.
		kept := ops[:0]
		for _, op := range ops {
			if op.Input.(kvOp).Op == "get" && op.Output.(kvOutput).Unknown {
				continue
			}
			kept = append(kept, op)
		}
		res := porcupine.CheckOperationsTimeout(kvModel, kept, 60*time.Second)
		if res != porcupine.Ok {
			t.Fatalf("seed %d: history of %d operations: %s", seed, len(kept), res)
		}
		t.Logf("seed %d: %d operations linearizable", seed, len(kept))
	}
}
