package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/subject"
)

// model is the reference store: the rules of store.Store stated by brute
// force over a map, slow and obviously right. check compares a store with
// it through every read method.
type model struct {
	size        SizeFunc
	msgs        map[uint64]rec
	first, last uint64
	lastTS      int64
	stored      bool // a message was appended: LastTime is set
}

type rec struct {
	subj      string
	hdr, data []byte
	ts, ttl   int64
}

func newModel(size SizeFunc) *model { return &model{size: size, msgs: map[uint64]rec{}} }

func matches(filter, subj string) bool {
	return filter == "" || filter == ">" || subject.Matches(filter, subj)
}

func (m *model) append(r rec) uint64 {
	m.last++
	if len(m.msgs) == 0 {
		m.first = m.last
	}
	m.msgs[m.last] = r
	m.lastTS, m.stored = r.ts, true
	return m.last
}

func (m *model) skip() uint64 {
	m.last++
	if len(m.msgs) == 0 {
		m.first = m.last + 1
	}
	return m.last
}

func (m *model) remove(seq uint64) bool {
	if _, ok := m.msgs[seq]; !ok {
		return false
	}
	delete(m.msgs, seq)
	m.fixFirst()
	return true
}

func (m *model) fixFirst() {
	if len(m.msgs) == 0 {
		m.first = m.last + 1
		return
	}
	m.first = slices.Min(m.live(">"))
}

