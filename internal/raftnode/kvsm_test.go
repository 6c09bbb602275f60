package raftnode

import (
	"encoding/json"
	"fmt"
)

// kvOp is a command of the test state machine.
type kvOp struct {
	Op  string `json:"op"` // "put", "get", "cas"
	K   string `json:"k"`
	V   string `json:"v,omitempty"`
	Old string `json:"old,omitempty"`
	ID  int    `json:"id"` // unique per proposal in a test run
}

type kvResult struct {
	Value string
	Found bool
	OK    bool // cas applied
}

type histEntry struct {
	Index, Term uint64
	ID          int
}

// kvSM is a key-value map that also records every entry it applied, so a
// test can compare the order on every member. The record is part of its
// snapshot, so a member restored from one still knows the whole order.
type kvSM struct {
	KV   map[string]string
	Hist []histEntry
}

func newKV() *kvSM { return &kvSM{KV: map[string]string{}} }

func (s *kvSM) Apply(ents []Entry) ([]any, error) {
	out := make([]any, len(ents))
	for i, e := range ents {
		var op kvOp
		if err := json.Unmarshal(e.Data, &op); err != nil {
			return nil, fmt.Errorf("entry %d: %w", e.Index, err)
		}
		if n := len(s.Hist); n > 0 && s.Hist[n-1].Index >= e.Index {
			return nil, fmt.Errorf("entry %d applied after %d", e.Index, s.Hist[n-1].Index)
		}
		s.Hist = append(s.Hist, histEntry{e.Index, e.Term, op.ID})
		var r kvResult
		switch op.Op {
		case "put":
			s.KV[op.K] = op.V
			r.OK = true
		case "get":
			r.Value, r.Found = s.KV[op.K]
		case "cas":
			if cur, ok := s.KV[op.K]; ok && cur == op.Old {
				s.KV[op.K] = op.V
				r.OK = true
			}
		}
		out[i] = r
	}
	return out, nil
}

func (s *kvSM) Snapshot() ([]byte, error) { return json.Marshal(s) }

func (s *kvSM) Restore(data []byte) error {
	s.KV, s.Hist = map[string]string{}, nil
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, s)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
