package snapshot

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
)

// expected is what testdata/capture recorded from the server that took
// the archive (its expected.json).
type expected struct {
	Server string `json:"server"`
	State  struct {
		Msgs     uint64 `json:"messages"`
		FirstSeq uint64 `json:"first_seq"`
		LastSeq  uint64 `json:"last_seq"`
	} `json:"state"`
	Msgs []struct {
		Seq     uint64              `json:"seq"`
		Subject string              `json:"subject"`
		Header  map[string][]string `json:"header"`
		Data    string              `json:"data"`
		Time    time.Time           `json:"time"`
	} `json:"msgs"`
	Consumers []struct {
		Name      string `json:"name"`
		Delivered struct {
			Consumer uint64 `json:"consumer_seq"`
			Stream   uint64 `json:"stream_seq"`
		} `json:"delivered"`
		AckFloor struct {
			Consumer uint64 `json:"consumer_seq"`
			Stream   uint64 `json:"stream_seq"`
		} `json:"ack_floor"`
		NumAckPending  int `json:"num_ack_pending"`
		NumRedelivered int `json:"num_redelivered"`
	} `json:"consumers"`
}

func readExpected(t *testing.T, name string) *expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

type replayed struct {
	seq     uint64
	subject string
	header  []byte
	data    []byte
	time    int64
}