// live returns the live sequences matching filter, ascending.
func (m *model) live(filter string) []uint64 {
	var out []uint64
	for seq, r := range m.msgs {
		if matches(filter, r.subj) {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) compact(seq uint64) uint64 {
	if seq == 0 {
		return 0
	}
	if seq > m.last {
		n := uint64(len(m.msgs))
		clear(m.msgs)
		m.first, m.last = seq, seq-1
		return n
	}
	var n uint64
	for _, q := range m.live(">") {
		if q < seq {
			delete(m.msgs, q)
			n++
		}
	}
	m.first = max(m.first, seq)
	m.fixFirst()
	return n
}

func (m *model) purge(req store.PurgeRequest) uint64 {
	all := req.Subject == "" || req.Subject == ">"
	switch {
	case req.Seq == 1:
		return 0
	case all && req.Keep == 0 && req.Seq == 0:
		return m.compact(m.last + 1)
	case all && req.Keep == 0:
		return m.compact(req.Seq)
	}
	seqs := m.live(req.Subject)
	limit := uint64(len(seqs)) - min(uint64(len(seqs)), req.Keep)
	var n uint64
	for _, q := range seqs {
		if n == limit || (req.Seq > 0 && q >= req.Seq) {
			break
		}
		delete(m.msgs, q)
		n++
	}
	m.fixFirst()
	return n
}

func (m *model) state() store.State {
	st := store.State{Msgs: uint64(len(m.msgs)), FirstSeq: m.first, LastSeq: m.last}
	subjs := map[string]bool{}
	for _, r := range m.msgs {
		st.Bytes += m.size(r.subj, r.hdr, r.data)
		subjs[r.subj] = true
	}
	st.NumSubjects = len(subjs)
	if len(m.msgs) > 0 {
		st.NumDeleted = int(m.last-m.first+1) - len(m.msgs)
		st.FirstTime = unixTime(m.msgs[m.first].ts)
	}
	if m.stored {
		st.LastTime = unixTime(m.lastTS)
	}
	return st
}

func (m *model) deleted() []uint64 {
	var out []uint64
	if len(m.msgs) == 0 {
		return nil
	}
	for q := m.first; q <= m.last; q++ {
		if _, ok := m.msgs[q]; !ok {
			out = append(out, q)
		}
	}
	return out
}

func (m *model) next(filter string, start uint64) uint64 {
	for _, q := range m.live(filter) {
		if q >= start {
			return q
		}
	}
	return 0
}

func (m *model) prev(filter string, start uint64) uint64 {
	seqs := m.live(filter)
	for i := len(seqs) - 1; i >= 0; i-- {
		if seqs[i] <= start {
			return seqs[i]
		}
	}
	return 0
}

func (m *model) subjects(filter string) map[string]store.SubjectState {
	out := map[string]store.SubjectState{}
	for _, q := range m.live(filter) {
		ss := out[m.msgs[q].subj]
		if ss.Msgs == 0 {
			ss.First = q
		}
		ss.Msgs++
		ss.Last = q
		out[m.msgs[q].subj] = ss
	}
	return out
}

func (m *model) pending(start uint64, filter string, lastPerSubject bool) uint64 {
	if lastPerSubject {
		var n uint64
		for _, ss := range m.subjects(filter) {
			if ss.Last >= start {
				n++
			}
		}
		return n
	}
	var n uint64
	for _, q := range m.live(filter) {
		if q >= start {
			n++
		}
	}
	return n
}

// checkFilters are the filters check asks about: all, literals, and each
// kind of wildcard, over the subjects the suite's fixtures use.
var checkFilters = []string{"", ">", "a", "a.x", "a.*", "a.>", "*", "*.x", "*.*.*", "b.>", "o.*.new", "nope"}

// checkState compares State with the model's.
func checkState(t *testing.T, st store.Store, m *model) {
	t.Helper()
	got, want := st.State(), m.state()
	if got.Msgs != want.Msgs || got.Bytes != want.Bytes || got.FirstSeq != want.FirstSeq ||
		got.LastSeq != want.LastSeq || got.NumSubjects != want.NumSubjects || got.NumDeleted != want.NumDeleted {
		t.Fatalf("State = %s\nwant    %s", fmtState(got), fmtState(want))
	}
	if !sameTime(got.FirstTime, want.FirstTime) || !sameTime(got.LastTime, want.LastTime) {
		t.Fatalf("State times = %v / %v, want %v / %v", got.FirstTime, got.LastTime, want.FirstTime, want.LastTime)
	}
	if len(got.Lost.Msgs) != 0 || got.Lost.Bytes != 0 {
		t.Fatalf("State reports lost data %+v with no corruption", got.Lost)
	}
}

func fmtState(s store.State) string {
	return fmt.Sprintf("{msgs %d bytes %d seqs [%d, %d] subjects %d deleted %d}",
		s.Msgs, s.Bytes, s.FirstSeq, s.LastSeq, s.NumSubjects, s.NumDeleted)
}

// check compares every read method of st with the model.
func check(t *testing.T, st store.Store, m *model) {
	t.Helper()
	checkState(t, st, m)
	for seq := range m.last + 3 {
		got, err := st.Load(seq)
		checkMsg(t, fmt.Sprintf("Load(%d)", seq), got, err, m, seq, hasSeq(m, seq))
	}
	if want := m.deleted(); !slices.Equal(st.Deleted(0), want) || !slices.Equal(st.Deleted(2), want[:min(2, len(want))]) {
		t.Fatalf("Deleted(0) = %v, Deleted(2) = %v, want %v", st.Deleted(0), st.Deleted(2), want)
	}
	var starts []uint64
	for _, s := range []uint64{0, 1, m.first - 1, m.first, m.first + 1, (m.first + m.last) / 2, m.last - 1, m.last, m.last + 1, m.last + 10} {
		if s <= m.last+10 && !slices.Contains(starts, s) {
			starts = append(starts, s)
		}
	}
	for _, f := range checkFilters {
		for _, start := range starts {
			got, err := st.LoadNext(f, start)
			want := m.next(f, start)
			checkMsg(t, fmt.Sprintf("LoadNext(%q, %d)", f, start), got, err, m, want, want != 0)
			got, err = st.LoadPrev(f, start)
			want = m.prev(f, start)
			checkMsg(t, fmt.Sprintf("LoadPrev(%q, %d)", f, start), got, err, m, want, want != 0)
			for _, lps := range []bool{false, true} {
				if got, want := st.NumPending(start, f, lps), m.pending(start, f, lps); got != want {
					t.Fatalf("NumPending(%d, %q, %v) = %d, want %d", start, f, lps, got, want)
				}
			}
		}
		got, err := st.LoadLast(f)
		want := m.prev(f, m.last)
		checkMsg(t, fmt.Sprintf("LoadLast(%q)", f), got, err, m, want, want != 0)
		if got, want := st.SubjectsState(f), m.subjects(f); !sameSubjects(got, want) {
			t.Fatalf("SubjectsState(%q) = %v, want %v", f, got, want)
		}
	}
}

func hasSeq(m *model, seq uint64) bool { _, ok := m.msgs[seq]; return ok }

// checkMsg checks a load's result: the model's message at seq when found,
// else ErrNotFound.
func checkMsg(t *testing.T, what string, got *store.Msg, err error, m *model, seq uint64, found bool) {
	t.Helper()
	if !found {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s = %v, %v; want ErrNotFound", what, seqOf(got, nil), err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v; want seq %d", what, err, seq)
	}
	r := m.msgs[seq]
	if got.Seq != seq || got.Subject != r.subj || got.Time != r.ts || got.TTL != r.ttl ||
		!bytes.Equal(got.Header, r.hdr) || (got.Header == nil) != (len(r.hdr) == 0) || !bytes.Equal(got.Data, r.data) {
		t.Fatalf("%s = {seq %d %q time %d ttl %d hdr %q data %q}\nwant   {seq %d %q time %d ttl %d hdr %q data %q}",
			what, got.Seq, got.Subject, got.Time, got.TTL, got.Header, got.Data, seq, r.subj, r.ts, r.ttl, r.hdr, r.data)
	}
}

func sameSubjects(got, want map[string]store.SubjectState) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// testModel drives a store and the model through the same random
// operations (seeded, so a failure replays) and compares them throughout.
func (s suite) testModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			st, m := s.open(t), newModel(s.size)
			rng := rand.New(rand.NewPCG(seed, 0x5742))
			subjects := []string{"a", "b", "a.x", "a.y", "b.x", "a.x.z", "o.eu.new", "c.d.e"}
			filters := append(slices.Clone(checkFilters), "a.x.z", "b.x", "*.*")
			for op := range 400 {
				s.randomOp(t, st, m, rng, op, subjects, filters)
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

func (s suite) randomOp(t *testing.T, st store.Store, m *model, rng *rand.Rand, op int, subjects, filters []string) {
	t.Helper()
	// A sequence in or just around the store's range.
	around := func() uint64 {
		lo, hi := m.first-min(m.first, 1), m.last+2
		return lo + rng.Uint64N(hi-lo+1)
	}
	switch p := rng.IntN(100); {
	case p < 55:
		r := rec{subj: subjects[rng.IntN(len(subjects))], ts: ts(uint64(op + 1)), data: fmt.Appendf(nil, "op%d", op)}
		if rng.IntN(3) == 0 {
			r.hdr = fmt.Appendf(nil, "NATS/1.0\r\nOp: %d\r\n\r\n", op)
		}
		if rng.IntN(4) == 0 {
			r.ttl = rng.Int64N(1e12)
		}
		appendRec(t, st, m, r)
	case p < 75:
		seq := around()
		ok, err := st.Delete(seq, rng.IntN(2) == 0)
		if want := m.remove(seq); ok != want || err != nil {
			t.Fatalf("op %d: Delete(%d) = %v, %v; want %v", op, seq, ok, err, want)
		}
	case p < 80:
		seq, err := st.Skip()
		if want := m.skip(); seq != want || err != nil {
			t.Fatalf("op %d: Skip() = %d, %v; want %d", op, seq, err, want)
		}
	case p < 92:
		req := store.PurgeRequest{Subject: filters[rng.IntN(len(filters))]}
		switch rng.IntN(3) { // Seq and Keep together are refused by the API
		case 1:
			req.Seq = around()
		case 2:
			req.Keep = rng.Uint64N(4)
		}
		n, err := st.Purge(req)
		if want := m.purge(req); n != want || err != nil {
			t.Fatalf("op %d: Purge(%+v) = %d, %v; want %d", op, req, n, err, want)
		}
	default:
		seq := around()
		n, err := st.Compact(seq)
		if want := m.compact(seq); n != want || err != nil {
			t.Fatalf("op %d: Compact(%d) = %d, %v; want %d", op, seq, n, err, want)
		}
	}
}
