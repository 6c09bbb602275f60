// Package storetest is the conformance suite every store.Store
// implementation runs, so that memory and file streams behave alike and
// like nats-server's stores: the same sequences, the same first and last
// after deletes, purges and compactions, the same filtering, counting and
// byte accounting.
//
// Each behaviour is tested twice: by hand-written cases with exact
// expectations, and by a reference model (model.go) that states the rules
// by brute force and is compared with the store through every read method,
// after the hand-written cases and along seeded random operation sequences.
// lifecycle.go holds durability callbacks, concurrent use and closing;
// restart.go (RunRestart) what a store that keeps its data must keep across
// a restart.
//
// Semantics pinned here where nats-server leaves room or the interface
// differs from it:
//   - LastSeq and LastTime are high-water marks: deleting or purging the
//     last message keeps them, and so does a restart; Skip keeps LastTime.
//   - NumDeleted and Deleted cover every missing sequence in
//     [FirstSeq, LastSeq], including skipped and trailing ones; none when
//     the store is empty (FirstSeq = LastSeq+1).
//   - Compact(0) removes nothing; Compact below FirstSeq is a no-op.
//   - Purge of all subjects without Keep is Compact (to Seq, or to
//     LastSeq+1), so Seq past the end moves LastSeq to Seq-1; Seq 1 removes
//     nothing. Seq and Keep together are not tested: the API refuses them.
//   - Load past the end is ErrNotFound (nats-server says EOF).
//   - A loaded Msg belongs to the caller: changing its fields, or deleting
//     the message afterwards, does not change what it holds.
//   - A Durable callback may call back into the store.
//   - AppendAt at or below LastSeq fails with ErrSeqNotAfterLast and
//     changes nothing; the sequences it jumps over read as skipped ones,
//     and on an empty store the message becomes the first.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
)

// SizeFunc is a store's byte accounting, store.MemMsgSize or
// store.FileMsgSize: State.Bytes must be its sum over live messages.
type SizeFunc = func(subject string, hdr, data []byte) uint64

// waitLimit bounds every wait for a callback; reaching it fails the test.
const waitLimit = 10 * time.Second

type suite struct {
	open func(t *testing.T) store.Store
	size SizeFunc
}

