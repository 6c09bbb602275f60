package chaos_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/chaos"

	// The process scenarios run a binary built at run time; importing what
	// it is built from makes a change to the server invalidate cached
	// results.
	_ "github.com/starling-mq/starling/internal/cli"
	_ "github.com/starling-mq/starling/internal/servercmd"
)

// publisher numbers the messages it publishes on one subject.
type publisher struct {
	t       testing.TB
	name    string
	nc      *nats.Conn
	subject string
	size    int
	seq     uint64
}

func newPublisher(t testing.TB, nc *nats.Conn, name, subject string, size int) *publisher {
	return &publisher{t: t, name: name, nc: nc, subject: subject, size: size}
}

// publish sends n messages and flushes them to the publisher's server; it
// returns the sequence numbers used, first and last.
func (p *publisher) publish(n int) (from, to uint64) {
	p.t.Helper()
	from = p.seq + 1
	for range n {
		p.seq++
		if err := p.nc.Publish(p.subject, chaos.Payload(p.name, p.seq, p.size)); err != nil {
			p.t.Fatalf("%s: publish %d: %v", p.name, p.seq, err)
		}
	}
	if err := p.nc.FlushTimeout(chaos.Timeout); err != nil {
		p.t.Fatalf("%s: flush: %v", p.name, err)
	}
	return from, p.seq
}

// subscribe records every message on subject in a ledger. The client's
// own pending limits are lifted: a drop by the client library would look
// like a loss in the cluster.
func subscribe(t testing.TB, nc *nats.Conn, subject string) *chaos.Ledger {
	t.Helper()
	l := chaos.NewLedger()
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) { l.RecordPayload(m.Data) })
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(chaos.Timeout); err != nil {
		t.Fatal(err)
	}
	return l
}

// waitAll waits until l holds every message of pub in [from, to].
func waitAll(t testing.TB, l *chaos.Ledger, what, pub string, from, to uint64) {
	t.Helper()
	want := int(to - from + 1)
	chaos.Await(t, chaos.Timeout, func() error {
		if got := l.Count(pub, from, to); got != want {
			return fmt.Errorf("%s: %d of %s's %d messages %d..%d, missing %v...",
				what, got, pub, want, from, to, l.Missing(pub, from, to, 5))
		}
		return nil
	})
}

// checkLedger fails t if l saw a duplicate or a message out of order.
func checkLedger(t testing.TB, what string, l *chaos.Ledger) {
	t.Helper()
	if err := l.Err(); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// scale picks the full or the -short amount.
func scale(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}
