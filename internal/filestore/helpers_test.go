package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/subject"
	"github.com/starling-mq/starling/internal/vfs"
)

// testLogger sends the store's log to the test log, so recovery messages
// show up next to a failure.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

const testDir = "/data/stream"

func mustOpen(t testing.TB, fsys vfs.FS, cfg Config) *Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := Open(fsys, testDir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// locked runs fn with the store's lock held: tests that look at segments
// while maintenance may be rewriting them read them this way.
func locked(s *Store, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// indexed loads g's index (it may have been dropped, see lazy.go) and
// returns g.
func indexed(s *Store, g *segment) *segment {
	locked(s, func() { s.indexLocked(g) })
	return g
}

// segCount is the number of segments, read under the lock.
func segCount(s *Store) (n int) {
	locked(s, func() { n = len(s.segs) })
	return n
}

func mustAppend(t testing.TB, s *Store, subj string, hdr, data []byte) uint64 {
	t.Helper()
	seq, err := s.Append(subj, hdr, data, time.Now().UnixNano(), 0)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return seq
}

func mustSync(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func mustClose(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// model is the reference a store is compared with: a map of messages and
// the sequence rules of nats-server's file store.
type model struct {
	msgs  map[uint64]*store.Msg
	last  uint64
	floor uint64
	ltime int64
}

func newModel() *model { return &model{msgs: map[uint64]*store.Msg{}} }

func (m *model) first() uint64 {
	if len(m.msgs) > 0 {
		return slices.Min(slices.Collect(maps.Keys(m.msgs)))
	}
	if m.last == 0 && m.floor == 0 {
		return 0
	}
	return max(m.last+1, m.floor)
}

func (m *model) append(subj string, hdr, data []byte, ts, ttl int64) uint64 {
	m.last++
	m.msgs[m.last] = &store.Msg{Seq: m.last, Time: ts, Subject: subj, Header: hdr, Data: data, TTL: ttl}
	m.ltime = ts
	return m.last
}

func (m *model) purgeAll(floor uint64) uint64 {
	n := uint64(len(m.msgs))
	clear(m.msgs)
	if floor > 0 {
		m.last = max(m.last, floor-1)
	}
	m.floor = max(m.floor, m.last+1)
	return n
}

func (m *model) compact(seq uint64) uint64 {
	if seq == 0 {
		return 0
	}
	if seq > m.last {
		return m.purgeAll(seq)
	}
	var n uint64
	for q := range m.msgs {
		if q < seq {
			delete(m.msgs, q)
			n++
		}
	}
	m.floor = max(m.floor, seq)
	return n
}

func (m *model) matching(filter string) []uint64 {
	var out []uint64
	for q, msg := range m.msgs {
		if filter == "" || filter == ">" || subject.Matches(filter, msg.Subject) {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out
}

func (m *model) purge(req store.PurgeRequest) uint64 {
	all := req.Subject == "" || req.Subject == ">"
	if all && req.Keep == 0 {
		switch req.Seq {
		case 0:
			return m.purgeAll(0)
		case 1:
			return 0
		}
		return m.compact(req.Seq)
	}
	match := m.matching(req.Subject)
	limit := uint64(len(match))
	if req.Keep > 0 {
		limit -= min(limit, req.Keep)
	}
	var n uint64
	for _, q := range match {
		if n >= limit || (req.Seq > 0 && q >= req.Seq) {
			break
		}
		delete(m.msgs, q)
		n++
	}
	return n
}

// check compares every read of s with the model.
func (m *model) check(t *testing.T, s store.Store, filters []string) {
	t.Helper()
	st := s.State()
	want := store.State{Msgs: uint64(len(m.msgs)), FirstSeq: m.first(), LastSeq: m.last}
	subjects := map[string]bool{}
	for _, msg := range m.msgs {
		want.Bytes += store.FileMsgSize(msg.Subject, msg.Header, msg.Data)
		subjects[msg.Subject] = true
	}
	want.NumSubjects = len(subjects)
	if want.Msgs > 0 {
		want.NumDeleted = int(want.LastSeq - want.FirstSeq + 1 - want.Msgs)
	}
	got := st
	got.FirstTime, got.LastTime, got.Lost = time.Time{}, time.Time{}, store.LostData{}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("State = %+v\nwant    %+v", got, want)
	}
	if want.Msgs > 0 {
		if ft := m.msgs[want.FirstSeq].Time; st.FirstTime.UnixNano() != ft {
			t.Fatalf("FirstTime = %v, want %v", st.FirstTime.UnixNano(), ft)
		}
	}
	if m.ltime != 0 && st.LastTime.UnixNano() != m.ltime {
		t.Fatalf("LastTime = %v, want %v", st.LastTime.UnixNano(), m.ltime)
	}
	for q := uint64(0); q <= m.last+2; q++ {
		msg, err := s.Load(q)
		checkMsg(t, fmt.Sprintf("Load(%d)", q), msg, err, m.msgs[q])
	}
	var deleted []uint64
	if len(m.msgs) > 0 {
		for q := m.first(); q <= m.last; q++ {
			if m.msgs[q] == nil {
				deleted = append(deleted, q)
			}
		}
	}
	if got := s.Deleted(0); !slices.Equal(got, deleted) {
		t.Fatalf("Deleted = %v, want %v", got, deleted)
	}
	if len(deleted) > 2 {
		if got := s.Deleted(2); !slices.Equal(got, deleted[:2]) {
			t.Fatalf("Deleted(2) = %v, want %v", got, deleted[:2])
		}
	}
	for _, f := range filters {
		m.checkFilter(t, s, f)
	}
}

func (m *model) checkFilter(t *testing.T, s store.Store, f string) {
	t.Helper()
	match := m.matching(f)
	starts := []uint64{0, 1, m.first(), m.last / 2, m.last, m.last + 1}
	if len(match) > 0 {
		starts = append(starts, match[0], match[len(match)/2], match[len(match)-1], match[len(match)-1]+1)
	}
	for _, start := range starts {
		var next, prev *store.Msg
		var pending uint64
		for _, q := range match {
			if q >= start {
				if next == nil {
					next = m.msgs[q]
				}
				pending++
			}
			if q <= start {
				prev = m.msgs[q]
			}
		}
		msg, err := s.LoadNext(f, start)
		checkMsg(t, fmt.Sprintf("LoadNext(%q, %d)", f, start), msg, err, next)
		msg, err = s.LoadPrev(f, start)
		checkMsg(t, fmt.Sprintf("LoadPrev(%q, %d)", f, start), msg, err, prev)
		if got := s.NumPending(start, f, false); got != pending {
			t.Fatalf("NumPending(%d, %q) = %d, want %d", start, f, got, pending)
		}
		lastOf := map[string]uint64{}
		for _, q := range match {
			lastOf[m.msgs[q].Subject] = q
		}
		var lps uint64
		for _, q := range lastOf {
			if q >= max(start, 1) {
				lps++
			}
		}
		if got := s.NumPending(start, f, true); got != lps {
			t.Fatalf("NumPending(%d, %q, last) = %d, want %d", start, f, got, lps)
		}
	}
	var last *store.Msg
	if len(match) > 0 {
		last = m.msgs[match[len(match)-1]]
	}
	msg, err := s.LoadLast(f)
	checkMsg(t, fmt.Sprintf("LoadLast(%q)", f), msg, err, last)

	want := map[string]store.SubjectState{}
	for _, q := range match {
		ss := want[m.msgs[q].Subject]
		if ss.Msgs == 0 {
			ss.First = q
		}
		ss.Msgs++
		ss.Last = q
		want[m.msgs[q].Subject] = ss
	}
	if got := s.SubjectsState(f); !maps.Equal(got, want) {
		t.Fatalf("SubjectsState(%q) = %v, want %v", f, got, want)
	}
}

func checkMsg(t *testing.T, what string, got *store.Msg, err error, want *store.Msg) {
	t.Helper()
	if want == nil {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s = %+v, %v; want ErrNotFound", what, got, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v (want seq %d)", what, err, want.Seq)
	}
	if got.Seq != want.Seq || got.Subject != want.Subject || got.Time != want.Time || got.TTL != want.TTL ||
		!bytes.Equal(got.Header, want.Header) || !bytes.Equal(got.Data, want.Data) || (len(want.Header) == 0) != (got.Header == nil) {
		t.Fatalf("%s = %+v\nwant %+v", what, got, want)
	}
}

// nopLogger silences stores opened in loops where damage is expected.
var nopLogger = slog.New(slog.DiscardHandler)

var errNoSpace = syscall.ENOSPC
