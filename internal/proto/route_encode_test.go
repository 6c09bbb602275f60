package proto

import "testing"

func TestRouteEncoders(t *testing.T) {
	b := func(s string) []byte {
		if s == "" {
			return nil
		}
		return []byte(s)
	}
	qs := [][]byte{[]byte("q1"), []byte("q2")}
	tests := []struct {
		got    []byte
		want   string
		pinned bool // parse back with a parser pinned to account A
	}{
		{AppendRouteSub(nil, b("$G"), b("foo.>"), nil, 0), "RS+ $G foo.>\r\n", false},
		{AppendRouteSub(nil, b("$G"), b("bar"), b("q2"), 2), "RS+ $G bar q2 2\r\n", false},
		{AppendRouteSub(nil, nil, b("foo.>"), nil, 0), "RS+ foo.>\r\n", true},
		{AppendRouteSub(nil, nil, b("bar"), b("q1"), 1), "RS+ bar q1 1\r\n", true},
		{AppendRouteUnsub(nil, b("$G"), b("foo.>"), nil), "RS- $G foo.>\r\n", false},
		{AppendRouteUnsub(nil, b("$G"), b("bar"), b("q2")), "RS- $G bar q2\r\n", false},
		{AppendRouteUnsub(nil, nil, b("bar"), b("q2")), "RS- bar q2\r\n", true},
		{AppendLeafSub(nil, b("leafc"), b("$G"), b("lf.>"), nil, 0), "LS+ leafc $G lf.>\r\n", false},
		{AppendLeafSub(nil, b("leafc"), nil, b("lq.>"), b("lq"), 1), "LS+ leafc lq.> lq 1\r\n", true},
		{AppendLeafUnsub(nil, nil, b("$G"), b("lq.>"), b("lq")), "LS- $G lq.> lq\r\n", false},
		{AppendLeafUnsub(nil, b("leafc"), nil, b("lf.>"), nil), "LS- leafc lf.>\r\n", true},
		{AppendRouteMsgHeader(nil, b("$G"), b("foo.x"), nil, nil, nil, b("2")), "RMSG $G foo.x 2\r\n", false},
		{AppendRouteMsgHeader(nil, b("$G"), b("foo"), b("_INBOX.a"), nil, nil, b("1")), "RMSG $G foo _INBOX.a 1\r\n", false},
		{AppendRouteMsgHeader(nil, b("$G"), b("bar"), nil, qs, nil, b("2")), "RMSG $G bar | q1 q2 2\r\n", false},
		{AppendRouteMsgHeader(nil, b("$G"), b("bar"), b("_INBOX.a"), qs, nil, b("1")), "RMSG $G bar + _INBOX.a q1 q2 1\r\n", false},
		{AppendRouteMsgHeader(nil, nil, b("bar"), b("_INBOX.a"), qs[:1], nil, b("1")), "RMSG bar + _INBOX.a q1 1\r\n", true},
		{AppendRouteMsgHeader(nil, nil, b("foo.x"), nil, nil, nil, b("007")), "RMSG foo.x 007\r\n", true},
		{AppendRouteMsgHeader(nil, b("$G"), b("foo.h"), nil, nil, b("18"), b("20")), "HMSG $G foo.h 18 20\r\n", false},
		{AppendRouteMsgHeader(nil, b("B"), b("bq"), nil, qs[1:], b("18"), b("20")), "HMSG B bq | q2 18 20\r\n", false},
		{AppendRouteMsgHeader(nil, nil, b("bq"), b("r"), qs, b("18"), b("20")), "HMSG bq + r q1 q2 18 20\r\n", true},
		{AppendLeafMsgHeader(nil, b("leafc"), b("$G"), b("foo"), nil, nil, nil, b("2")), "LMSG leafc $G foo 0 2\r\n", false},
		{AppendLeafMsgHeader(nil, b("leafc"), b("$G"), b("foo"), nil, nil, b("18"), b("20")), "LMSG leafc $G foo 18 20\r\n", false},
		{AppendLeafMsgHeader(nil, b("leafc"), nil, b("bar"), b("_I.b"), qs, nil, b("1")), "LMSG leafc bar + _I.b q1 q2 0 1\r\n", true},
		{AppendLeafMsgHeader(nil, b("leafc"), nil, b("bar"), nil, qs, nil, b("1")), "LMSG leafc bar | q1 q2 0 1\r\n", true},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
			continue
		}
		// What the encoders write, the parser reads back into the same line.
		p := NewRouteParser()
		if tt.pinned {
			p = pinnedA() // which also expects the origin in LS-
		}
		in := tt.got
		var c RouteCmd
		n, err := p.Parse(in, &c)
		if c.Op == RouteOpMsg || c.Op == RouteOpHMsg || c.Op == RouteOpLeafMsg {
			if err != nil || n != 0 || p.Want != len(in)+c.Size+2 {
				t.Errorf("%q: n=%d want=%d err=%v", in, n, p.Want, err)
				continue
			}
			in = append(append(in, make([]byte, c.Size)...), '\r', '\n')
			n, err = p.Parse(in, &c)
		}
		if err != nil || n != len(in) {
			t.Errorf("%q: n=%d err=%v", in, n, err)
			continue
		}
		if back := encodeRouteCmd(nil, &c, p); string(back) != string(in) {
			t.Errorf("round trip: got %q, want %q", back, in)
		}
	}
}

func TestRouteEncodersNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	acc, subj, reply, queue := []byte("$G"), []byte("foo.bar"), []byte("_INBOX.abc"), []byte("workers")
	qs := [][]byte{[]byte("q1"), []byte("q2")}
	allocs := testing.AllocsPerRun(1000, func() {
		b := AppendRouteSub(buf[:0], acc, subj, queue, 12)
		b = AppendRouteUnsub(b, acc, subj, queue)
		b = AppendLeafSub(b, []byte("leafc"), acc, subj, queue, 3)
		b = AppendLeafUnsub(b, []byte("leafc"), acc, subj, nil)
		b = AppendRouteMsgHeader(b, acc, subj, reply, qs, nil, []byte("11"))
		b = AppendRouteMsgHeader(b, nil, subj, nil, nil, []byte("12"), []byte("14"))
		b = AppendLeafMsgHeader(b, []byte("leafc"), acc, subj, reply, qs, nil, []byte("11"))
		buf = b
	})
	if allocs != 0 {
		t.Errorf("route encoders allocate %.1f times per run", allocs)
	}
}

func BenchmarkRouteMsgHeader(b *testing.B) {
	buf := make([]byte, 0, 256)
	acc, subj, reply, size := []byte("$G"), []byte("foo.bar"), []byte("_INBOX.abc"), []byte("16")
	qs := [][]byte{[]byte("q1")}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRouteMsgHeader(buf[:0], acc, subj, reply, qs, nil, size)
	}
}
