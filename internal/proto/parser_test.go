package proto

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// render describes a Cmd compactly so tests can compare transcripts.
func render(c *Cmd) string {
	switch c.Op {
	case OpPub, OpHPub:
		return fmt.Sprintf("%s subj=%s reply=%s hdr=%d size=%d msg=%q", c.Op, c.Subject, c.Reply, c.HdrLen, c.Size, c.Msg)
	case OpSub:
		return fmt.Sprintf("SUB subj=%s queue=%s sid=%s", c.Subject, c.Queue, c.Sid)
	case OpUnsub:
		return fmt.Sprintf("UNSUB sid=%s max=%d", c.Sid, c.Max)
	case OpConnect, OpInfo, OpErr:
		return fmt.Sprintf("%s %s", c.Op, c.Arg)
	default:
		return c.Op.String()
	}
}

// parseAll parses every complete operation in input.
func parseAll(p *Parser, input []byte) (ops []string, rest int, err error) {
	var c Cmd
	for len(input) > 0 {
		n, err := p.Parse(input, &c)
		if err != nil {
			return ops, len(input), err
		}
		if n == 0 {
			break
		}
		ops = append(ops, render(&c))
		input = input[n:]
	}
	return ops, len(input), nil
}

func TestParseOps(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"PING\r\n", []string{"PING"}},
		{"ping\r\n", []string{"PING"}},
		{"PiNg\n", []string{"PING"}},
		{"PING anything\r\n", []string{"PING"}},
		{"PONG\r\n", []string{"PONG"}},
		{"+OK\r\n", []string{"+OK"}},
		{"-ERR 'oops'\r\n", []string{"-ERR 'oops'"}},
		{"CONNECT {\"verbose\":false}\r\n", []string{`CONNECT {"verbose":false}`}},
		{"connect\t{}\r\n", []string{"CONNECT {}"}},
		{"INFO {}\r\n", []string{"INFO {}"}},
		{"PUB foo 5\r\nhello\r\n", []string{`PUB subj=foo reply= hdr=0 size=5 msg="hello\r\n"`}},
		{"pub foo 0\r\n\r\n", []string{`PUB subj=foo reply= hdr=0 size=0 msg="\r\n"`}},
		{"PUB foo.bar INBOX.1 2\r\nhi\r\n", []string{`PUB subj=foo.bar reply=INBOX.1 hdr=0 size=2 msg="hi\r\n"`}},
		{"PUB \t foo \t 3 \r\nabc\r\n", []string{`PUB subj=foo reply= hdr=0 size=3 msg="abc\r\n"`}},
		{"PUB foo 4\r\na\r\nb\r\n", []string{`PUB subj=foo reply= hdr=0 size=4 msg="a\r\nb\r\n"`}},
		{"PUB foo 1\nx\r\n", []string{`PUB subj=foo reply= hdr=0 size=1 msg="x\r\n"`}},
		{"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", []string{`HPUB subj=foo reply= hdr=12 size=14 msg="NATS/1.0\r\n\r\nhi\r\n"`}},
		{"HPUB foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n", []string{`HPUB subj=foo reply=rep hdr=12 size=12 msg="NATS/1.0\r\n\r\n\r\n"`}},
		{"SUB foo 1\r\n", []string{"SUB subj=foo queue= sid=1"}},
		{"SUB foo.* workers 22\r\n", []string{"SUB subj=foo.* queue=workers sid=22"}},
		{"UNSUB 1\r\n", []string{"UNSUB sid=1 max=0"}},
		{"UNSUB 1 10\r\n", []string{"UNSUB sid=1 max=10"}},
		{"UNSUB 1 x\r\n", []string{"UNSUB sid=1 max=-1"}},
		{"PING\r\nPUB a 1\r\nx\r\nPONG\r\n", []string{"PING", `PUB subj=a reply= hdr=0 size=1 msg="x\r\n"`, "PONG"}},
	}
	for _, tt := range tests {
		ops, rest, err := parseAll(NewParser(), []byte(tt.in))
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if rest != 0 {
			t.Errorf("%q: %d bytes left", tt.in, rest)
		}
		if strings.Join(ops, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, ops, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", DefaultMaxControlLine+1)
	tests := []struct {
		in   string
		text string // the -ERR text; "" for a silent close
	}{
		{"XYZ\r\n", ErrTextUnknownOp},
		{"PUX foo 1\r\n", ErrTextUnknownOp},
		{"PUB\r\n", ErrTextUnknownOp},
		{"PUBfoo 1\r\n", ErrTextUnknownOp},
		{"SUBfoo 1\r\n", ErrTextUnknownOp},
		{"PUB foo 2\r\nabc\r\n", ErrTextUnknownOp},
		{"PUB foo 2\r\nab\n\n", ErrTextUnknownOp},
		{"PUB foo 2\r\nabXY", ErrTextUnknownOp},
		{"\r\n", ErrTextUnknownOp},
		{"PUB foo 2000000\r\n", ErrTextMaxPayload},
		{"HPUB foo 1 2000000\r\n", ErrTextMaxPayload},
		{"SUB " + long + " 1\r\n", ErrTextMaxControlLine},
		{"SUB " + long, ErrTextMaxControlLine},
		{"PUB foo\r\n", ""},
		{"PUB foo bar baz 1\r\n", ""},
		{"PUB foo -1\r\n", ""},
		{"PUB foo x\r\n", ""},
		{"PUB foo 1234567890\r\n", ""},
		{"HPUB foo 5\r\n", ""},
		{"HPUB foo 5 2\r\n", ""},
		{"HPUB foo x 2\r\n", ""},
		{"SUB foo\r\n", ""},
		{"SUB a b c d\r\n", ""},
		{"UNSUB\t\r\n", ""},
		{"UNSUB 1 2 3\r\n", ""},
	}
	for _, tt := range tests {
		_, _, err := parseAll(NewParser(), []byte(tt.in))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: err = %v, want *Error", tt.in, err)
			continue
		}
		if pe.Text != tt.text {
			t.Errorf("%q: text %q, want %q (%v)", tt.in, pe.Text, tt.text, pe)
		}
	}
}