func replayAll(t *testing.T, archive []byte, m *Manifest, stream string) []replayed {
	t.Helper()
	var got []replayed
	err := Replay(bytes.NewReader(archive), m, stream, func(r *Record) error {
		got = append(got, replayed{r.Seq, string(r.Subject), bytes.Clone(r.Header), bytes.Clone(r.Data), r.Time})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Archives taken by nats-server 2.9.10 and 2.11.8 (testdata/gen.sh) give
// back exactly the messages the server held: deletes by limits at the
// head and in the middle, a removed, an erased and a removed last message
// are all honoured, and the consumers' states are those the server
// reported.
func TestReadNatsServerArchives(t *testing.T) {
	for _, name := range []string{"nats-server-2.9.10", "nats-server-2.11.8"} {
		t.Run(name, func(t *testing.T) {
			archive, err := os.ReadFile(filepath.Join("testdata", name+".tar.s2"))
			if err != nil {
				t.Fatal(err)
			}
			exp := readExpected(t, name)
			m, err := Scan(bytes.NewReader(archive), "ORDERS", DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m.LastSeq != exp.State.LastSeq {
				t.Errorf("last sequence %d, want %d", m.LastSeq, exp.State.LastSeq)
			}
			got := replayAll(t, archive, m, "ORDERS")
			if len(got) != len(exp.Msgs) {
				t.Fatalf("%d messages, want %d: %v", len(got), len(exp.Msgs), got)
			}
			for i, want := range exp.Msgs {
				g := got[i]
				if g.seq != want.Seq || g.subject != want.Subject || string(g.data) != want.Data || g.time != want.Time.UnixNano() {
					t.Fatalf("message %d: got %d %q %q %d, want %d %q %q %d", i, g.seq, g.subject, g.data, g.time, want.Seq, want.Subject, want.Data, want.Time.UnixNano())
				}
				for k, v := range want.Header {
					if hv, ok := proto.HeaderValue(g.header, k); !ok || hv != v[0] {
						t.Fatalf("message %d: header %s = %q, want %q", g.seq, k, hv, v[0])
					}
				}
			}
			checkConsumers(t, m, exp)
		})
	}
}

func checkConsumers(t *testing.T, m *Manifest, exp *expected) {
	t.Helper()
	if len(m.Consumers) != len(exp.Consumers) {
		t.Fatalf("%d consumers, want %d", len(m.Consumers), len(exp.Consumers))
	}
	for i, want := range exp.Consumers {
		c := m.Consumers[i]
		if c.Meta.Name != want.Name || c.Meta.Config.Durable != want.Name {
			t.Fatalf("consumer %d is %q (durable %q), want %q", i, c.Meta.Name, c.Meta.Config.Durable, want.Name)
		}
		st := c.State
		if st == nil {
			t.Fatalf("consumer %s has no state", want.Name)
		}
		if st.Delivered != (SequencePair{want.Delivered.Consumer, want.Delivered.Stream}) ||
			st.AckFloor != (SequencePair{want.AckFloor.Consumer, want.AckFloor.Stream}) {
			t.Errorf("consumer %s: delivered %+v floor %+v, want %+v %+v", want.Name, st.Delivered, st.AckFloor, want.Delivered, want.AckFloor)
		}
		if len(st.Pending) != want.NumAckPending || len(st.Redelivered) != want.NumRedelivered {
			t.Errorf("consumer %s: %d pending %d redelivered, want %d %d", want.Name, len(st.Pending), len(st.Redelivered), want.NumAckPending, want.NumRedelivered)
		}
	}
}

// writeArchive writes an archive of msgs (nil entries are deleted
// sequences) ending at lastSeq, with the given consumers.
func writeArchive(t *testing.T, cfg jsapi.StreamConfig, msgs []*Record, lastSeq uint64, consumers []Consumer) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, cfg, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.blockSize = 64 << 10 // several blocks without megabytes of test data
	for _, r := range msgs {
		if err := w.Append(r.Seq, r.Time, string(r.Subject), r.Header, r.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.EndMessages(lastSeq, 42); err != nil {
		t.Fatal(err)
	}
	for _, c := range consumers {
		if err := w.AddConsumer(c.Meta, c.State, time.Unix(1700000100, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArchiveRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 3_000)
	var msgs []*Record
	for seq := uint64(5); seq <= 80; seq++ {
		if seq%7 == 0 {
			continue // deleted
		}
		r := &Record{Seq: seq, Time: int64(seq) * 1000, Subject: []byte(fmt.Sprintf("s.%d", seq%3)), Data: payload[:int(seq)*350]}
		if seq%2 == 0 {
			r.Header = []byte("NATS/1.0\r\nN: " + fmt.Sprint(seq) + "\r\n\r\n")
		}
		msgs = append(msgs, r)
	}
	cons := []Consumer{
		{Meta: &ConsumerMeta{Created: time.Unix(1700000050, 0).UTC(), Name: "A", Config: jsapi.ConsumerConfig{Durable: "A", Name: "A", AckPolicy: jsapi.AckExplicit}},
			State: &ConsumerState{Delivered: SequencePair{10, 20}, AckFloor: SequencePair{4, 12},
				Pending:     map[uint64]Pending{15: {7, 1700000090 * int64(time.Second)}, 19: {9, 1700000095 * int64(time.Second)}},
				Redelivered: map[uint64]uint64{15: 2}}},
		{Meta: &ConsumerMeta{Created: time.Unix(1700000060, 0).UTC(), Name: "B", Config: jsapi.ConsumerConfig{Name: "B"}}},
	}
	cfg := jsapi.StreamConfig{Name: "RT", Subjects: []string{"s.*"}}
	archive := writeArchive(t, cfg, msgs, 90, cons)

	m, err := Scan(bytes.NewReader(archive), "RT", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Blocks) < 2 {
		t.Fatalf("%d blocks, want several", len(m.Blocks))
	}
	if m.LastSeq != 90 || m.Records != uint64(len(msgs)) {
		t.Fatalf("last %d records %d, want 90 and %d", m.LastSeq, m.Records, len(msgs))
	}
	if !m.Stream.Created.Equal(time.Unix(1700000000, 0)) || m.Stream.Name != "RT" {
		t.Fatalf("stream meta %+v", m.Stream)
	}
	got := replayAll(t, archive, m, "RT")
	if len(got) != len(msgs) {
		t.Fatalf("%d messages back, want %d", len(got), len(msgs))
	}
	for i, r := range msgs {
		g := got[i]
		if g.seq != r.Seq || g.subject != string(r.Subject) || !bytes.Equal(g.header, r.Header) || !bytes.Equal(g.data, r.Data) || g.time != r.Time {
			t.Fatalf("message %d differs", r.Seq)
		}
	}
	if len(m.Consumers) != 2 {
		t.Fatalf("%d consumers", len(m.Consumers))
	}
	a, b := m.Consumers[0], m.Consumers[1]
	if !reflect.DeepEqual(a.Meta, cons[0].Meta) || !reflect.DeepEqual(a.State, cons[0].State) {
		t.Fatalf("consumer A: %+v %+v", a.Meta, a.State)
	}
	if b.State != nil || b.Meta.Name != "B" {
		t.Fatalf("consumer B: %+v %+v", b.Meta, b.State)
	}
}

// A stream whose messages are all gone keeps its last sequence.
func TestArchiveEmptyStream(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "E"}
	for _, last := range []uint64{0, 1, 1000} {
		archive := writeArchive(t, cfg, nil, last, nil)
		m, err := Scan(bytes.NewReader(archive), "E", DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if m.LastSeq != last || m.Records != 0 {
			t.Fatalf("last %d records %d, want %d and 0", m.LastSeq, m.Records, last)
		}
		if got := replayAll(t, archive, m, "E"); len(got) != 0 {
			t.Fatalf("messages from an empty stream: %v", got)
		}
	}
}

func TestArchiveDamage(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "D"}
	msgs := []*Record{{Seq: 1, Subject: []byte("a"), Data: []byte("one")}, {Seq: 2, Subject: []byte("a"), Data: []byte("two")}}
	good := writeArchive(t, cfg, msgs, 2, []Consumer{{Meta: &ConsumerMeta{Name: "C", Config: jsapi.ConsumerConfig{Durable: "C"}}, State: &ConsumerState{}}})

	if _, err := Scan(bytes.NewReader(good), "OTHER", DefaultLimits); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "can not be changed") {
		t.Fatalf("other stream name: %v", err)
	}
	for _, n := range []int{0, 1, 10, len(good) / 2, len(good) - 1} {
		if _, err := Scan(bytes.NewReader(good[:n]), "D", DefaultLimits); err == nil {
			t.Fatalf("truncated at %d: no error", n)
		}
	}
	// Flip bytes all along: S2's own checksums, tar's and ours catch
	// each one (or it lands where it changes nothing, such as padding).
	for i := 0; i < len(good); i += 3 {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		m, err := Scan(bytes.NewReader(bad), "D", DefaultLimits)
		if err != nil {
			continue
		}
		got := replayAll(t, bad, m, "D")
		if len(got) != 2 || string(got[0].data) != "one" || string(got[1].data) != "two" {
			t.Fatalf("flip at %d changed the messages silently: %v", i, got)
		}
	}

	var buf bytes.Buffer
	w, _ := NewWriter(&buf, cfg, time.Now())
	_ = w.Append(1, 1, "a", nil, []byte("x"))
	_ = w.Fail("could not read block 3")
	_ = w.Close()
	if _, err := Scan(bytes.NewReader(buf.Bytes()), "D", DefaultLimits); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "could not read block 3") {
		t.Fatalf("errors.txt: %v", err)
	}
	lim := DefaultLimits
	lim.MaxMetaLen = 10
	if _, err := Scan(bytes.NewReader(good), "D", lim); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("meta over the limit: %v", err)
	}
}

func TestWriterOrder(t *testing.T) {
	w, err := NewWriter(&bytes.Buffer{}, jsapi.StreamConfig{Name: "O"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(5, 0, "a", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(5, 0, "a", nil, nil); err == nil {
		t.Fatal("repeated sequence accepted")
	}
	if err := w.EndMessages(3, 0); err != nil { // before the last message: nothing to add
		t.Fatal(err)
	}
	if err := w.Append(6, 0, "a", nil, nil); err == nil {
		t.Fatal("append after EndMessages accepted")
	}
}

// failingReader fails after n bytes, like a disk going bad.
type failingReader struct {
	r   *bytes.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// A failure to read the archive is reported as itself, not as damage.
func TestArchiveReadError(t *testing.T) {
	archive := writeArchive(t, jsapi.StreamConfig{Name: "R"}, []*Record{{Seq: 1, Subject: []byte("a"), Data: bytes.Repeat([]byte("x"), 5000)}}, 1, nil)
	boom := errors.New("disk on fire")
	for _, n := range []int{0, 10, len(archive) / 2} {
		_, err := Scan(&failingReader{r: bytes.NewReader(archive), n: n, err: boom}, "R", DefaultLimits)
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
			t.Fatalf("scan failing at %d: %v", n, err)
		}
	}
	m, err := Scan(bytes.NewReader(archive), "R", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	err = Replay(&failingReader{r: bytes.NewReader(archive), n: len(archive) / 2, err: boom}, m, "R", func(*Record) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("replay: %v", err)
	}
}

// Deleted sequences: a short run becomes erased records in the block (so
// each block's sequences are consecutive, as nats-server 2.9 needs), a
// long run starts a new block.
func TestWriterGaps(t *testing.T) {
	msgs := []*Record{
		{Seq: 3, Subject: []byte("a")},
		{Seq: 4, Subject: []byte("a")},
		{Seq: 10, Subject: []byte("a")},                    // 5-9 erased
		{Seq: 10 + maxErasedRun + 1, Subject: []byte("a")}, // 32 erased
		{Seq: 200, Subject: []byte("a")},                   // new block
	}
	archive := writeArchive(t, jsapi.StreamConfig{Name: "G"}, msgs, 500, nil)
	m, err := Scan(bytes.NewReader(archive), "G", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	// Block 1: 3..43 consecutive; block 2: 200; block 3: the erased 500.
	if len(m.Blocks) != 3 || m.LastSeq != 500 || m.Records != 5 {
		t.Fatalf("blocks %v last %d records %d", m.Blocks, m.LastSeq, m.Records)
	}
	var seqs []uint64
	tr := tarMembers(t, archive)
	rr := NewRecordReader(bytes.NewReader(tr["msgs/1.blk"]), "G", 1)
	for {
		var rec Record
		if err := rr.Next(&rec); err != nil {
			break
		}
		seqs = append(seqs, rec.Seq)
	}
	for i, s := range seqs {
		if s != uint64(3+i) {
			t.Fatalf("block 1 sequences %v are not consecutive", seqs)
		}
	}
	if len(seqs) != 41 {
		t.Fatalf("block 1 holds %d records", len(seqs))
	}
	if got := replayAll(t, archive, m, "G"); len(got) != 5 {
		t.Fatalf("replayed %d", len(got))
	}
}

// tarMembers unpacks an archive (tests only).
func tarMembers(t *testing.T, archive []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(s2.NewReader(bytes.NewReader(archive)))
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

// An archive of nats-server 2.15's own format is refused by name.
func TestArchiveNewFormatRefused(t *testing.T) {
	var buf bytes.Buffer
	w := s2.NewWriter(&buf)
	_, _ = w.Write([]byte("NATSARC1 and the rest of a 2.15 archive"))
	_ = w.Close()
	_, err := Scan(bytes.NewReader(buf.Bytes()), "S", DefaultLimits)
	if !errors.Is(err, ErrNewFormat) || !strings.Contains(err.Error(), "2.15") {
		t.Fatalf("2.15 archive: %v", err)
	}
}