// Run runs the suite. open returns a fresh, empty store for each subtest;
// it should register its own cleanup with t.Cleanup and tolerate the store
// being closed or destroyed already. size is the store's byte accounting.
func Run(t *testing.T, open func(t *testing.T) store.Store, size SizeFunc) {
	s := suite{open: open, size: size}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Empty", s.testEmpty},
		{"AppendLoad", s.testAppendLoad},
		{"HeadersAndTTL", s.testHeadersAndTTL},
		{"Copies", s.testCopies},
		{"Times", s.testTimes},
		{"Durable", s.testDurable},
		{"Skip", s.testSkip},
		{"AppendAt", s.testAppendAt},
		{"AppendAtModel", s.testAppendAtModel},
		{"LoadFilters", s.testLoadFilters},
		{"SubjectsState", s.testSubjectsState},
		{"NumPending", s.testNumPending},
		{"Delete", s.testDelete},
		{"Deleted", s.testDeleted},
		{"Purge", s.testPurge},
		{"Compact", s.testCompact},
		{"Model", s.testModel},
		{"Concurrent", s.testConcurrent},
		{"Closed", s.testClosed},
		{"Destroy", s.testDestroy},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// ts is the time the fixtures give a message: distinct and increasing.
func ts(seq uint64) int64 { return 1_700_000_000_000_000_000 + int64(seq)*1e6 }

func unixTime(ns int64) time.Time { return time.Unix(0, ns) }

func sameTime(a, b time.Time) bool {
	return a.IsZero() == b.IsZero() && (a.IsZero() || a.UnixNano() == b.UnixNano())
}

// appendRec appends r to the store and the model and checks the sequence.
func appendRec(t *testing.T, st store.Store, m *model, r rec) uint64 {
	t.Helper()
	seq, err := st.Append(r.subj, r.hdr, r.data, r.ts, r.ttl)
	if want := m.append(r); err != nil || seq != want {
		t.Fatalf("Append(%q) = %d, %v; want %d", r.subj, seq, err, want)
	}
	return seq
}

// fixture opens a store holding one message per subject, seqs from 1.
func (s suite) fixture(t *testing.T, subjects ...string) (store.Store, *model) {
	t.Helper()
	st, m := s.open(t), newModel(s.size)
	for _, subj := range subjects {
		seq := m.last + 1
		appendRec(t, st, m, rec{subj: subj, data: fmt.Appendf(nil, "m%d", seq), ts: ts(seq)})
	}
	return st, m
}

func del(t *testing.T, st store.Store, m *model, seqs ...uint64) {
	t.Helper()
	for _, seq := range seqs {
		if ok, err := st.Delete(seq, false); !ok || err != nil {
			t.Fatalf("Delete(%d) = %v, %v", seq, ok, err)
		}
		m.remove(seq)
	}
}

func seqOf(m *store.Msg, err error) uint64 {
	if err != nil || m == nil {
		return 0
	}
	return m.Seq
}

// liveSeqs lists the sequences Load finds, up to LastSeq+2.
func liveSeqs(t *testing.T, st store.Store) []uint64 {
	t.Helper()
	var out []uint64
	for seq := range st.State().LastSeq + 3 {
		if _, err := st.Load(seq); err == nil {
			out = append(out, seq)
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load(%d): %v", seq, err)
		}
	}
	return out
}

func (s suite) testEmpty(t *testing.T) {
	st := s.open(t)
	if got := st.State(); got.Msgs != 0 || got.Bytes != 0 || got.FirstSeq != 0 || got.LastSeq != 0 ||
		got.NumSubjects != 0 || got.NumDeleted != 0 || !got.FirstTime.IsZero() || !got.LastTime.IsZero() {
		t.Fatalf("fresh store State = %+v, want zero", got)
	}
	check(t, st, newModel(s.size))
}

func (s suite) testAppendLoad(t *testing.T) {
	st, m := s.fixture(t, "a", "b.x", "a")
	check(t, st, m)
	want := s.size("a", nil, []byte("m1")) + s.size("b.x", nil, []byte("m2")) + s.size("a", nil, []byte("m3"))
	if got := st.State(); got.Bytes != want || got.NumSubjects != 2 || got.FirstSeq != 1 || got.LastSeq != 3 {
		t.Fatalf("State = %s, want 3 msgs [1, 3], 2 subjects, %d bytes", fmtState(got), want)
	}
	for _, seq := range []uint64{0, 4, 5, 1 << 40, ^uint64(0)} {
		if _, err := st.Load(seq); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load(%d) = %v, want ErrNotFound", seq, err)
		}
	}
}

func (s suite) testHeadersAndTTL(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: 7\r\n\r\n")
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	st, m := s.open(t), newModel(s.size)
	for i, tc := range []struct {
		hdr, data []byte
		ttl       int64
	}{
		{nil, []byte("plain"), 0},
		{[]byte{}, []byte("empty header is no header"), 1},
		{hdr, nil, 5e9},
		{hdr, []byte{}, -1}, // nats-server's "never" TTL
		{hdr, big, 1<<63 - 1},
		{nil, nil, 0},
	} {
		appendRec(t, st, m, rec{subj: "h", hdr: tc.hdr, data: tc.data, ttl: tc.ttl, ts: ts(uint64(i + 1))})
	}
	check(t, st, m)
}

