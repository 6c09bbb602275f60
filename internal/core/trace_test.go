package core

import (
	"encoding/json"
	"net"
	"strconv"
	"testing"

	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
)

// TestUntracedPublishAllocs: a message without a trace header costs no
// allocation on the routing path, with or without headers, including a
// traceparent (which Scan lowers in place).
func TestUntracedPublishAllocs(t *testing.T) {
	for _, hdr := range []string{
		"",
		benchHeader,
		"NATS/1.0\r\nTraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
	} {
		r := newRouteRig(t, hdr, 64)
		r.publish()
		if n := testing.AllocsPerRun(1000, r.publish); n != 0 {
			t.Errorf("header %q: %v allocations per message", hdr, n)
		}
	}
}

// traceRig is a routeRig whose messages are traced, with the events
// caught by an in-process subscriber.
type traceRig struct {
	*routeRig
	events chan msgtrace.Event
}

func newTraceRig(t *testing.T, only bool) *traceRig {
	hdr := "NATS/1.0\r\nNats-Trace-Dest: trace.x\r\n\r\n"
	if only {
		hdr = "NATS/1.0\r\nNats-Trace-Dest: trace.x\r\nNats-Trace-Only: true\r\n\r\n"
	}
	r := &traceRig{routeRig: newRouteRig(t, hdr, 16), events: make(chan msgtrace.Event, 4)}
	// close() needs a socket to shut.
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r.sub.conn, r.sub.netConn = a, a
	ic := r.srv.NewInternalClient("catcher")
	t.Cleanup(ic.Close)
	if _, err := ic.Subscribe("trace.x", "", func(m *Msg) {
		var ev msgtrace.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Errorf("event %q: %v", m.Data, err)
		}
		r.events <- ev
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *traceRig) event(t *testing.T) msgtrace.Event {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	default:
		t.Fatal("no trace event")
		return msgtrace.Event{}
	}
}

// TestTraceEgressErrors: each reason a delivery does not happen is
// reported in the egress entry.
func TestTraceEgressErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *traceRig)
		want  string
	}{
		{"delivered", func(*traceRig) {}, ""},
		{"slow consumer", func(r *traceRig) { r.sub.out.maxPending = 8 }, msgtrace.ErrSlowConsumerDrop},
		{"client closed", func(r *traceRig) { r.sub.out.closed = true }, msgtrace.ErrClientClosed},
		{"auto-unsubscribe exceeded", func(r *traceRig) {
			s := r.sub.subs["1"]
			s.max, s.delivered = 1, 1
		}, msgtrace.ErrAutoSubExceeded},
		{"no echo", func(r *traceRig) {
			// The subscriber is the publisher itself, without echo.
			s := r.sub.subs["1"]
			s.client = r.pub
			r.pub.echo.Store(false)
		}, msgtrace.ErrNoEcho},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTraceRig(t, false)
			tt.setup(r)
			r.pub.processPub(&r.cmd)
			ev := r.event(t)
			eg := ev.Egresses()
			if len(eg) != 1 || eg[0].Error != tt.want || eg[0].Subscription != "bench.route" || eg[0].Kind != msgtrace.KindClient {
				t.Fatalf("egresses %+v", eg)
			}
			if in := ev.Ingress(); in == nil || in.Subject != "bench.route" || in.Account != "$G" || in.CID != r.pub.cid {
				t.Fatalf("ingress %+v", in)
			}
		})
	}
}

// TestTraceOnlyDoesNotDeliver: trace-only records the egress, queues
// nothing and leaves the subscription's count alone.
func TestTraceOnlyDoesNotDeliver(t *testing.T) {
	r := newTraceRig(t, true)
	s := r.sub.subs["1"]
	s.max = 1 // a real delivery would end this subscription
	r.pub.processPub(&r.cmd)
	ev := r.event(t)
	eg := ev.Egresses()
	if len(eg) != 1 || eg[0].Error != "" || eg[0].CID != r.sub.cid {
		t.Fatalf("egresses %+v", eg)
	}
	r.sub.out.mu.Lock()
	pending, delivered := r.sub.out.pending, s.delivered
	r.sub.out.mu.Unlock()
	if pending != 0 || delivered != 0 {
		t.Fatalf("trace-only delivered: pending %d, delivered %d", pending, delivered)
	}
	if r.srv.NumSubscriptions() != 2 {
		t.Fatal("subscription removed")
	}
}

// TestTraceMaxPayload: a message over max_payload whose first bytes name
// a destination is reported before the connection closes.
func TestTraceMaxPayload(t *testing.T) {
	r := newTraceRig(t, false)
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r.pub.conn, r.pub.netConn = a, a
	r.pub.parser = proto.Parser{MaxControlLine: 4096, MaxPayload: 100}
	r.pub.parserOpts = r.srv.getOpts()
	hdr := "NATS/1.0\r\nNats-Trace-Dest: trace.x\r\n\r\n"
	buf := []byte("HPUB big " + strconv.Itoa(len(hdr)) + " 5000\r\n" + hdr + "partial payload")
	r.pub.processInput(buf, 0, len(buf))
	ev := r.event(t)
	in := ev.Ingress()
	if in == nil || in.Error != msgtrace.ErrMaxPayload || ev.Request.MsgSize != 5000 || in.Subject != "" {
		t.Fatalf("event %+v ingress %+v", ev, in)
	}
}
