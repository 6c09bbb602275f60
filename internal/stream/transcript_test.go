package stream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/filestore"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream/transcript"
	"github.com/starling-mq/starling/internal/vfs"
)

// Transcripts of entries and proposals (testdata/apply, testdata/propose).
//
// Entries are written one a line, with times as offsets from t0:
//
//	msg seq=3 ts=1s subj=S.a id=x ttl=5s rollup=sub hdr.Nats-Msg-Id=x data=hello
//	skip seq=4 ts=2s id=y
//
// Commands:
//
//	stream key=value…   a fresh stream: the defaults of baseConfig("S")
//	                    with stream configuration fields set by their JSON
//	                    names (durations as Go durations, a bare name is
//	                    true)
//	apply               (apply files) the input's entries, each applied to
//	                    every replica; prints each one's result
//	pub subj=… hdr.K=V data=…
//	                    (propose files) propose a publish on the leader:
//	                    prints the error, the duplicate, or the entry,
//	                    which is then applied to the leader and a follower
//	clock +d            (propose files) move the leader's clock
//	consumers n         (propose files) the leader's consumer count
//	state               the stream's state, the same on every replica

// t0 is the time entries' ts and ttl offsets count from.
var t0 = time.Unix(1_700_000_000, 0)

func TestApplyTranscripts(t *testing.T) {
	runTranscripts(t, "testdata/apply/*.txt", applyCase)
}

func TestProposeTranscripts(t *testing.T) {
	runTranscripts(t, "testdata/propose/*.txt", proposeCase)
}

func runTranscripts(t *testing.T, pattern string, fn func(*testing.T, *tstate, *transcript.Case) string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s: %v", pattern, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			st := &tstate{}
			transcript.Run(t, f, func(t *testing.T, c *transcript.Case) string { return fn(t, st, c) })
		})
	}
}

// tstate is what a transcript builds up. In apply files every replica is
// alike; in propose files replicas[0] is the leader, which proposes, and
// the others only apply.
type tstate struct {
	replicas []*Stream
	clock    *clock
}

