package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/starling-mq/starling/internal/store"
)

// appendAt is the model of AppendAt: the sequences between the last one
// and seq are skipped.
func (m *model) appendAt(seq uint64, r rec) {
	for m.last+1 < seq {
		m.skip()
	}
	m.append(r)
}

// appendAtRec appends r under seq to the store and the model.
func appendAtRec(t *testing.T, st store.Store, m *model, seq uint64, r rec) {
	t.Helper()
	if err := st.AppendAt(seq, r.subj, r.hdr, r.data, r.ts, r.ttl); err != nil {
		t.Fatalf("AppendAt(%d, %q) = %v", seq, r.subj, err)
	}
	m.appendAt(seq, r)
}

// appendAtGap is past the file store's threshold for starting a new
// segment on a jump, so a gap that large is covered too.
const appendAtGap = 5000

func (s suite) testAppendAt(t *testing.T) {
	st, m := s.open(t), newModel(s.size)
	refused := func(seq uint64) {
		t.Helper()
		before := st.State()
		err := st.AppendAt(seq, "no", nil, []byte("no"), ts(seq), 0)
		if !errors.Is(err, store.ErrSeqNotAfterLast) {
			t.Fatalf("AppendAt(%d) with last %d = %v, want ErrSeqNotAfterLast", seq, before.LastSeq, err)
		}
		if after := st.State(); fmtState(after) != fmtState(before) {
			t.Fatalf("refused AppendAt(%d) changed the state: %s, was %s", seq, fmtState(after), fmtState(before))
		}
		check(t, st, m)
	}
	expect := func(msgs, first, last uint64, deleted ...uint64) {
		t.Helper()
		if got := st.State(); got.Msgs != msgs || got.FirstSeq != first || got.LastSeq != last || !slices.Equal(st.Deleted(0), deleted) {
			t.Fatalf("State = %s Deleted %v, want %d msgs [%d, %d] deleted %v", fmtState(got), st.Deleted(0), msgs, first, last, deleted)
		}
		check(t, st, m)
	}
	refused(0)
	appendAtRec(t, st, m, 4, rec{subj: "a", data: []byte("four"), ts: ts(4)})
	expect(1, 4, 4) // empty: the store starts at the message, no deletes
	refused(4)
	refused(3)
	appendAtRec(t, st, m, 5, rec{subj: "b", hdr: []byte("NATS/1.0\r\nK: v\r\n\r\n"), data: []byte("five"), ts: ts(5), ttl: 7e9})
	expect(2, 4, 5)
	appendAtRec(t, st, m, 9, rec{subj: "a", ts: ts(9)})
	expect(3, 4, 9, 6, 7, 8)
	if got := seqOf(st.LoadNext(">", 6)); got != 9 {
		t.Fatalf("LoadNext(>, 6) = %d, want 9", got)
	}
	appendRec(t, st, m, rec{subj: "c", ts: ts(10)}) // Append carries on after it
	expect(4, 4, 10, 6, 7, 8)
	if seq, err := st.Skip(); err != nil || seq != m.skip() {
		t.Fatalf("Skip = %d, %v; want %d", seq, err, m.last)
	}
	refused(11)
	appendAtRec(t, st, m, 12, rec{subj: "a", ts: ts(12)})
	expect(5, 4, 12, 6, 7, 8, 11)
	far := uint64(12 + appendAtGap)
	appendAtRec(t, st, m, far, rec{subj: "far", data: []byte("far"), ts: ts(far)})
	appendAtRec(t, st, m, far+1, rec{subj: "far", ts: ts(far + 1)})
	checkState(t, st, m)
	if got := seqOf(st.LoadNext(">", 13)); got != far {
		t.Fatalf("LoadNext(>, 13) = %d, want %d", got, far)
	}
	if got := st.Deleted(3); !slices.Equal(got, []uint64{6, 7, 8}) {
		t.Fatalf("Deleted(3) = %v", got)
	}
	// Deleting up to the gap makes its end the first sequence.
	for _, seq := range []uint64{4, 5, 9, 10, 12} {
		del(t, st, m, seq)
	}
	expect(2, far, far+1)

	// Purged past the end, then appended at: the store restarts there.
	purged := far + 10
	if n, err := st.Compact(purged); err != nil || n != m.compact(purged) {
		t.Fatalf("Compact(%d) = %d, %v", purged, n, err)
	}
	refused(purged - 1)
	appendAtRec(t, st, m, purged+2, rec{subj: "z", ts: ts(purged + 2)})
	expect(1, purged+2, purged+2)
}

// testAppendAtModel mixes AppendAt, with and without gaps, into the random
// operations of testModel and compares the store with the model
// throughout.
func (s suite) testAppendAtModel(t *testing.T) {
	for _, seed := range []uint64{4, 5} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			st, m := s.open(t), newModel(s.size)
			rng := rand.New(rand.NewPCG(seed, 0xA7))
			subjects := []string{"a", "b", "a.x", "b.x", "o.eu.new"}
			filters := append(slices.Clone(checkFilters), "b.x", "*.*")
			for op := range 300 {
				if rng.IntN(3) == 0 {
					gap := []uint64{0, 0, 1, 3, 40}[rng.IntN(5)]
					seq := m.last + 1 + gap
					r := rec{subj: subjects[rng.IntN(len(subjects))], ts: ts(uint64(op + 1)), data: fmt.Appendf(nil, "at%d", op)}
					appendAtRec(t, st, m, seq, r)
				} else {
					s.randomOp(t, st, m, rng, op, subjects, filters)
				}
				if op%10 == 9 {
					check(t, st, m)
				} else {
					checkState(t, st, m)
				}
			}
			check(t, st, m)
		})
	}
}
