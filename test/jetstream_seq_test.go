package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// segFilesOf lists a stream's segment files.
func segFilesOf(t *testing.T, dir, stream string) []string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", stream, "msgs", "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segments for %s: %v", stream, err)
	}
	return segs
}

// TestJetStreamSeqAfterLostTail loses acknowledged messages between two
// runs (the tail of one stream's log cut off, every segment of a KV bucket
// deleted, the only segment of a purged stream deleted): sequences must
// continue above every one handed out before, for publishes, KV revisions,
// expected-last-sequence checks and consumers, and the missing messages
// must be reported lost in stream info, /jsz and /metrics.
func TestJetStreamSeqAfterLostTail(t *testing.T) {
	dir := t.TempDir()
	s1 := startJSManual(t, dir)
	_, js := jsConnect(t, s1)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})
	for i := 1; i <= 20; i++ {
		if _, err := js.Publish(c, "s.x", fmt.Appendf(nil, "payload-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.CreateOrUpdateConsumer(c, "S", jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(20, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 20 {
		t.Fatalf("consumed %d of 20", n)
	}
	kv, err := js.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "KV"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if rev, err := kv.Put(c, "k", fmt.Appendf(nil, "v%d", i)); err != nil || rev != uint64(i) {
			t.Fatalf("put: %d %v", rev, err)
		}
	}
	mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p"}})
	for range 10 {
		if _, err := js.Publish(c, "p", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	ps, _ := js.Stream(c, "P")
	if err := ps.Purge(c); err != nil {
		t.Fatal(err)
	}
	if err := s1.Shutdown(c); err != nil {
		t.Fatal(err)
	}

	// Cut S's log inside message 16: 16 to 20 are gone.
	segs := segFilesOf(t, dir, "S")
	last := segs[len(segs)-1]
	b, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("payload-16"))
	if i < 0 {
		t.Fatalf("message 16 not in %s", last)
	}
	if err := os.Truncate(last, int64(i)); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"KV_KV", "P"} {
		for _, seg := range segFilesOf(t, dir, stream) {
			if err := os.Remove(seg); err != nil {
				t.Fatal(err)
			}
		}
	}

	s2 := startJS(t, dir, func(o *serverOptions) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
	_, js2 := jsConnect(t, s2)
	st, err := js2.Stream(c, "S")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.State.LastSeq != 20 || info.State.Msgs != 15 || info.State.Lost == nil ||
		!slices.Equal(info.State.Lost.Msgs, []uint64{16, 17, 18, 19, 20}) {
		t.Fatalf("S after the loss: %+v lost %+v", info.State, info.State.Lost)
	}
	// The next message is 21, and "the last is 20" still holds.
	ack, err := js2.Publish(c, "s.x", []byte("after"), jetstream.WithExpectLastSequence(20))
	if err != nil || ack.Sequence != 21 {
		t.Fatalf("publish after the loss: %+v %v", ack, err)
	}
	// The consumer was past 20: it gets 21, not a new message under an old
	// number.
	cons2, err := js2.Consumer(c, "S", "D")
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons2.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if md, _ := m.Metadata(); md == nil || md.Sequence.Stream != 21 || string(m.Data()) != "after" {
		t.Fatalf("consumer got %v %q", md, m.Data())
	}

	// The KV bucket lost its only live revision; the next one is above it.
	kv2, err := js2.KeyValue(c, "KV")
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := kv2.Put(c, "k", []byte("v6")); err != nil || rev != 6 {
		t.Fatalf("put after the loss: revision %d %v", rev, err)
	}
	kst, _ := js2.Stream(c, "KV_KV")
	if lost := kst.CachedInfo().State.Lost; lost == nil || fmt.Sprint(lost.Msgs) != "[5]" {
		t.Fatalf("KV lost: %+v", lost)
	}

	// The purged stream lost nothing but keeps its place.
	ps2, _ := js2.Stream(c, "P")
	if pst := ps2.CachedInfo().State; pst.LastSeq != 10 || pst.FirstSeq != 11 || pst.Msgs != 0 || pst.Lost != nil {
		t.Fatalf("P after its segment went: %+v", pst)
	}
	if ack, err := js2.Publish(c, "p", []byte("y")); err != nil || ack.Sequence != 11 {
		t.Fatalf("publish to P: %+v %v", ack, err)
	}

	resp, err := http.Get(s2.MonitorURL() + "/jsz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var jsz struct {
		LostMessages uint64 `json:"lost_messages"`
	}
	if err := json.Unmarshal(body, &jsz); err != nil || jsz.LostMessages != 6 {
		t.Fatalf("/jsz: %s (%v)", body, err)
	}
	mresp, err := http.Get(s2.MonitorURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	metrics, _ := io.ReadAll(mresp.Body)
	for _, want := range []string{`starling_stream_lost_messages{account="$G",stream="S"} 5`, `starling_stream_lost_messages{account="$G",stream="KV_KV"} 1`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
