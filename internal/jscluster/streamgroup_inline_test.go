package jscluster

import (
	"encoding/json"
	"testing"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
)

// emptySM is an inline stream state machine over an empty memory store,
// as a member is after a restart or when it joins.
func emptySM(t testing.TB) (*streamSM, *fakeSnapshots) {
	t.Helper()
	cfg := jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}, Storage: jsapi.MemoryStorage,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1}
	s, err := stream.New(cfg, stream.Options{Store: store.NewMemory(), Out: noAcks{}, Replicated: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f := &fakeSnapshots{}
	return &streamSM{s: s, hooks: StreamHooks{Snapshots: f, Inline: true}, every: 4}, f
}

// A memory stream's state machine compacts every few entries with a
// snapshot that carries its messages, once per interval; from it, an
// empty member (restarted, or joining from the leader's snapshot) gets
// the same messages, sequences and first sequence, without fetching.
func TestStreamInlineSnapshot(t *testing.T) {
	m, _ := snapSM(t, 9, 4)
	m.hooks.Inline = true
	if _, err := m.s.ApplyEntry(stream.EncodeEntry(&stream.Entry{Kind: stream.EntryDelete, Seq: 9, Target: 1})); err != nil {
		t.Fatal(err)
	}
	idx, data, ok, err := m.DurableSnapshot()
	if err != nil || !ok || idx != 9 {
		t.Fatalf("snapshot at %d, ok %v, err %v", idx, ok, err)
	}
	if _, _, ok, _ := m.DurableSnapshot(); ok {
		t.Fatal("a second snapshot within the interval")
	}
	want := m.s.Info(false, "").State
	for _, received := range []bool{false, true} {
		n, f := emptySM(t)
		if received {
			err = n.Received(data)
		} else {
			err = n.Restore(data)
		}
		if err != nil {
			t.Fatalf("received %v: %v", received, err)
		}
		got := n.s.Info(false, "").State
		if got.Msgs != want.Msgs || got.FirstSeq != want.FirstSeq || got.LastSeq != want.LastSeq || got.Bytes != want.Bytes {
			t.Fatalf("received %v: state %+v, want %+v", received, got, want)
		}
		if len(f.fetches) != 0 || n.index.Load() != 9 {
			t.Fatalf("received %v: fetches %+v, index %d", received, f.fetches, n.index.Load())
		}
	}
}

// A memory stream too large to carry in a snapshot is not compacted; a
// member that is behind but not empty fetches from a peer.
func TestStreamInlineLimits(t *testing.T) {
	m, _ := snapSM(t, 3, 1)
	m.hooks.Inline = true
	big := make([]byte, inlineMax/2+1)
	for i := 4; i <= 5; i++ {
		b, ans := m.s.Propose("s", nil, big)
		if ans != nil {
			t.Fatalf("propose: %+v", ans)
		}
		if _, err := m.s.ApplyEntry(b); err != nil {
			t.Fatal(err)
		}
		m.index.Store(uint64(i))
	}
	if _, _, ok, err := m.DurableSnapshot(); ok || err != nil {
		t.Fatalf("a snapshot of %d bytes offered (err %v)", 2*len(big), err)
	}
	n, f := snapSM(t, 2, 0)
	n.hooks.Inline = true
	b, _ := json.Marshal(streamSnapshot{Index: 3, Last: 3, Inline: m.inline(3)})
	if err := n.Received(b); err == nil || len(f.fetches) != 1 {
		t.Fatalf("a member behind, not empty: err %v, fetches %+v", err, f.fetches)
	}
}

// BenchmarkInlineSnapshot is the Raft loop's cost of one snapshot of a
// memory stream near the limit: 50,000 messages of 128 bytes.
func BenchmarkInlineSnapshot(b *testing.B) {
	m, _ := emptySM(b)
	data := make([]byte, 128)
	for i := range 50000 {
		e, ans := m.s.Propose("s", nil, data)
		if ans != nil {
			b.Fatalf("propose %d: %+v", i, ans)
		}
		if _, err := m.s.ApplyEntry(e); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if m.inline(m.s.LastSeq()) == nil {
			b.Fatal("too large")
		}
	}
}
