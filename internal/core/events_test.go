package core

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/starling-mq/starling/internal/proto"
)

// TestWithRequestInfo: the requester's identity is added as a header,
// to a message with headers or without, and the payload is untouched; a
// forged one from the client is dropped.
func TestWithRequestInfo(t *testing.T) {
	s := &Server{name: "n1", id: "ID1"}
	acc := newAccount("A")
	c := &client{transport: transport{srv: s, cid: 42}, acc: acc, authName: "alice"}
	mk := func(hdr, payload string) proto.Cmd {
		msg := []byte(hdr + payload + "\r\n")
		cmd := proto.Cmd{Op: proto.OpPub, Subject: []byte("q"), Msg: msg, HdrLen: len(hdr), Size: len(msg) - 2}
		if hdr != "" {
			cmd.Op = proto.OpHPub
		}
		return cmd
	}
	tests := []struct {
		name, hdr, payload, keep string
	}{
		{"no headers", "", "hello", ""},
		{"headers", "NATS/1.0\r\nX-Keep: yes\r\n\r\n", "hello", "yes"},
		{"empty payload", "", "", ""},
		{"forged", "NATS/1.0\r\n" + RequestInfoHeader + `: {"acc":"B","server":"n1","id":7}` + "\r\nX-Keep: yes\r\n\r\n", "hello", "yes"},
		{"forged alone", "NATS/1.0\r\n" + RequestInfoHeader + `: {"acc":"B","server":"n1","id":7}` + "\r\n\r\n", "hello", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := c.withRequestInfo(mk(tt.hdr, tt.payload))
			if out.Op != proto.OpHPub || string(out.Payload()) != tt.payload {
				t.Fatalf("op %v payload %q", out.Op, out.Payload())
			}
			if string(out.HdrArg) != strconv.Itoa(out.HdrLen) || string(out.SizeArg) != strconv.Itoa(out.Size) || len(out.Msg) != out.Size+2 {
				t.Fatalf("sizes: hdr %s/%d size %s/%d msg %d", out.HdrArg, out.HdrLen, out.SizeArg, out.Size, len(out.Msg))
			}
			if v, _ := proto.HeaderValue(out.Header(), "X-Keep"); v != tt.keep {
				t.Errorf("X-Keep %q, want %q", v, tt.keep)
			}
			v, ok := proto.HeaderValue(out.Header(), RequestInfoHeader)
			var ri RequestInfo
			if !ok || json.Unmarshal([]byte(v), &ri) != nil {
				t.Fatalf("no request info in %q", out.Header())
			}
			if ri != (RequestInfo{Account: "A", User: "alice", Server: "n1", ID: 42}) {
				t.Errorf("request info %+v", ri)
			}
		})
	}
}
