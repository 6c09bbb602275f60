package histcheck

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// A key-value history: each operation with the interval it ran in (call
// and return times from one monotonic clock) and what came back.
// Revisions are the bucket's (its stream's) sequences: they grow across
// every key, so a key's next revision is only known to be larger than its
// last.

// KVKind is a key-value operation.
type KVKind uint8

const (
	KVPut    KVKind = iota + 1 // write
	KVGet                      // read
	KVUpdate                   // write if the key's revision is Expect (0: the key must not exist)
)

// KVOp is one operation and its outcome.
type KVOp struct {
	Client       int
	Kind         KVKind
	Key, Value   string
	Expect       uint64
	Call, Return time.Time
	// Known is false when the outcome is unknown (a timeout: the write
	// may or may not have happened). Unknown reads are left out.
	Known bool
	// OK: the write happened, or the read found the key. Rev is the
	// revision written or read, Got the value read.
	OK  bool
	Rev uint64
	Got string
}

// kvState is one key's state in the model: its value and revision, or,
// after a write whose outcome is unknown, a revision known only to be
// above Rev (Floating) until a read pins it.
type kvState struct {
	Exists   bool
	Value    string
	Rev      uint64
	Floating bool
}

type kvIn struct {
	kind      KVKind
	value     string
	expect    uint64
	known, ok bool
	rev       uint64
	got       string
}

// KVModel is the sequential specification of one bucket, partitioned by
// key.
var KVModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Metadata.(string)
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []interface{} { return []interface{}{kvState{}} },
	Step: func(state, input, _ interface{}) []interface{} {
		s, in := state.(kvState), input.(kvIn)
		return kvStep(s, in)
	},
	Equal: func(a, b interface{}) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, _ interface{}) string {
		in := input.(kvIn)
		return fmt.Sprintf("%v(%q, expect %d) -> known %v ok %v rev %d got %q", in.kind, in.value, in.expect, in.known, in.ok, in.rev, in.got)
	},
}

// revAbove reports whether rev can follow s's revision.
func revAbove(s kvState, rev uint64) bool { return rev > s.Rev }

// revIs reports whether s's revision can be rev (and pins it).
func revIs(s kvState, rev uint64) (kvState, bool) {
	if s.Floating {
		if rev <= s.Rev {
			return s, false
		}
		s.Rev, s.Floating = rev, false
		return s, true
	}
	return s, s.Rev == rev
}

func kvStep(s kvState, in kvIn) []interface{} {
	written := func(rev uint64, floating bool) kvState {
		return kvState{Exists: true, Value: in.value, Rev: rev, Floating: floating}
	}
	switch in.kind {
	case KVPut:
		switch {
		case !in.known:
			return []interface{}{s, written(s.Rev, true)}
		case !in.ok:
			return []interface{}{s}
		case revAbove(s, in.rev):
			return []interface{}{written(in.rev, false)}
		}
		return nil
	case KVGet:
		if !in.ok {
			if s.Exists {
				return nil
			}
			return []interface{}{s}
		}
		if !s.Exists || s.Value != in.got {
			return nil
		}
		if next, ok := revIs(s, in.rev); ok {
			return []interface{}{next}
		}
		return nil
	case KVUpdate:
		// Could the key's revision be the expected one?
		matches := func() (kvState, bool) {
			if in.expect == 0 {
				return s, !s.Exists
			}
			if !s.Exists {
				return s, false
			}
			return revIs(s, in.expect)
		}
		switch {
		case !in.known:
			out := []interface{}{s}
			if m, ok := matches(); ok {
				out = append(out, kvState{Exists: true, Value: in.value, Rev: m.Rev, Floating: true})
			}
			return out
		case !in.ok:
			// Refused: the key's revision must be able to differ.
			if in.expect == 0 {
				if s.Exists {
					return []interface{}{s}
				}
				return nil
			}
			if !s.Exists || s.Floating || s.Rev != in.expect {
				return []interface{}{s}
			}
			return nil
		}
		if m, ok := matches(); ok && in.rev > m.Rev {
			return []interface{}{written(in.rev, false)}
		}
		return nil
	}
	return nil
}

// KVReport is the verdict on a key-value history.
type KVReport struct {
	Operations   int
	Linearizable bool
	Unknown      bool // the checker ran out of time
}

func (r KVReport) String() string {
	switch {
	case r.Unknown:
		return fmt.Sprintf("%d operations: linearizability unknown (check timed out)", r.Operations)
	case r.Linearizable:
		return fmt.Sprintf("%d operations: linearizable", r.Operations)
	}
	return fmt.Sprintf("%d operations: NOT linearizable", r.Operations)
}

// CheckKV checks a history for linearizability, within timeout.
func CheckKV(ops []KVOp, timeout time.Duration) KVReport {
	var hist []porcupine.Operation
	for _, op := range ops {
		if op.Kind == KVGet && !op.Known {
			continue // a read that never answered says nothing
		}
		ret := op.Return.UnixNano()
		if !op.Known {
			ret = 1<<63 - 1 // may take effect at any time after its call
		}
		hist = append(hist, porcupine.Operation{
			ClientId: op.Client,
			Input:    kvIn{kind: op.Kind, value: op.Value, expect: op.Expect, known: op.Known, ok: op.OK, rev: op.Rev, got: op.Got},
			Call:     op.Call.UnixNano(),
			Return:   ret,
			Metadata: op.Key,
		})
	}
	res := porcupine.CheckOperationsTimeout(KVModel.ToModel(), hist, timeout)
	return KVReport{Operations: len(hist), Linearizable: res == porcupine.Ok, Unknown: res == porcupine.Unknown}
}
