package test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestTraceNatsCLI: `nats trace` (natscli v0.5.0) accepts Starling and
// shows every hop: a subscriber, a queue group and a stream, trace-only
// by default and delivered with --deliver.
func TestTraceNatsCLI(t *testing.T) {
	s := startJS(t, "")
	cli := newNatsCLI(t, s.ClientURL())
	_, js := jsConnect(t, s)
	if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	subc := connect(t, s, nats.Name("plainsub"))
	plain, _ := subc.SubscribeSync("orders.*")
	qc := connect(t, s, nats.Name("queuesub"))
	queue, _ := qc.QueueSubscribeSync("orders.new", "workers")
	subc.Flush()
	qc.Flush()

	out := cli.run("trace", "orders.new", "hello")
	for _, want := range []string{
		`version:"2.11.0"`,
		`--C Client "plainsub"`, `subject:"orders.*"`,
		`--C Client "queuesub"`, `subject:"orders.new" queue:"workers"`,
		`--J JetStream action:"stored" stream:"ORDERS" subject:"orders.new"`,
		"Client: 2", "JetStream: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("nats trace output lacks %q:\n%s", want, out)
		}
	}
	if n := streamMsgs(t, js, "ORDERS"); n != 0 {
		t.Errorf("trace-only stored %d messages", n)
	}
	expectNoMsg(t, subc, plain, "orders.marker") // the marker is stored too

	out = cli.run("trace", "orders.new", "hello", "--deliver")
	if !strings.Contains(out, "with delivery to the final destination") || !strings.Contains(out, `action:"stored"`) {
		t.Errorf("nats trace --deliver output:\n%s", out)
	}
	if n := streamMsgs(t, js, "ORDERS"); n != 2 {
		t.Errorf("stream holds %d messages after --deliver, want the marker and the traced one", n)
	}
	if m, err := plain.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hello" {
		t.Errorf("subscriber: %v %v", m, err)
	}
	if m, err := queue.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hello" {
		t.Errorf("queue subscriber: %v %v", m, err)
	}
	expectNoMsg(t, qc, queue, "orders.new") // and only that one

	out = cli.run("trace", "nobody.listens")
	if !strings.Contains(out, "No active interest") {
		t.Errorf("no interest output:\n%s", out)
	}
}