// testCopies: the store owns copies of what it was given, and callers own
// what they load.
func (s suite) testCopies(t *testing.T) {
	st, m := s.open(t), newModel(s.size)
	hdr, data := []byte("NATS/1.0\r\nA: 1\r\n\r\n"), []byte("payload")
	appendRec(t, st, m, rec{subj: "c", hdr: slices.Clone(hdr), data: slices.Clone(data), ts: ts(1)})
	if _, err := st.Append("c", hdr, data, ts(2), 0); err != nil {
		t.Fatal(err)
	}
	m.append(rec{subj: "c", hdr: slices.Clone(hdr), data: slices.Clone(data), ts: ts(2)})
	clear(hdr) // callers reuse their buffers
	clear(data)
	check(t, st, m)

	got, err := st.Load(1)
	if err != nil {
		t.Fatal(err)
	}
	got.Seq, got.Subject, got.Time, got.TTL = 99, "changed", 1, 1
	check(t, st, m)

	before, err := st.Load(2)
	if err != nil {
		t.Fatal(err)
	}
	del(t, st, m, 2)
	if _, err := st.Purge(store.PurgeRequest{}); err != nil {
		t.Fatal(err)
	}
	m.purge(store.PurgeRequest{})
	if string(before.Data) != "payload" || string(before.Header) != "NATS/1.0\r\nA: 1\r\n\r\n" {
		t.Fatalf("a loaded message changed after delete and purge: %q %q", before.Header, before.Data)
	}
	check(t, st, m)
}

// testTimes: FirstTime is the first live message's, LastTime the last
// stored message's, kept through deletes, purges and skips.
func (s suite) testTimes(t *testing.T) {
	st, m := s.fixture(t, "a", "b", "c")
	steps := []struct {
		name        string
		do          func()
		first, last int64 // 0: zero time
	}{
		{"appended", func() {}, ts(1), ts(3)},
		{"first deleted", func() { del(t, st, m, 1) }, ts(2), ts(3)},
		{"last deleted", func() { del(t, st, m, 3) }, ts(2), ts(3)},
		{"skipped", func() {
			if _, err := st.Skip(); err != nil {
				t.Fatal(err)
			}
			m.skip()
		}, ts(2), ts(3)},
		{"purged", func() {
			if _, err := st.Purge(store.PurgeRequest{}); err != nil {
				t.Fatal(err)
			}
			m.purge(store.PurgeRequest{})
		}, 0, ts(3)},
		{"compacted past the end", func() {
			if _, err := st.Compact(20); err != nil {
				t.Fatal(err)
			}
			m.compact(20)
		}, 0, ts(3)},
		{"appended again", func() { appendRec(t, st, m, rec{subj: "d", ts: ts(2)}) }, ts(2), ts(2)},
	}
	for _, step := range steps {
		step.do()
		got := st.State()
		if !sameTime(got.FirstTime, timeOrZero(step.first)) || !sameTime(got.LastTime, timeOrZero(step.last)) {
			t.Fatalf("%s: FirstTime %v LastTime %v, want %v %v", step.name, got.FirstTime, got.LastTime,
				timeOrZero(step.first), timeOrZero(step.last))
		}
		check(t, st, m)
	}
}

func timeOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return unixTime(ns)
}

func (s suite) testSkip(t *testing.T) {
	st, m := s.open(t), newModel(s.size)
	skip := func(want uint64) {
		t.Helper()
		if seq, err := st.Skip(); seq != want || err != nil {
			t.Fatalf("Skip() = %d, %v; want %d", seq, err, want)
		}
		m.skip()
	}
	expect := func(msgs, first, last uint64, deleted ...uint64) {
		t.Helper()
		if got := st.State(); got.Msgs != msgs || got.FirstSeq != first || got.LastSeq != last || !slices.Equal(st.Deleted(0), deleted) {
			t.Fatalf("State = %s Deleted %v, want %d msgs [%d, %d] deleted %v", fmtState(got), st.Deleted(0), msgs, first, last, deleted)
		}
		check(t, st, m)
	}
	skip(1) // empty: first moves past the skip
	expect(0, 2, 1)
	skip(2)
	expect(0, 3, 2)
	appendRec(t, st, m, rec{subj: "a", ts: ts(3)})
	expect(1, 3, 3)
	skip(4) // with messages: an interior gap
	expect(1, 3, 4, 4)
	appendRec(t, st, m, rec{subj: "a", ts: ts(5)})
	expect(2, 3, 5, 4)
	if got := seqOf(st.LoadNext(">", 4)); got != 5 {
		t.Fatalf("LoadNext(>, 4) = %d, want 5", got)
	}
}

