package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestNatsCLI drives the official `nats` CLI through what an operator does
// every day, against one Starling server with JetStream. Each step is a
// real CLI process; results are read back with the CLI's --json output
// where it has one. A break in any JetStream API the CLI uses fails here.
//
// STARLING_NATSCLI_REFERENCE=nats://host:port runs the same steps against
// another server (a fresh nats-server -js), to check the test itself.
func TestNatsCLI(t *testing.T) {
	url := os.Getenv("STARLING_NATSCLI_REFERENCE")
	if url == "" {
		url = startJS(t, "").ClientURL()
	}
	c := newNatsCLI(t, url)

	t.Run("connection", func(t *testing.T) {
		c.t = t
		c.run("server", "check", "connection")
		c.run("rtt")
		c.run("account", "info")
	})
	t.Run("stream", func(t *testing.T) { c.t = t; cliStream(c) })
	t.Run("consumer", func(t *testing.T) { c.t = t; cliConsumer(c) })
	t.Run("backup", func(t *testing.T) { c.t = t; cliBackup(c) })
	t.Run("kv", func(t *testing.T) { c.t = t; cliKV(c) })
	t.Run("object", func(t *testing.T) { c.t = t; cliObject(c) })
	t.Run("bench", func(t *testing.T) { c.t = t; cliBench(c) })
	t.Run("service", func(t *testing.T) { c.t = t; cliService(c) })
	t.Run("events", func(t *testing.T) { c.t = t; cliEvents(c) })
	t.Run("trace", func(t *testing.T) { c.t = t; cliTrace(c, url) })
}

type cliStreamInfo struct {
	Config struct {
		Name     string   `json:"name"`
		Subjects []string `json:"subjects"`
		MaxMsgs  int64    `json:"max_msgs"`
	} `json:"config"`
	State struct {
		Msgs     uint64 `json:"messages"`
		LastSeq  uint64 `json:"last_seq"`
		FirstSeq uint64 `json:"first_seq"`
	} `json:"state"`
}

type cliConsumerInfo struct {
	Config struct {
		Name       string `json:"name"`
		MaxDeliver int    `json:"max_deliver"`
	} `json:"config"`
	Delivered struct {
		Stream uint64 `json:"stream_seq"`
	} `json:"delivered"`
	AckFloor struct {
		Stream uint64 `json:"stream_seq"`
	} `json:"ack_floor"`
	NumPending uint64 `json:"num_pending"`
	Paused     bool   `json:"paused"`
}

func (c *natsCLI) streamInfo(name string) cliStreamInfo {
	c.t.Helper()
	var si cliStreamInfo
	c.runJSON(&si, "stream", "info", name, "--json")
	return si
}

func (c *natsCLI) consumerInfo(stream, name string) cliConsumerInfo {
	c.t.Helper()
	var ci cliConsumerInfo
	c.runJSON(&ci, "consumer", "info", stream, name, "--json")
	return ci
}

func cliStream(c *natsCLI) {
	t := c.t
	c.run("stream", "add", "ORDERS", "--subjects", "orders.>", "--defaults")
	if si := c.streamInfo("ORDERS"); si.Config.Name != "ORDERS" || len(si.Config.Subjects) != 1 || si.Config.Subjects[0] != "orders.>" {
		t.Fatalf("stream info after add: %+v", si)
	}
	c.run("stream", "edit", "ORDERS", "--max-msgs", "1000", "-f")
	if si := c.streamInfo("ORDERS"); si.Config.MaxMsgs != 1000 {
		t.Fatalf("max_msgs after edit = %d, want 1000", si.Config.MaxMsgs)
	}
	c.run("publish", "orders.new", "order {{Count}}", "--count", "10")
	if si := c.streamInfo("ORDERS"); si.State.Msgs != 10 || si.State.LastSeq != 10 {
		t.Fatalf("state after 10 publishes: %+v", si.State)
	}
	if out := c.run("stream", "ls"); !strings.Contains(out, "ORDERS") {
		t.Fatalf("stream ls:\n%s", out)
	}
	if out := c.run("stream", "subjects", "ORDERS"); !strings.Contains(out, "orders.new") {
		t.Fatalf("stream subjects:\n%s", out)
	}
	if out := c.run("stream", "get", "ORDERS", "3"); !strings.Contains(out, "order 3") {
		t.Fatalf("stream get 3:\n%s", out)
	}
	// view creates an ordered consumer (the CLI sends pause_until).
	if out := c.runTTY("stream", "view", "ORDERS", "25"); !strings.Contains(out, "order 10") {
		t.Fatalf("stream view:\n%s", out)
	}
	c.run("stream", "rmm", "ORDERS", "2", "-f")
	c.run("stream", "report")
	c.run("stream", "state", "ORDERS")
	c.run("stream", "copy", "ORDERS", "ORDERS_COPY", "--subjects", "copy.>")
	c.run("stream", "rm", "ORDERS_COPY", "-f")
	c.run("stream", "purge", "ORDERS", "-f")
	if si := c.streamInfo("ORDERS"); si.State.Msgs != 0 || si.State.LastSeq != 10 {
		t.Fatalf("state after purge: %+v", si.State)
	}
}

