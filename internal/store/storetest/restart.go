package storetest

import (
	"fmt"
	"testing"

	"github.com/starling-mq/starling/internal/store"
)

// Reopener opens a fresh, empty store that keeps its data (a file store),
// and returns with it a function that opens the same data again once the
// store is closed. Both register their own cleanup.
type Reopener func(t *testing.T) (st store.Store, reopen func(t *testing.T) store.Store)

// RunRestart checks what a store that keeps its data must keep across a
// clean restart: every read the model checks, and above all the high-water
// marks. LastSeq and LastTime never go back, whether the messages after
// them were deleted one by one, purged, compacted past the end or skipped,
// so a restarted stream never hands out a sequence it handed out before.
func RunRestart(t *testing.T, open Reopener, size SizeFunc) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, st store.Store, m *model)
	}{
		{"Empty", func(*testing.T, store.Store, *model) {}},
		{"Messages", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "a.x", "c")
		}},
		{"LastDeleted", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "c")
			del(t, st, m, 3)
		}},
		{"AllDeleted", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "c")
			del(t, st, m, 2, 1, 3)
		}},
		{"Purged", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "c")
			purge(t, st, m, store.PurgeRequest{})
		}},
		{"PurgedPastTheEnd", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "c")
			purge(t, st, m, store.PurgeRequest{Seq: 20})
		}},
		{"SubjectPurged", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "b", "a", "a")
			purge(t, st, m, store.PurgeRequest{Subject: "a"})
		}},
		{"Compacted", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b", "c", "d")
			compact(t, st, m, 3)
		}},
		{"CompactedPastTheEnd", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b")
			compact(t, st, m, 30)
		}},
		{"CompactedPastTheEndWhenEmpty", func(t *testing.T, st store.Store, m *model) {
			compact(t, st, m, 30)
		}},
		{"Skipped", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b")
			for range 3 {
				if seq, err := st.Skip(); err != nil || seq != m.skip() {
					t.Fatalf("Skip = %d, %v; want %d", seq, err, m.last)
				}
			}
		}},
		{"AppendedAt", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b")
			appendAtRec(t, st, m, 3, rec{subj: "c", data: []byte("at3"), ts: ts(3)})
			appendAtRec(t, st, m, 7, rec{subj: "a", data: []byte("at7"), ts: ts(7)})
			appendAtRec(t, st, m, 7+appendAtGap, rec{subj: "b", data: []byte("far"), ts: ts(7 + appendAtGap)})
		}},
		{"AppendedAtWhenEmpty", func(t *testing.T, st store.Store, m *model) {
			appendAtRec(t, st, m, 40, rec{subj: "a", data: []byte("at40"), ts: ts(40)})
		}},
		{"AppendedAtThenDeleted", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a")
			appendAtRec(t, st, m, 9, rec{subj: "b", ts: ts(9)})
			del(t, st, m, 9)
		}},
		{"PurgedThenSkipped", func(t *testing.T, st store.Store, m *model) {
			fill(t, st, m, "a", "b")
			purge(t, st, m, store.PurgeRequest{})
			if seq, err := st.Skip(); err != nil || seq != m.skip() {
				t.Fatalf("Skip = %d, %v; want %d", seq, err, m.last)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, reopen := open(t)
			m := newModel(size)
			tc.fn(t, st, m)
			check(t, st, m)
			// Two restarts: the first may write what recovery settled, the
			// second must find the same.
			for round := range 2 {
				if err := st.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				st = reopen(t)
				t.Run(fmt.Sprint("restart", round+1), func(t *testing.T) { check(t, st, m) })
			}
			appendRec(t, st, m, rec{subj: "after", data: []byte("next"), ts: ts(m.last + 1)})
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			st = reopen(t)
			check(t, st, m)
		})
	}
}

// fill appends one message per subject.
func fill(t *testing.T, st store.Store, m *model, subjects ...string) {
	t.Helper()
	for _, subj := range subjects {
		seq := m.last + 1
		appendRec(t, st, m, rec{subj: subj, data: fmt.Appendf(nil, "m%d", seq), ts: ts(seq)})
	}
}

func purge(t *testing.T, st store.Store, m *model, req store.PurgeRequest) {
	t.Helper()
	if n, err := st.Purge(req); err != nil || n != m.purge(req) {
		t.Fatalf("Purge(%+v) = %d, %v", req, n, err)
	}
}

func compact(t *testing.T, st store.Store, m *model, seq uint64) {
	t.Helper()
	if n, err := st.Compact(seq); err != nil || n != m.compact(seq) {
		t.Fatalf("Compact(%d) = %d, %v", seq, n, err)
	}
}