// replica makes a stream whose clock must not be read once armed: apply
// reads no clock, and a replica that only applies proves it. (New and
// Close may read it.)
func replica(t *testing.T, cfg jsapi.StreamConfig, st store.Store) (*Stream, *atomic.Bool) {
	t.Helper()
	armed := &atomic.Bool{}
	s, err := New(cfg, Options{Store: st, Out: discard{}, Created: t0, Now: func() time.Time {
		if armed.Load() {
			panic("apply read the clock")
		}
		return t0
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { armed.Store(false); s.Close() })
	armed.Store(true)
	return s, armed
}

// streamConfig reads the stream command's arguments.
func streamConfig(c *transcript.Case) (jsapi.StreamConfig, error) {
	cfg := baseConfig("S")
	for _, f := range c.Args {
		v := "true"
		switch {
		case f.Bare:
		case isInt(f.Val) || f.Val == "true" || f.Val == "false":
			v = f.Val
		default:
			if d, err := time.ParseDuration(f.Val); err == nil {
				v = strconv.FormatInt(int64(d), 10)
			} else {
				v = strconv.Quote(f.Val)
			}
		}
		if err := json.Unmarshal([]byte(`{"`+f.Key+`":`+v+`}`), &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", f.Key, err)
		}
	}
	return cfg, nil
}

func isInt(s string) bool { _, err := strconv.ParseInt(s, 10, 64); return err == nil }

func applyCase(t *testing.T, ts *tstate, c *transcript.Case) string {
	switch c.Cmd {
	case "stream":
		cfg, err := streamConfig(c)
		if err != nil {
			return "error: " + err.Error()
		}
		// Two memory replicas and one on a file store: apply does not
		// depend on the storage. (Byte accounting does, so apply files
		// leave max_bytes alone.)
		fst, err := filestore.Open(vfs.NewMem(), "/s", filestore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		ts.replicas = nil
		for _, st := range []store.Store{store.NewMemory(), store.NewMemory(), fst} {
			s, _ := replica(t, cfg, st)
			ts.replicas = append(ts.replicas, s)
		}
		return "ok"
	case "apply":
		var out []string
		for _, line := range c.Input {
			e, err := parseEntry(line)
			if err != nil {
				t.Fatalf("%s: %v", c.Pos, err)
			}
			out = append(out, same(t, c, ts.replicas, func(s *Stream) string { return applied(s, e) }))
		}
		return strings.Join(out, "\n")
	case "state":
		return same(t, c, ts.replicas, dumpState)
	}
	t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
	return ""
}

func proposeCase(t *testing.T, ts *tstate, c *transcript.Case) string {
	switch c.Cmd {
	case "stream":
		cfg, err := streamConfig(c)
		if err != nil {
			return "error: " + err.Error()
		}
		ts.clock = &clock{t: t0}
		leader, err := New(cfg, Options{Store: store.NewMemory(), Out: discard{}, Created: t0, Now: ts.clock.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { leader.Close() })
		follower, _ := replica(t, cfg, store.NewMemory())
		ts.replicas = []*Stream{leader, follower}
		return "ok"
	case "clock":
		d, err := time.ParseDuration(strings.TrimPrefix(c.Args[0].Key, "+"))
		if err != nil {
			t.Fatalf("%s: %v", c.Pos, err)
		}
		ts.clock.add(d)
		return "now " + offset(ts.clock.t.UnixNano())
	case "consumers":
		n, err := strconv.Atoi(c.Args[0].Key)
		if err != nil {
			t.Fatalf("%s: %v", c.Pos, err)
		}
		ts.replicas[0].SetConsumerCount(n)
		return "ok"
	case "pub":
		return ts.pub(t, c)
	case "state":
		return same(t, c, ts.replicas, dumpState)
	}
	t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
	return ""
}

// pub proposes on the leader (checking that proposing changed nothing)
// and applies the entry on every replica.
func (ts *tstate) pub(t *testing.T, c *transcript.Case) string {
	subj, _ := c.Arg("subj")
	data, _ := c.Arg("data")
	hdr := headerOf(c.Args)
	leader := ts.replicas[0]
	before := dumpState(leader)
	leader.mu.Lock()
	var e Entry
	r, ok := leader.proposeLocked(subj, hdr, []byte(data), &e)
	leader.mu.Unlock()
	if after := dumpState(leader); after != before {
		t.Fatalf("%s: proposing changed the state:\n%s\nwas\n%s", c.Pos, after, before)
	}
	switch {
	case !ok && r.err != nil:
		return fmt.Sprintf("error %d %s", r.err.ErrCode, r.err.Description)
	case !ok && r.dup:
		return fmt.Sprintf("duplicate of %d", r.seq)
	case !ok:
		return "traced"
	}
	out := formatEntry(&e)
	if res := same(t, c, ts.replicas, func(s *Stream) string { return applied(s, e) }); res != fmt.Sprintf("seq %d", e.Seq) {
		out += "\napplied: " + res
	}
	return out
}

// applied applies e on s and words the result. e is copied: apply must
// not depend on sharing its buffers with another replica.
func applied(s *Stream, e Entry) string {
	e.Header, e.Data = bytes.Clone(e.Header), bytes.Clone(e.Data)
	s.mu.Lock()
	r := s.applyLocked(&e)
	s.mu.Unlock()
	if r.err != nil {
		return fmt.Sprintf("error %d %s", r.err.ErrCode, r.err.Description)
	}
	return fmt.Sprintf("seq %d", r.seq)
}

// same runs fn on every replica and fails unless all give the same text.
func same(t *testing.T, c *transcript.Case, reps []*Stream, fn func(*Stream) string) string {
	t.Helper()
	var first string
	for i, s := range reps {
		got := fn(s)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("%s: replica %d differs from replica 0:\n%s\nreplica 0:\n%s", c.Pos, i, got, first)
		}
	}
	return first
}

// dumpState words what apply determines: sequences, subjects, messages,
// the de-duplication window, the last message ID, the TTL index.
func dumpState(s *Stream) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st.State()
	var b strings.Builder
	fmt.Fprintf(&b, "first=%d last=%d msgs=%d", st.FirstSeq, st.LastSeq, st.Msgs)
	if d := s.st.Deleted(0); len(d) > 0 {
		b.WriteString(" deleted=" + seqRanges(d))
	}
	if s.last != st.LastSeq {
		fmt.Fprintf(&b, " STREAM-LAST=%d", s.last)
	}
	subs := s.st.SubjectsState(">")
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	slices.Sort(names)
	b.WriteString("\nsubjects")
	for _, n := range names {
		fmt.Fprintf(&b, " %s=%d", n, subs[n].Msgs)
	}
	b.WriteString("\ndedup")
	type kept struct {
		id  string
		seq uint64
	}
	var ids []kept
	for id, e := range s.dedup.ids {
		ids = append(ids, kept{id, e.seq})
	}
	slices.SortFunc(ids, func(a, b kept) int { return int(a.seq) - int(b.seq) })
	for _, k := range ids {
		fmt.Fprintf(&b, " %s=%d", k.id, k.seq)
	}
	if s.lmsgID != "" {
		fmt.Fprintf(&b, " last_id=%s", s.lmsgID)
	}
	if len(s.ttls) > 0 {
		ttls := slices.Clone(s.ttls)
		slices.SortFunc(ttls, func(a, b ttlItem) int { return int(a.seq) - int(b.seq) })
		b.WriteString("\nttls")
		for _, it := range ttls {
			fmt.Fprintf(&b, " %d@%s", it.seq, offset(it.at))
		}
	}
	for seq := st.FirstSeq; st.Msgs > 0 && seq <= st.LastSeq; seq++ {
		m, err := s.st.Load(seq)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "\n%d %s ts=%s", m.Seq, m.Subject, offset(m.Time))
		if m.TTL != 0 {
			fmt.Fprintf(&b, " ttl=%s", time.Duration(m.TTL))
		}
		b.WriteString(headerFields(m.Header))
		if len(m.Data) > 0 {
			b.WriteString(" data=" + transcript.Value(string(m.Data)))
		}
	}
	return b.String()
}

// seqRanges words ascending sequences as ranges: "3-4,6".
func seqRanges(seqs []uint64) string {
	var parts []string
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.FormatUint(seqs[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", seqs[i], seqs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func offset(ns int64) string { return time.Duration(ns - t0.UnixNano()).String() }

// parseEntry reads an entry line.
func parseEntry(line string) (Entry, error) {
	fields, err := transcript.Fields(line)
	if err != nil || len(fields) == 0 {
		return Entry{}, fmt.Errorf("bad entry %q: %v", line, err)
	}
	var e Entry
	switch fields[0].Key {
	case "msg":
		e.Kind = EntryMsg
	case "skip":
		e.Kind = EntrySkip
	default:
		return e, fmt.Errorf("entry kind %q", fields[0].Key)
	}
	e.Header = headerOf(fields)
	for _, f := range fields[1:] {
		var err error
		switch f.Key {
		case "seq":
			e.Seq, err = strconv.ParseUint(f.Val, 10, 64)
		case "ts":
			var d time.Duration
			d, err = time.ParseDuration(f.Val)
			e.Time = t0.UnixNano() + int64(d)
		case "ttl":
			var d time.Duration
			d, err = time.ParseDuration(f.Val)
			e.TTL = int64(d)
		case "subj":
			e.Subject = f.Val
		case "id":
			e.MsgID = f.Val
		case "data":
			e.Data = []byte(f.Val)
		case "rollup":
			switch f.Val {
			case "sub":
				e.Rollup = RollupSubject
			case "all":
				e.Rollup = RollupAll
			default:
				err = fmt.Errorf("rollup %q", f.Val)
			}
		default:
			if !strings.HasPrefix(f.Key, "hdr.") {
				err = fmt.Errorf("unknown field")
			}
		}
		if err != nil {
			return e, fmt.Errorf("%s in %q: %v", f.Key, line, err)
		}
	}
	return e, nil
}

// formatEntry is parseEntry's inverse.
func formatEntry(e *Entry) string {
	var b strings.Builder
	if e.Kind == EntrySkip {
		b.WriteString("skip")
	} else {
		b.WriteString("msg")
	}
	fmt.Fprintf(&b, " seq=%d ts=%s", e.Seq, offset(e.Time))
	if e.Subject != "" && e.Kind == EntryMsg {
		b.WriteString(" subj=" + e.Subject)
	}
	if e.MsgID != "" {
		b.WriteString(" id=" + transcript.Value(e.MsgID))
	}
	if e.TTL != 0 {
		fmt.Fprintf(&b, " ttl=%s", time.Duration(e.TTL))
	}
	switch e.Rollup {
	case RollupSubject:
		b.WriteString(" rollup=sub")
	case RollupAll:
		b.WriteString(" rollup=all")
	}
	b.WriteString(headerFields(e.Header))
	if len(e.Data) > 0 {
		b.WriteString(" data=" + transcript.Value(string(e.Data)))
	}
	return b.String()
}

// headerOf builds a header block from hdr.K=V fields, nil without any.
func headerOf(fields []transcript.Field) []byte {
	var h *proto.HeaderBuilder
	for _, f := range fields {
		if k, ok := strings.CutPrefix(f.Key, "hdr."); ok {
			if h == nil {
				h = proto.NewHeader(0, "")
			}
			h.Add(k, f.Val)
		}
	}
	if h == nil {
		return nil
	}
	return h.Bytes()
}

// headerFields words a header block as hdr.K=V fields.
func headerFields(hdr []byte) string {
	var b strings.Builder
	lines := strings.Split(string(hdr), "\r\n")
	for _, l := range lines[min(1, len(lines)):] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			b.WriteString(" hdr." + k + "=" + transcript.Value(strings.TrimSpace(v)))
		}
	}
	return b.String()
}