func cliConsumer(c *natsCLI) {
	t := c.t
	c.run("publish", "orders.new", "job {{Count}}", "--count", "5")
	c.run("consumer", "add", "ORDERS", "WORKER", "--pull", "--defaults")
	c.run("consumer", "add", "ORDERS", "PUSHER", "--target", "deliver.pusher", "--defaults")
	if out := c.run("consumer", "ls", "ORDERS"); !strings.Contains(out, "WORKER") || !strings.Contains(out, "PUSHER") {
		t.Fatalf("consumer ls:\n%s", out)
	}
	out := c.run("consumer", "next", "ORDERS", "WORKER", "--count", "3")
	if !strings.Contains(out, "job 1") || !strings.Contains(out, "job 3") {
		t.Fatalf("consumer next:\n%s", out)
	}
	if ci := c.consumerInfo("ORDERS", "WORKER"); ci.AckFloor.Stream != 13 || ci.NumPending != 2 {
		t.Fatalf("consumer info after 3 acked: ack floor %d, pending %d", ci.AckFloor.Stream, ci.NumPending)
	}
	c.run("consumer", "edit", "ORDERS", "WORKER", "--max-deliver", "5", "-f")
	if ci := c.consumerInfo("ORDERS", "WORKER"); ci.Config.MaxDeliver != 5 {
		t.Fatalf("max_deliver after edit = %d", ci.Config.MaxDeliver)
	}
	until := time.Now().Add(time.Hour).Format(time.DateTime)
	c.run("consumer", "pause", "ORDERS", "WORKER", until, "-f")
	if ci := c.consumerInfo("ORDERS", "WORKER"); !ci.Paused {
		t.Fatal("consumer not paused")
	}
	c.run("consumer", "resume", "ORDERS", "WORKER", "-f")
	if ci := c.consumerInfo("ORDERS", "WORKER"); ci.Paused {
		t.Fatal("consumer still paused after resume")
	}
	c.run("consumer", "report", "ORDERS")
	c.run("consumer", "rm", "ORDERS", "PUSHER", "-f")
}

func cliBackup(c *natsCLI) {
	t := c.t
	dir := filepath.Join(t.TempDir(), "orders")
	before := c.streamInfo("ORDERS")
	c.run("backup", "stream", "ORDERS", dir, "--consumers", "--no-progress")
	c.run("stream", "rm", "ORDERS", "-f")
	c.run("backup", "restore", "stream", dir, "--no-progress")
	after := c.streamInfo("ORDERS")
	if after.State != before.State {
		t.Fatalf("state after restore %+v, before backup %+v", after.State, before.State)
	}
	if ci := c.consumerInfo("ORDERS", "WORKER"); ci.AckFloor.Stream != 13 {
		t.Fatalf("restored consumer's ack floor = %d, want 13", ci.AckFloor.Stream)
	}
	// The older command names still work.
	old := filepath.Join(t.TempDir(), "old")
	c.run("stream", "backup", "ORDERS", old)
	account := filepath.Join(t.TempDir(), "account")
	c.run("account", "backup", account, "-f")
}

func cliKV(c *natsCLI) {
	t := c.t
	c.run("kv", "add", "CONFIG", "--history", "5")
	c.run("kv", "put", "CONFIG", "color", "blue")
	c.run("kv", "put", "CONFIG", "color", "green")
	if out := c.run("kv", "get", "CONFIG", "color", "--raw"); strings.TrimSpace(out) != "green" {
		t.Fatalf("kv get: %q", out)
	}
	c.run("kv", "create", "CONFIG", "size", "large")
	if _, err := c.try("kv", "create", "CONFIG", "size", "small"); err == nil {
		t.Fatal("kv create of an existing key succeeded")
	}
	c.run("kv", "update", "CONFIG", "size", "medium", "3")
	if out := c.run("kv", "history", "CONFIG", "color"); !strings.Contains(out, "blue") || !strings.Contains(out, "green") {
		t.Fatalf("kv history:\n%s", out)
	}
	if out := c.run("kv", "ls", "CONFIG"); !strings.Contains(out, "color") || !strings.Contains(out, "size") {
		t.Fatalf("kv ls CONFIG:\n%s", out)
	}
	if out := c.run("kv", "ls"); !strings.Contains(out, "CONFIG") {
		t.Fatalf("kv ls:\n%s", out)
	}
	c.run("kv", "status", "CONFIG")
	c.run("kv", "del", "CONFIG", "color", "-f")
	if _, err := c.try("kv", "get", "CONFIG", "color"); err == nil {
		t.Fatal("kv get of a deleted key succeeded")
	}
	c.run("kv", "purge", "CONFIG", "size", "-f")
	c.run("kv", "rm", "CONFIG", "-f")
}

