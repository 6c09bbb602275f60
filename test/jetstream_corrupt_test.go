package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// TestJetStreamCorruptRecord damages one stored message on disk between
// two runs: the stream must open, report that sequence lost (stream info,
// /jsz), refuse to serve it, and serve every other message intact.
func TestJetStreamCorruptRecord(t *testing.T) {
	dir := t.TempDir()
	s1 := startJSManual(t, dir)
	_, js := jsConnect(t, s1)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "C", Subjects: []string{"c"}})
	for i := 1; i <= 10; i++ {
		if _, err := js.Publish(c, "c", []byte(fmt.Sprintf("payload-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s1.Shutdown(c); err != nil {
		t.Fatal(err)
	}

	// Flip one bit inside message 5's payload.
	segs, _ := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "C", "msgs", "*"))
	flipped := false
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			continue
		}
		if i := bytes.Index(b, []byte("payload-05")); i >= 0 {
			b[i+8] ^= 0x01
			if err := os.WriteFile(seg, b, 0o600); err != nil {
				t.Fatal(err)
			}
			flipped = true
		}
	}
	if !flipped {
		t.Fatalf("message 5 not found in %v", segs)
	}

	s2 := startJS(t, dir, func(o *serverOptions) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort })
	_, js2 := jsConnect(t, s2)
	st, err := js2.Stream(c, "C")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.State.Lost == nil || fmt.Sprint(info.State.Lost.Msgs) != "[5]" {
		t.Fatalf("lost not reported: %+v", info.State)
	}
	if _, err := st.GetMsg(c, 5); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("corrupt message served: %v", err)
	}
	for _, seq := range []uint64{1, 4, 6, 10} {
		m, err := st.GetMsg(c, seq)
		if err != nil || string(m.Data) != fmt.Sprintf("payload-%02d", seq) {
			t.Fatalf("message %d: %v %v", seq, m, err)
		}
	}
	resp, err := http.Get(s2.MonitorURL() + "/jsz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var jsz struct {
		Streams      int    `json:"streams"`
		LostMessages uint64 `json:"lost_messages"`
	}
	if err := json.Unmarshal(body, &jsz); err != nil || jsz.Streams != 1 || jsz.LostMessages != 1 {
		t.Fatalf("/jsz: %s (%v)", body, err)
	}
	vresp, err := http.Get(s2.MonitorURL() + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	defer vresp.Body.Close()
	var varz struct {
		JetStream struct {
			Config struct {
				StoreDir string `json:"store_dir"`
			} `json:"config"`
		} `json:"jetstream"`
	}
	if err := json.NewDecoder(vresp.Body).Decode(&varz); err != nil || varz.JetStream.Config.StoreDir != filepath.Join(dir, "jetstream") {
		t.Fatalf("/varz jetstream: %+v %v", varz, err)
	}
	mresp, err := http.Get(s2.MonitorURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	metrics, _ := io.ReadAll(mresp.Body)
	for _, want := range []string{`starling_stream_lost_messages{account="$G",stream="C"} 1`, `starling_stream_messages{account="$G",stream="C"} 9`, "starling_jetstream_streams 1"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// New messages are stored and served as usual.
	if ack, err := js2.Publish(c, "c", []byte("after")); err != nil || ack.Sequence != 11 {
		t.Fatalf("publish after recovery: %+v %v", ack, err)
	}
}