// filterFixture: a mix of literal subjects for the filter tables, with an
// interior message (3, the only o.eu.done) deleted.
func (s suite) filterFixture(t *testing.T) (store.Store, *model) {
	st, m := s.fixture(t, "o.eu.new", "o.us.new", "o.eu.done", "x", "o.eu.new", "o.us.new.z", "y")
	del(t, st, m, 3)
	return st, m
}

func (s suite) testLoadFilters(t *testing.T) {
	st, m := s.filterFixture(t)
	const nf = 0 // ErrNotFound
	for _, tc := range []struct {
		filter     string
		start      uint64
		next, prev uint64
	}{
		{"", 0, 1, nf}, {">", 0, 1, nf}, {"", 1, 1, 1}, {">", 3, 4, 2}, {">", 7, 7, 7},
		{">", 8, nf, 7}, {">", 1000, nf, 7},
		{"o.eu.new", 0, 1, nf}, {"o.eu.new", 2, 5, 1}, {"o.eu.new", 5, 5, 5}, {"o.eu.new", 6, nf, 5},
		{"o.*.new", 2, 2, 2}, {"o.*.new", 3, 5, 2},
		{"o.>", 3, 5, 2}, {"o.>", 6, 6, 6}, {"o.>", 100, nf, 6},
		{"*", 0, 4, nf}, {"*", 5, 7, 4}, {"*", 3, 4, nf},
		{"*.*.*", 0, 1, nf}, {"*.*.*.*", 0, 6, nf}, {"o.*", 0, nf, nf},
		{"o.eu.done", 0, nf, nf}, {"nope", 0, nf, nf}, {"x.>", 0, nf, nf},
	} {
		if got := seqOf(st.LoadNext(tc.filter, tc.start)); got != tc.next {
			t.Errorf("LoadNext(%q, %d) = %d, want %d", tc.filter, tc.start, got, tc.next)
		}
		if got := seqOf(st.LoadPrev(tc.filter, tc.start)); got != tc.prev {
			t.Errorf("LoadPrev(%q, %d) = %d, want %d", tc.filter, tc.start, got, tc.prev)
		}
	}
	for filter, want := range map[string]uint64{
		">": 7, "": 7, "o.eu.new": 5, "o.>": 6, "o.*.new": 5, "*": 7, "x": 4, "o.eu.done": nf, "nope": nf,
	} {
		if got := seqOf(st.LoadLast(filter)); got != want {
			t.Errorf("LoadLast(%q) = %d, want %d", filter, got, want)
		}
	}
	if _, err := st.LoadNext("nope", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LoadNext with no match: %v, want ErrNotFound", err)
	}
	check(t, st, m)
}