func cliObject(c *natsCLI) {
	t := c.t
	dir := t.TempDir()
	src := filepath.Join(dir, "report.txt")
	data := strings.Repeat("starling object store\n", 50_000) // about 1 MiB: several chunks
	if err := os.WriteFile(src, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c.run("object", "add", "FILES")
	c.run("object", "put", "FILES", src, "--name", "report.txt", "--no-progress")
	if out := c.run("object", "ls", "FILES"); !strings.Contains(out, "report.txt") {
		t.Fatalf("object ls:\n%s", out)
	}
	c.run("object", "info", "FILES", "report.txt")
	dst := filepath.Join(dir, "copy.txt")
	c.run("object", "get", "FILES", "report.txt", "--output", dst, "--no-progress")
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != data {
		t.Fatalf("object get: %d bytes, %v", len(got), err)
	}
	c.run("object", "rm", "FILES", "report.txt", "-f")
	if _, err := c.try("object", "info", "FILES", "report.txt"); err == nil {
		t.Fatal("object info of a removed object succeeded")
	}
	if out := c.run("object", "ls"); !strings.Contains(out, "FILES") {
		t.Fatalf("object ls (buckets):\n%s", out)
	}
	c.run("object", "seal", "FILES", "-f")
	c.run("object", "rm", "FILES", "-f")
}

func cliBench(c *natsCLI) {
	c.run("bench", "pub", "bench.core", "--msgs", "2000", "--no-progress")
	c.run("bench", "js", "pub", "async", "bench.js", "--msgs", "2000", "--create", "--purge", "--no-progress")
	// fetch and consume share the durable "nats-bench", which fetch keeps
	// after it is done: remove it so consume reads the messages again.
	c.run("bench", "js", "fetch", "--msgs", "2000", "--no-progress")
	c.run("consumer", "rm", "benchstream", "nats-bench", "-f")
	c.run("bench", "js", "consume", "--msgs", "2000", "--no-progress")
	c.run("bench", "js", "ordered", "--msgs", "2000", "--no-progress")
	c.run("bench", "kv", "put", "--msgs", "200", "--no-progress")
	c.run("bench", "kv", "get", "--msgs", "200", "--no-progress")
}

func cliService(c *natsCLI) {
	t := c.t
	svc := c.background("service", "serve", "cli-echo")
	// Discovery waits --timeout for answers; a short one keeps polling fast.
	eventually(t, cliTimeout, func() bool {
		out, err := c.try("service", "list", "--timeout", "1s")
		return err == nil && strings.Contains(out, "cli-echo")
	}, "the demo service to be listed\n"+svc.output())
	c.run("service", "info", "cli-echo", "--timeout", "2s")
	c.run("service", "stats", "cli-echo", "--timeout", "2s")
	c.run("service", "ping", "cli-echo", "--timeout", "2s")
}

func cliEvents(c *natsCLI) {
	t := c.t
	ev := c.background("events", "--js-advisory", "--json")
	// The CLI's subscription may not be in place yet: change streams until
	// it reports one.
	n := 0
	eventually(t, cliTimeout, func() bool {
		n++
		name := fmt.Sprintf("EVENTS%d", n)
		c.run("stream", "add", name, "--subjects", strings.ToLower(name)+".>", "--defaults")
		c.run("stream", "rm", name, "-f")
		return strings.Contains(ev.output(), "io.nats.jetstream.advisory.v1.stream_action")
	}, "a stream_action advisory\n"+ev.output())
}

func cliTrace(c *natsCLI, url string) {
	t := c.t
	nc, err := nats.Connect(url, nats.Name("trace-target"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe("traced.subject", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	out := c.run("trace", "traced.subject", "hello")
	if !strings.Contains(out, "trace-target") {
		t.Fatalf("trace does not show the subscriber's connection:\n%s", out)
	}
}
