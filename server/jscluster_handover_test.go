package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// lockedBuffer is a log sink several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJetStreamClusterShutdownHandsOver: a server shut down while it
// leads a stream (and perhaps the meta group) hands its leaderships to
// the others before it stops, as nats-server does: its log says every
// leadership moved, another server leads the stream, and publishes go on.
func TestJetStreamClusterShutdownHandsOver(t *testing.T) {
	logs := make([]*lockedBuffer, 3)
	n := 0
	c := startJSClusterWith(t, 3, false, func(o *server.Options) {
		logs[n] = &lockedBuffer{}
		o.Logger = slog.New(slog.NewTextHandler(logs[n], &slog.HandlerOptions{Level: slog.LevelInfo}))
		n++
	})
	_, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	st, leader := currentR3(t, js, "HO", "ho")
	if leader == "S1" {
		// The client's server stays up: lead from another one.
		req := []byte(`{"placement":{"preferred":"S2"}}`)
		eventually(t, 20*time.Second, func() error {
			_, _ = js.Conn().Request("$JS.API.STREAM.LEADER.STEPDOWN.HO", req, 5*time.Second)
			info, err := st.Info(ctx)
			if err != nil {
				return err
			}
			if leader = info.Cluster.Leader; leader != "S2" {
				return fmt.Errorf("leader %q", leader)
			}
			return nil
		})
	}
	i := int(leader[1] - '1')
	c.stop(i)
	if !strings.Contains(logs[i].String(), "leaderships handed over before stopping") {
		t.Fatalf("%s stopped without handing its leaderships over:\n%s", leader, logs[i].String())
	}
	eventually(t, 20*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if l := info.Cluster.Leader; l == leader || l == "" {
			return fmt.Errorf("leader %q", l)
		}
		_, err = js.Publish(ctx, "ho", []byte("after"))
		return err
	})
}
