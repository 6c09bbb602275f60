package test

import (
	"testing"
	"time"
)

func TestPubSubBasic(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("foo")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("foo", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "hello" || m.Subject != "foo" {
		t.Fatalf("got %q on %q", m.Data, m.Subject)
	}
}
