package consumer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/jsapi"
)

func TestAckSeqs(t *testing.T) {
	tests := []struct {
		subj string
		seq  uint64
		ok   bool
	}{
		{"$JS.ACK.S.C.1.42.7.1700000000.3", 42, true},
		{"$JS.ACK.dom.acchash.S.C.2.43.8.1700000000.0.rand", 43, true},
		{"$JS.ACK.S.C.1", 0, false},
		{"$JS.ACK.S.C.1.x.7.1.0", 0, false},
		{"foo.bar", 0, false},
	}
	for _, tt := range tests {
		seq, ok := AckSeqs(tt.subj)
		if seq != tt.seq || ok != tt.ok {
			t.Errorf("AckSeqs(%q) = %d, %v; want %d, %v", tt.subj, seq, ok, tt.seq, tt.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { AckSeqs("$JS.ACK.S.C.1.42.7.1700000000.3") }); n != 0 {
		t.Errorf("AckSeqs allocates %v times", n)
	}
}

func TestParseNext(t *testing.T) {
	tests := []struct {
		body  string
		batch int
		ok    bool
	}{
		{"", 1, true}, {"5", 5, true}, {`{"batch":10,"expires":1000000000,"no_wait":true}`, 10, true}, {"{", 0, false},
		// nats-server reads anything else as a request for one message.
		{"x", 1, true}, {"-3", 1, true},
		// An idle heartbeat must be able to fire twice before expiry.
		{`{"batch":2,"expires":1000000000,"idle_heartbeat":500000000}`, 2, true},
		{`{"batch":2,"expires":1000000000,"idle_heartbeat":600000000}`, 0, false},
		{`{"batch":2,"idle_heartbeat":600000000}`, 0, false},
	}
	for _, tt := range tests {
		r, err := ParseNext([]byte(tt.body))
		if (err == nil) != tt.ok || (tt.ok && r.Batch != tt.batch) {
			t.Errorf("ParseNext(%q) = %+v, %v", tt.body, r, err)
		}
	}
}

// FuzzAckInput: ack subjects and pull request bodies never panic.
func FuzzAckInput(f *testing.F) {
	f.Add("$JS.ACK.S.C.1.42.7.1700000000.3", []byte("+ACK"))
	f.Add("$JS.ACK.d.h.S.C.2.43.8.1.0.r", []byte(`{"batch":5}`))
	f.Add("$JS.ACK", []byte("12"))
	f.Fuzz(func(t *testing.T, subj string, body []byte) {
		AckSeqs(subj)
		ParseNext(body)
	})
}

// An AckSync is confirmed for a message the consumer delivered (pending
// or acknowledged before), never for one it has not delivered: such an
// ack names another leader's delivery the consumer does not know of, and
// the message is still to come.
func TestAckSyncOfUndelivered(t *testing.T) {
	c, _, out := newTest(t, jsapi.ConsumerConfig{Durable: "p", AckPolicy: jsapi.AckExplicit}, "a", "b", "c")
	c.Pull("r1", jsapi.NextRequest{Batch: 1})
	got := waitFor(t, out, 1)
	replies := func() int {
		out.mu.Lock()
		defer out.mu.Unlock()
		n := 0
		for _, d := range out.got {
			if strings.HasPrefix(d.to, "sync") {
				n++
			}
		}
		return n
	}
	tests := []struct {
		subject string
		want    int // confirmations so far
	}{
		{"$JS.ACK.S.p.1.3.3.0.0", 0}, // message 3 was never delivered
		{got[0].reply, 1},            // message 1 was
		{got[0].reply, 2},            // and is acknowledged: confirmed again
	}
	for i, tt := range tests {
		c.Ack(tt.subject, fmt.Sprint("sync", i), []byte("+ACK"))
		if n := replies(); n != tt.want {
			t.Fatalf("ack %d (%s): %d confirmations, want %d", i, tt.subject, n, tt.want)
		}
	}
	if info := c.Info(); info.AckFloor.Stream != 1 {
		t.Fatalf("ack floor %+v", info.AckFloor)
	}
}