func (s suite) testSubjectsState(t *testing.T) {
	st, m := s.filterFixture(t)
	type ss = store.SubjectState
	sst := func(msgs, first, last uint64) ss { return ss{Msgs: msgs, First: first, Last: last} }
	all := map[string]ss{"o.eu.new": sst(2, 1, 5), "o.us.new": sst(1, 2, 2), "x": sst(1, 4, 4), "o.us.new.z": sst(1, 6, 6), "y": sst(1, 7, 7)}
	for _, tc := range []struct {
		filter string
		want   map[string]ss
	}{
		{"", all}, {">", all},
		{"o.*.new", map[string]ss{"o.eu.new": all["o.eu.new"], "o.us.new": all["o.us.new"]}},
		{"o.>", map[string]ss{"o.eu.new": all["o.eu.new"], "o.us.new": all["o.us.new"], "o.us.new.z": all["o.us.new.z"]}},
		{"*", map[string]ss{"x": all["x"], "y": all["y"]}},
		{"x", map[string]ss{"x": all["x"]}},
		{"o.eu.done", nil}, {"nope", nil},
	} {
		if got := st.SubjectsState(tc.filter); !sameSubjects(got, tc.want) {
			t.Errorf("SubjectsState(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
	// A subject's first and last follow deletes at either end; the last
	// message of a subject takes the subject with it.
	for _, step := range []struct {
		del  uint64
		want map[string]ss
	}{
		{1, map[string]ss{"o.eu.new": sst(1, 5, 5)}},
		{5, nil},
	} {
		del(t, st, m, step.del)
		if got := st.SubjectsState("o.eu.new"); !sameSubjects(got, step.want) {
			t.Errorf("after deleting %d: SubjectsState = %v, want %v", step.del, got, step.want)
		}
	}
	if got := st.State().NumSubjects; got != 4 {
		t.Errorf("NumSubjects = %d, want 4", got)
	}
	check(t, st, m)
}

func (s suite) testNumPending(t *testing.T) {
	st, m := s.filterFixture(t)
	for _, tc := range []struct {
		start  uint64
		filter string
		last   bool
		want   uint64
	}{
		{0, ">", false, 6}, {1, "", false, 6}, {3, ">", false, 4}, {7, ">", false, 1}, {8, ">", false, 0}, {1000, ">", false, 0},
		{0, "o.eu.new", false, 2}, {2, "o.eu.new", false, 1}, {6, "o.eu.new", false, 0},
		{0, "o.>", false, 4}, {0, "o.>", true, 3}, {2, "o.>", true, 3}, {3, "o.>", true, 2},
		{0, ">", true, 5}, {5, ">", true, 3}, {8, ">", true, 0},
		{0, "*", false, 2}, {0, "o.eu.done", false, 0}, {0, "nope", true, 0},
	} {
		if got := st.NumPending(tc.start, tc.filter, tc.last); got != tc.want {
			t.Errorf("NumPending(%d, %q, %v) = %d, want %d", tc.start, tc.filter, tc.last, got, tc.want)
		}
	}
	check(t, st, m)

	// Last per subject counts subjects, not messages, also in a short tail.
	st, m = s.fixture(t, "a", "b", "a", "a")
	for _, tc := range []struct {
		start uint64
		last  bool
		want  uint64
	}{{0, true, 2}, {2, true, 2}, {3, true, 1}, {3, false, 2}, {4, true, 1}, {5, true, 0}} {
		if got := st.NumPending(tc.start, ">", tc.last); got != tc.want {
			t.Errorf("NumPending(%d, >, %v) = %d, want %d", tc.start, tc.last, got, tc.want)
		}
	}
	check(t, st, m)
}

func (s suite) testDelete(t *testing.T) {
	st, m := s.fixture(t, "a", "b", "c", "d", "e")
	for i, step := range []struct {
		seq         uint64
		erase, ok   bool
		first, last uint64
		deleted     []uint64
	}{
		{3, false, true, 1, 5, []uint64{3}},    // interior
		{3, false, false, 1, 5, []uint64{3}},   // again: nothing there
		{1, true, true, 2, 5, []uint64{3}},     // first: FirstSeq moves on
		{5, false, true, 2, 5, []uint64{3, 5}}, // last: LastSeq stays
		{0, false, false, 2, 5, []uint64{3, 5}},
		{6, false, false, 2, 5, []uint64{3, 5}},
		{1 << 40, true, false, 2, 5, []uint64{3, 5}},
		{2, true, true, 4, 5, []uint64{5}}, // first again, over the gap at 3
		{4, false, true, 6, 5, nil},        // the last one: FirstSeq = LastSeq+1
	} {
		ok, err := st.Delete(step.seq, step.erase)
		if ok != step.ok || err != nil {
			t.Fatalf("step %d: Delete(%d) = %v, %v; want %v", i, step.seq, ok, err, step.ok)
		}
		m.remove(step.seq)
		got := st.State()
		if got.FirstSeq != step.first || got.LastSeq != step.last || got.NumDeleted != len(step.deleted) || !slices.Equal(st.Deleted(0), step.deleted) {
			t.Fatalf("step %d: State = %s Deleted %v; want [%d, %d] deleted %v", i, fmtState(got), st.Deleted(0), step.first, step.last, step.deleted)
		}
		check(t, st, m)
	}
	if got := st.State(); got.Msgs != 0 || got.Bytes != 0 || got.NumSubjects != 0 {
		t.Fatalf("emptied store: %s", fmtState(got))
	}
	appendRec(t, st, m, rec{subj: "f", ts: ts(6)})
	check(t, st, m)
}

func (s suite) testDeleted(t *testing.T) {
	subjects := make([]string, 200)
	for i := range subjects {
		subjects[i] = fmt.Sprint("s.", i%7)
	}
	st, m := s.fixture(t, subjects...)
	var want []uint64
	for seq := uint64(2); seq < 200; seq++ {
		if seq != 100 {
			del(t, st, m, seq)
			want = append(want, seq)
		}
	}
	for _, limit := range []int{0, 1, 5, 197, 198, 1000} {
		n := len(want)
		if limit > 0 {
			n = min(n, limit)
		}
		if got := st.Deleted(limit); !slices.Equal(got, want[:n]) {
			t.Fatalf("Deleted(%d) = %v, want %v", limit, got, want[:n])
		}
	}
	if got := st.State().NumDeleted; got != 197 {
		t.Fatalf("NumDeleted = %d, want 197", got)
	}
	check(t, st, m)
}

// purgeFixture: eight messages, 4 deleted.
//
//	1 a.x  2 b.x  3 a.y  (4)  5 a.x  6 c  7 a.x  8 b.y
func (s suite) purgeFixture(t *testing.T) (store.Store, *model) {
	st, m := s.fixture(t, "a.x", "b.x", "a.y", "b.x", "a.x", "c", "a.x", "b.y")
	del(t, st, m, 4)
	return st, m
}

func (s suite) testPurge(t *testing.T) {
	for _, tc := range []struct {
		name        string
		req         store.PurgeRequest
		n           uint64
		live        []uint64
		first, last uint64
	}{
		{"all", store.PurgeRequest{}, 7, nil, 9, 8},
		{"all by >", store.PurgeRequest{Subject: ">"}, 7, nil, 9, 8},
		{"literal", store.PurgeRequest{Subject: "a.x"}, 3, []uint64{2, 3, 6, 8}, 2, 8},
		{"wildcard *", store.PurgeRequest{Subject: "a.*"}, 4, []uint64{2, 6, 8}, 2, 8},
		{"wildcard leading *", store.PurgeRequest{Subject: "*.x"}, 4, []uint64{3, 6, 8}, 3, 8},
		{"wildcard > takes the last", store.PurgeRequest{Subject: "b.>"}, 2, []uint64{1, 3, 5, 6, 7}, 1, 8},
		{"no match", store.PurgeRequest{Subject: "nope"}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{"seq 1 is nothing", store.PurgeRequest{Seq: 1}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{"seq", store.PurgeRequest{Seq: 5}, 3, []uint64{5, 6, 7, 8}, 5, 8},
		{"seq on a gap", store.PurgeRequest{Seq: 4}, 3, []uint64{5, 6, 7, 8}, 5, 8},
		{"seq past the end", store.PurgeRequest{Seq: 20}, 7, nil, 20, 19},
		{"subject below seq", store.PurgeRequest{Subject: "a.x", Seq: 6}, 2, []uint64{2, 3, 6, 7, 8}, 2, 8},
		{"subject with seq 1", store.PurgeRequest{Subject: "a.x", Seq: 1}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{"keep", store.PurgeRequest{Keep: 3}, 4, []uint64{6, 7, 8}, 6, 8},
		{"keep all", store.PurgeRequest{Keep: 7}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{"keep more", store.PurgeRequest{Keep: 100}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{"keep of subject", store.PurgeRequest{Subject: "a.x", Keep: 1}, 2, []uint64{2, 3, 6, 7, 8}, 2, 8},
		{"keep of wildcard", store.PurgeRequest{Subject: "a.*", Keep: 2}, 2, []uint64{2, 5, 6, 7, 8}, 2, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m := s.purgeFixture(t)
			n, err := st.Purge(tc.req)
			if n != tc.n || err != nil {
				t.Fatalf("Purge(%+v) = %d, %v; want %d", tc.req, n, err, tc.n)
			}
			m.purge(tc.req)
			s.expectRange(t, st, tc.live, tc.first, tc.last)
			check(t, st, m)
			appendRec(t, st, m, rec{subj: "a.x", ts: ts(30)}) // next sequence: last+1
			check(t, st, m)
		})
	}
	t.Run("keep with gaps", func(t *testing.T) { // nats-server TestStorePurgeExKeepWithInteriorDeletes
		subjects := make([]string, 50)
		for i := range subjects {
			subjects[i] = "foo"
		}
		st, m := s.fixture(t, subjects...)
		for seq := uint64(2); seq <= 50; seq += 2 {
			del(t, st, m, seq)
		}
		if n, err := st.Purge(store.PurgeRequest{Keep: 5}); n != 20 || err != nil {
			t.Fatalf("Purge(keep 5) = %d, %v; want 20", n, err)
		}
		m.purge(store.PurgeRequest{Keep: 5})
		s.expectRange(t, st, []uint64{41, 43, 45, 47, 49}, 41, 50)
		check(t, st, m)
	})
}

func (s suite) expectRange(t *testing.T, st store.Store, live []uint64, first, last uint64) {
	t.Helper()
	got := st.State()
	if l := liveSeqs(t, st); !slices.Equal(l, live) || got.FirstSeq != first || got.LastSeq != last || got.Msgs != uint64(len(live)) {
		t.Fatalf("live %v, State %s; want live %v [%d, %d]", l, fmtState(got), live, first, last)
	}
}

func (s suite) testCompact(t *testing.T) {
	for _, tc := range []struct {
		seqs        []uint64 // Compact calls, in order
		n           uint64   // removed by the last
		live        []uint64
		first, last uint64
	}{
		{[]uint64{0}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{[]uint64{1}, 0, []uint64{1, 2, 3, 5, 6, 7, 8}, 1, 8},
		{[]uint64{3}, 2, []uint64{3, 5, 6, 7, 8}, 3, 8},
		{[]uint64{4}, 3, []uint64{5, 6, 7, 8}, 5, 8}, // onto a gap
		{[]uint64{8}, 6, []uint64{8}, 8, 8},
		{[]uint64{9}, 7, nil, 9, 8},
		{[]uint64{20}, 7, nil, 20, 19}, // past the end: the next Append gets 20
		{[]uint64{5, 3}, 0, []uint64{5, 6, 7, 8}, 5, 8},
		{[]uint64{20, 10}, 0, nil, 20, 19},
		{[]uint64{20, 25}, 0, nil, 25, 24},
	} {
		t.Run(fmt.Sprint(tc.seqs), func(t *testing.T) {
			st, m := s.purgeFixture(t)
			var n uint64
			for _, seq := range tc.seqs {
				var err error
				if n, err = st.Compact(seq); err != nil {
					t.Fatalf("Compact(%d): %v", seq, err)
				}
				if want := m.compact(seq); n != want {
					t.Fatalf("Compact(%d) = %d, model says %d", seq, n, want)
				}
			}
			if n != tc.n {
				t.Fatalf("last Compact removed %d, want %d", n, tc.n)
			}
			s.expectRange(t, st, tc.live, tc.first, tc.last)
			check(t, st, m)
			appendRec(t, st, m, rec{subj: "z", ts: ts(40)})
			check(t, st, m)
		})
	}
}
