package metrics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/core"
)

// eventually polls check until it returns nil or d passes, then fails with
// the last error.
func eventually(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// TestRealServer scrapes a running core.Server with a client publishing
// through it, so the Source interface is checked against the real thing.
func TestRealServer(t *testing.T) {
	s, err := core.New(core.Options{Host: "127.0.0.1", Port: core.RandomPort, ServerName: "real"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	nc, err := nats.Connect(s.ClientURL(), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("metrics.test")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := nc.Publish("metrics.test", []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := sub.NextMsg(5 * time.Second); err != nil {
			t.Fatal(err)
		}
	}

	h := NewHandler(s)
	want := map[string]float64{
		"starling_connections":                1,
		"starling_connections_accepted_total": 1,
		"starling_subscriptions":              1,
		"starling_in_messages_total":          3,
		"starling_out_messages_total":         3,
		"starling_in_bytes_total":             15,
		"starling_out_bytes_total":            15,
		"starling_config_max_payload_bytes":   float64(s.Options().MaxPayload),
	}
	eventually(t, 5*time.Second, func() error {
		fams := scrape(t, h)
		for name, v := range want {
			f := fams[name]
			if f == nil {
				return fmt.Errorf("%s missing", name)
			}
			if got := value(t, f); got != v {
				return fmt.Errorf("%s = %v, want %v", name, got, v)
			}
		}
		return nil
	})
	fams := scrape(t, h)
	if got := labels(fams["starling_server_info"].Metric[0]); got["server_name"] != "real" || got["server_id"] != s.ID() {
		t.Errorf("server_info labels %v", got)
	}
	if up := value(t, fams["starling_uptime_seconds"]); up < 0 || up > 60 {
		t.Errorf("uptime %v s for a server just started", up)
	}
}
