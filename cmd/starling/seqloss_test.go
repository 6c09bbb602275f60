package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestKillDamageTail: the server is killed with SIGKILL while clients
// publish, then the tail of the stream's log is cut off (as a damaged disk
// or a careless copy would), and the server restarted. Sequences must not
// go backwards: stream info keeps the last sequence, reports every
// acknowledged message that is gone as lost, and the next publish gets a
// sequence above every one acknowledged before. Then every segment file is
// deleted and the same must hold.
func TestKillDamageTail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freeTCPPort(t)
	cmd := startServerProc(t, bin, dir, port)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	nc, js := dialJS(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[uint64]string{}
	for i := range 200 {
		payload := fmt.Sprintf("first-%05d", i)
		ack, err := js.Publish(ctx, "q.first", []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		acked[ack.Sequence] = payload
	}
	// Publish from two clients and kill the server mid-stream.
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100_000 {
				payload := fmt.Sprintf("w%d-%05d", p, i)
				pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
				ack, err := js.Publish(pctx, fmt.Sprintf("q.%d", p), []byte(payload))
				pcancel()
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[ack.Sequence] = payload
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d acknowledgements in 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()
	nc.Close()
	maxAcked := slices.Max(mapKeys(acked))

	// Cut the log inside the record of an acknowledged message 30 before
	// the last acknowledged one.
	cut := maxAcked - 30
	for acked[cut] == "" { // one whose payload is known
		cut--
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "Q", "msgs", "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no segment files")
	}
	last := segs[len(segs)-1]
	b, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(acked[cut]))
	if i < 0 {
		t.Fatalf("message %d (%q) not in %s", cut, acked[cut], last)
	}
	if err := os.Truncate(last, int64(i)); err != nil {
		t.Fatal(err)
	}

	port = freeTCPPort(t)
	cmd = startServerProc(t, bin, dir, port)
	nc, js = dialJS(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	st := streamState(t, ctx, js)
	if st.LastSeq < maxAcked {
		t.Fatalf("LastSeq %d below the acknowledged %d", st.LastSeq, maxAcked)
	}
	if st.Lost == nil || len(st.Lost.Msgs) == 0 || st.Lost.Msgs[0] != cut {
		t.Fatalf("lost %+v, want from %d", st.Lost, cut)
	}
	for seq, want := range acked {
		if seq >= cut {
			if !slices.Contains(st.Lost.Msgs, seq) {
				t.Fatalf("acknowledged %d is gone but not reported lost (%v)", seq, st.Lost.Msgs)
			}
			continue
		}
		stream, _ := js.Stream(ctx, "Q")
		m, err := stream.GetMsg(ctx, seq)
		if err != nil || string(m.Data) != want {
			t.Fatalf("message %d: %v %v", seq, m, err)
		}
	}
	ack, err := js.Publish(ctx, "q.after", []byte("after-cut"))
	if err != nil || ack.Sequence != st.LastSeq+1 || ack.Sequence <= maxAcked {
		t.Fatalf("publish after the cut: %+v %v (last %d, acknowledged %d)", ack, err, st.LastSeq, maxAcked)
	}
	maxAcked = ack.Sequence

	// Kill again and delete every segment file.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	nc.Close()
	segs, _ = filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "Q", "msgs", "*.seg"))
	for _, seg := range segs {
		if err := os.Remove(seg); err != nil {
			t.Fatal(err)
		}
	}
	port = freeTCPPort(t)
	cmd = startServerProc(t, bin, dir, port)
	_, js = dialJS(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	st = streamState(t, ctx, js)
	if st.LastSeq < maxAcked || st.Msgs != 0 || st.Lost == nil || !slices.Contains(st.Lost.Msgs, maxAcked) {
		t.Fatalf("after deleting every segment: %+v lost %+v (acknowledged %d)", st, st.Lost, maxAcked)
	}
	if ack, err := js.Publish(ctx, "q.after", []byte("after-delete")); err != nil || ack.Sequence <= maxAcked {
		t.Fatalf("publish after deleting the segments: %+v %v (acknowledged %d)", ack, err, maxAcked)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
}

func streamState(t *testing.T, ctx context.Context, js jetstream.JetStream) jetstream.StreamState {
	t.Helper()
	s, err := js.Stream(ctx, "Q")
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State
}

func mapKeys(m map[uint64]string) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
