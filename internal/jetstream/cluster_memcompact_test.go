package jetstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A memory stream of three replicas compacts its log (its snapshots carry
// its messages), and a whole cluster restarted from those logs still has
// every message at its sequence and the consumer where it was acked: the
// empty stores are refilled from the snapshots and the entries after.
func TestClusterMemoryCompact(t *testing.T) {
	ports, nodes, fss, _, js := startCompacting(t)
	ctx := context.Background()
	st, cons := streamWithConsumerOn(t, js, "MEM", jetstream.MemoryStorage)
	publish := (&publisher{t: t, js: js}).publish
	publish("mem.x", 150)
	ackN(t, cons, 30)
	within(t, 20*time.Second, "the stream to be deleted from", func() error { return st.DeleteMsg(ctx, 10) })
	publish("mem.x", 50)
	within(t, 30*time.Second, "every member compacted", func() error {
		for _, n := range nodes {
			if first := logStart(n, "MEM"); first <= 1 {
				return fmt.Errorf("%s's log starts at %d", n.name, first)
			}
		}
		return nil
	})
	want, err := readAll(ctx, js, "MEM")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.stop()
	}
	for i := range nodes {
		nodes[i] = startPowerNode(t, i, ports, fss[i], 40)
	}
	nc, err := nats.Connect(nodes[1].srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js2, _ := jetstream.New(nc)
	within(t, 60*time.Second, "every message back after the restart", func() error {
		got, err := readAll(ctx, js2, "MEM")
		if err != nil {
			return err
		}
		if len(got) != len(want) || len(got) != 199 {
			return fmt.Errorf("%d messages, want %d (199)", len(got), len(want))
		}
		for k, seq := range want {
			if got[k] != seq {
				return fmt.Errorf("%q at %d, was at %d", k, got[k], seq)
			}
		}
		return nil
	})
	within(t, 30*time.Second, "the replicas alike", func() error {
		first, err := replicaView(nodes[0], "MEM", "D")
		if err != nil {
			return err
		}
		for _, n := range nodes[1:] {
			v, err := replicaView(n, "MEM", "D")
			if err != nil {
				return err
			}
			if v != first {
				return errors.New(n.name + ": " + v + ", " + nodes[0].name + ": " + first)
			}
		}
		return nil
	})
	within(t, 30*time.Second, "the consumer where it was acked", func() error {
		c, err := js2.Consumer(ctx, "MEM", "D")
		if err != nil {
			return err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.AckFloor.Stream != 30 {
			return fmt.Errorf("ack floor %d, want 30", info.AckFloor.Stream)
		}
		return nil
	})
}