func TestParseIncomplete(t *testing.T) {
	p := NewParser()
	var c Cmd
	for _, in := range []string{"", "P", "PU", "PUB", "PUB foo", "PUB foo 5\r", "CONNEC", "-ER", "-ERR", "+"} {
		n, err := p.Parse([]byte(in), &c)
		if n != 0 || err != nil {
			t.Errorf("%q: n=%d err=%v, want incomplete", in, n, err)
		}
	}
	n, err := p.Parse([]byte("PUB foo 5\r\nhel"), &c)
	if n != 0 || err != nil || p.Want != 18 {
		t.Errorf("partial payload: n=%d err=%v want=%d, expected Want=18", n, err, p.Want)
	}
}

// TestParseSplitEverywhere feeds a transcript cut at every offset, the way a
// connection sees it when reads end at arbitrary points, and checks that the
// same operations come out.
func TestParseSplitEverywhere(t *testing.T) {
	in := "CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo reply 5\r\nhello\r\n" +
		"HPUB foo 24 29\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nworld\r\nUNSUB 1 2\r\nPING\r\nPONG\r\n+OK\r\n"
	want, rest, err := parseAll(NewParser(), []byte(in))
	if err != nil || rest != 0 || len(want) != 8 {
		t.Fatalf("whole: %v rest=%d ops=%d", err, rest, len(want))
	}
	for cut := 0; cut <= len(in); cut++ {
		p := NewParser()
		buf := []byte(in[:cut])
		got, rest, err := parseAll(p, buf)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		// Carry the unparsed tail over, as the connection's read loop does.
		tail := append([]byte(nil), buf[len(buf)-rest:]...)
		more, rest2, err := parseAll(p, append(tail, in[cut:]...))
		if err != nil || rest2 != 0 {
			t.Fatalf("cut %d: second half: %v rest=%d", cut, err, rest2)
		}
		got = append(got, more...)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("cut %d:\n got %q\nwant %q", cut, got, want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	p := &Parser{MaxControlLine: 16, MaxPayload: 8}
	var c Cmd
	if _, err := p.Parse([]byte("PUB foo 8\r\n12345678\r\n"), &c); err != nil {
		t.Errorf("payload at the limit: %v", err)
	}
	if _, err := p.Parse([]byte("PUB foo 9\r\n"), &c); err == nil {
		t.Error("payload over the limit accepted")
	}
	if _, err := p.Parse([]byte("SUB 0123456789abcde 1\r\n"), &c); err == nil {
		t.Error("control line over the limit accepted")
	}
	if _, err := p.Parse([]byte("SUB 0123456789abcd 1\r\n"), &c); err != nil {
		t.Errorf("control line at the limit: %v", err)
	}
}

func TestParseNoAllocs(t *testing.T) {
	p := NewParser()
	in := []byte("PUB foo.bar _INBOX.x 11\r\nhello world\r\nHPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nSUB foo q 1\r\nUNSUB 1 5\r\nPING\r\n")
	var c Cmd
	allocs := testing.AllocsPerRun(1000, func() {
		b := in
		for len(b) > 0 {
			n, err := p.Parse(b, &c)
			if err != nil || n == 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			b = b[n:]
		}
	})
	if allocs != 0 {
		t.Errorf("parse allocates %.1f times per run", allocs)
	}
}

func BenchmarkParsePub(b *testing.B) {
	p := NewParser()
	one := "PUB foo.bar 16\r\n0123456789abcdef\r\n"
	in := []byte(strings.Repeat(one, 100))
	var c Cmd
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf := in
		for len(buf) > 0 {
			n, _ := p.Parse(buf, &c)
			buf = buf[n:]
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"PING\r\n", "PONG\r\n", "+OK\r\n", "-ERR 'x'\r\n", "CONNECT {}\r\n", "INFO {}\r\n",
		"PUB foo 5\r\nhello\r\n", "PUB foo bar 0\r\n\r\n", "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"SUB foo 1\r\n", "SUB foo q 1\r\n", "UNSUB 1\r\n", "UNSUB 1 5\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint(0))
		f.Add([]byte(s), uint(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint) {
		p := &Parser{MaxControlLine: 64, MaxPayload: 128}
		whole, restWhole, errWhole := parseAll(p, in)
		// Parsing in two pieces must give the same operations and verdict.
		k := int(cut % uint(len(in)+1))
		first, rest, err := parseAll(p, in[:k])
		if err == nil {
			tail := append(append([]byte(nil), in[k-rest:k]...), in[k:]...)
			var more []string
			more, rest, err = parseAll(p, tail)
			first = append(first, more...)
		}
		if (err == nil) != (errWhole == nil) {
			// A split can only reveal an error earlier (a bad prefix), never hide one.
			if err == nil {
				t.Fatalf("whole input failed (%v) but split at %d parsed", errWhole, k)
			}
		}
		if err == nil && (strings.Join(first, "|") != strings.Join(whole, "|") || rest != restWhole) {
			t.Fatalf("split at %d: %q / %d, whole %q / %d", k, first, rest, whole, restWhole)
		}
		for _, op := range whole {
			if len(op) > 2*len(in)+128 {
				t.Fatalf("op larger than input: %q", op)
			}
		}
	})
}
