package core

import (
	"strconv"
	"testing"

	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

// routeRig drives processPub directly, without sockets: one publisher and
// one subscriber whose queue is emptied after every message, so the
// numbers are the routing path alone (header checks, match, encode).
type routeRig struct {
	srv      *Server
	pub, sub *client
	cmd      proto.Cmd
}

func newRouteRig(tb testing.TB, hdr string, size int) *routeRig {
	tb.Helper()
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		tb.Fatal(err)
	}
	mk := func() *client {
		c := &client{transport: transport{srv: s, cid: s.nextCID.Add(1), log: s.log}, acc: s.gacc,
			subs: map[string]*subscription{}, cache: map[string]*subject.Result[*subscription]{}}
		c.p = c
		c.out.init(1 << 30)
		c.echo.Store(true)
		c.headers.Store(true)
		c.connected.Store(true)
		return c
	}
	r := &routeRig{srv: s, pub: mk(), sub: mk()}
	sub := &subscription{client: r.sub, subject: "bench.route", sid: []byte("1")}
	if err := s.gacc.sl.Insert(sub.subject, "", sub); err != nil {
		tb.Fatal(err)
	}
	r.sub.subs["1"] = sub
	payload := make([]byte, size)
	msg := append(append([]byte(hdr), payload...), '\r', '\n')
	total := len(hdr) + size
	r.cmd = proto.Cmd{Op: proto.OpPub, Subject: []byte("bench.route"), Size: total,
		SizeArg: []byte(strconv.Itoa(total)), Msg: msg}
	if hdr != "" {
		r.cmd.Op, r.cmd.HdrLen, r.cmd.HdrArg = proto.OpHPub, len(hdr), []byte(strconv.Itoa(len(hdr)))
	}
	return r
}

// publish routes the message once and throws away what was queued.
func (r *routeRig) publish() {
	r.pub.processPub(&r.cmd)
	r.pub.flushes.list = r.pub.flushes.list[:0]
	// Keep the first chunk for the next message: the pool's own costs
	// are not what is measured.
	o := &r.sub.out
	o.mu.Lock()
	if len(o.bufs) > 0 {
		o.bufs = o.bufs[:1]
		o.bufs[0] = o.bufs[0][:0]
	}
	o.pending = 0
	o.mu.Unlock()
}

const benchHeader = "NATS/1.0\r\nNats-Msg-Id: 7c9bfa2e-0d1f-4a57-b5a3\r\nX-Application: orders\r\n\r\n"

func BenchmarkRoutePub(b *testing.B)  { benchRoute(b, "") }
func BenchmarkRouteHPub(b *testing.B) { benchRoute(b, benchHeader) }

func benchRoute(b *testing.B, hdr string) {
	r := newRouteRig(b, hdr, 128)
	r.publish()
	b.ReportAllocs()
	b.SetBytes(int64(r.cmd.Size))
	b.ResetTimer()
	for range b.N {
		r.publish()
	}
}
