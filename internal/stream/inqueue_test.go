package stream

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// gatedOut is a publisher whose sends to the subject "gate" wait until
// the test opens it, so the stream's ingest goroutine can be held still.
type gatedOut struct {
	recorder
	open    chan struct{}
	entered chan struct{} // closed when a publish first waits at the gate, if set
	once    sync.Once
}

func (g *gatedOut) Publish(subject, reply string, hdr, data []byte) (bool, error) {
	if subject == "gate" {
		if g.entered != nil {
			g.once.Do(func() { close(g.entered) })
		}
		<-g.open
	}
	return g.recorder.Publish(subject, reply, hdr, data)
}

// TestIngestQueued: in-process publishes are stored in order on the
// stream's own goroutine; a full queue drops with nats-server's 429 "too
// many requests" (10167) to a publisher that asked for an ack.
func TestIngestQueued(t *testing.T) {
	out := &gatedOut{open: make(chan struct{})}
	s, err := New(baseConfig("Q"), Options{Store: store.NewMemory(), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.IngestQueued("Q.a", "gate", nil, []byte("first")) // its ack holds the goroutine
	waitFor(t, "the first message taken", func() bool {
		s.inq.mu.Lock()
		defer s.inq.mu.Unlock()
		return len(s.inq.pending) == 0 // taken by the goroutine
	})
	for i := range inQueueMsgs {
		s.IngestQueued("Q.b", "", nil, fmt.Appendf(nil, "%d", i))
	}
	s.IngestQueued("Q.c", "over", nil, []byte("dropped"))
	var a ackReply
	if err := json.Unmarshal([]byte(out.last("over")), &a); err != nil || a.Error == nil || a.Error.ErrCode != uint16(jsapi.ErrStreamTooManyRequests) {
		t.Fatalf("full queue answered %q", out.last("over"))
	}
	if s.IngestDropped() != 1 {
		t.Fatalf("dropped %d", s.IngestDropped())
	}
	close(out.open)
	waitFor(t, "every message stored", func() bool { return s.st.State().Msgs == uint64(1+inQueueMsgs) })
	for i := range inQueueMsgs {
		m, err := s.st.Load(uint64(2 + i))
		if err != nil || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("seq %d: %v %q, want %d in publish order", 2+i, err, m.Data, i)
		}
	}
}

// TestIngestQueuedAfterClose: nothing is stored once the stream closed,
// and Close waits for a drain in progress.
func TestIngestQueuedAfterClose(t *testing.T) {
	out := &gatedOut{open: make(chan struct{}), entered: make(chan struct{})}
	s, err := New(baseConfig("Q"), Options{Store: store.NewMemory(), Out: out})
	if err != nil {
		t.Fatal(err)
	}
	s.IngestQueued("Q.a", "gate", nil, []byte("held"))
	<-out.entered // the drain is storing (held at its ack) before Close
	var wg sync.WaitGroup
	wg.Add(1)
	closed := make(chan struct{})
	go func() {
		defer wg.Done()
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a drain was storing")
	case <-time.After(50 * time.Millisecond): // best effort: Close must still be waiting
	}
	close(out.open)
	wg.Wait()
	s.IngestQueued("Q.a", "", nil, []byte("late")) // dropped silently, no goroutine
	s.inq.mu.Lock()
	defer s.inq.mu.Unlock()
	if s.inq.running {
		t.Fatal("a drain started after Close")
	}
}
