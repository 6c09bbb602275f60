package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// streamRunner runs `starling stream …` against url and checks the exit code.
func streamRunner(t *testing.T, url string) func(want int, args ...string) (string, string) {
	return func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCmd(t, "stream", append(args, "-s", url)...)
		if code != want {
			t.Fatalf("stream %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errOut)
		}
		return out, errOut
	}
}

// publishAcked publishes through JetStream, so each message is stored
// when the call returns.
func publishAcked(t *testing.T, url string, msgs ...*nats.Msg) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range msgs {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("publish %s: %v", m.Subject, err)
		}
	}
}

// tableRow is the first three columns of name's row in `stream ls` output.
func tableRow(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == name {
			return strings.Join(f[:3], " ")
		}
	}
	return ""
}

// seqs lists the sequences of the messages in view/get output.
func seqs(out string) string {
	var s []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "[") {
			s = append(s, line[1:strings.IndexByte(line, ']')])
		}
	}
	return strings.Join(s, ",")
}

func TestStreamLifecycle(t *testing.T) {
	url := startJetStream(t)
	step := streamRunner(t, url)
	out, _ := step(0, "add", "ORDERS", "--subjects", "orders.>", "--max-msgs", "1000", "--description", "shop")
	for _, want := range []string{"Information for stream ORDERS", "Description:", "shop", "orders.>", "1,000"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add output lacks %q:\n%s", want, out)
		}
	}
	// Plain publishes through the CLI are not acknowledged: poll until stored.
	for i := range 3 {
		if code, _, errOut := runCmd(t, "pub", "orders.new", fmt.Sprintf("m%d", i), "-s", url); code != 0 {
			t.Fatalf("pub: %s", errOut)
		}
	}
	eventually(t, 5*time.Second, "3 messages stored", func() bool {
		out, _ := step(0, "info", "ORDERS")
		return strings.Contains(out, "  Messages:          3\n")
	})
	out, _ = step(0, "ls")
	if !strings.HasPrefix(out, "NAME") || tableRow(out, "ORDERS") != "ORDERS orders.> 3" {
		t.Fatalf("ls:\n%s", out)
	}
	if out, _ = step(0, "ls", "--names"); out != "ORDERS\n" {
		t.Fatalf("ls --names: %q", out)
	}
	out, _ = step(0, "get", "ORDERS", "2")
	if !strings.HasPrefix(out, "[2] Subject: orders.new Received: ") || !strings.HasSuffix(out, "\nm1\n\n") {
		t.Fatalf("get:\n%s", out)
	}
	if out, _ = step(0, "get", "ORDERS", "--last-for", "orders.new"); seqs(out) != "3" {
		t.Fatalf("get --last-for:\n%s", out)
	}
	if out, _ = step(0, "view", "ORDERS", "--since", "2"); seqs(out) != "2,3" {
		t.Fatalf("view --since 2:\n%s", out)
	}
	if _, errOut := step(1, "get", "ORDERS", "99"); errOut != "starling stream: no message 99 in stream ORDERS\n" {
		t.Fatalf("get missing: %q", errOut)
	}
	if _, errOut := step(1, "purge", "ORDERS"); !strings.Contains(errOut, "--force") {
		t.Fatalf("purge without --force: %s", errOut)
	}
	if out, _ = step(0, "purge", "ORDERS", "--keep", "1", "--force"); out != "Purged 2 messages from ORDERS; 1 left\n" {
		t.Fatalf("purge: %q", out)
	}
	out, _ = step(0, "info", "ORDERS", "--json")
	var si jetstream.StreamInfo
	if err := json.Unmarshal([]byte(out), &si); err != nil || si.Config.Name != "ORDERS" || si.State.Msgs != 1 ||
		si.State.FirstSeq != 3 || !strings.Contains(out, `"orders.>"`) {
		t.Fatalf("info --json (%v):\n%s", err, out)
	}
	if out, _ = step(0, "rm", "ORDERS", "--force"); out != "Deleted stream ORDERS\n" {
		t.Fatalf("rm: %q", out)
	}
	for _, args := range [][]string{{"info", "ORDERS"}, {"rm", "ORDERS", "-f"}, {"get", "ORDERS", "1"}, {"view", "ORDERS"}} {
		if _, errOut := step(1, args...); errOut != "starling stream: stream ORDERS not found\n" {
			t.Fatalf("%q after rm: %q", args, errOut)
		}
	}
	if out, _ = step(0, "ls"); out != "No streams defined\n" {
		t.Fatalf("ls empty: %q", out)
	}
}

func TestStreamConfigFileAndFilters(t *testing.T) {
	url := startJetStream(t)
	step := streamRunner(t, url)
	cfg := writeFile(t, "events.json", `{"name":"EVENTS","subjects":["ev.>"],"storage":"memory","max_msgs_per_subject":10}`)
	out, _ := step(0, "add", "--config", cfg, "--allow-direct", "--max-bytes", "1MiB")
	for _, want := range []string{"Information for stream EVENTS", "Storage:            memory", "Direct get:         true",
		"Max per subject:    10", "Max bytes:          1.00 MiB"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add --config lacks %q:\n%s", want, out)
		}
	}
	// A different configuration under the same name is refused in one line.
	_, errOut := step(1, "add", "EVENTS", "--subjects", "other")
	if !strings.HasPrefix(errOut, "starling stream: create stream EVENTS: ") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("add again: %q", errOut)
	}
	if out, errOut = step(0, "view", "EVENTS"); out != "" || !strings.Contains(errOut, "no messages in EVENTS") {
		t.Fatalf("view empty: %q %q", out, errOut)
	}
	traced := nats.NewMsg("ev.b")
	traced.Header.Set("X-Trace", "t1")
	traced.Data = []byte("b0")
	publishAcked(t, url, // sequences 1..6
		&nats.Msg{Subject: "ev.a", Data: []byte("a0")}, traced, &nats.Msg{Subject: "ev.a", Data: []byte("a1")},
		&nats.Msg{Subject: "ev.c", Data: []byte("c0")}, &nats.Msg{Subject: "ev.b", Data: []byte("b1")},
		&nats.Msg{Subject: "ev.a", Data: []byte("a2")})

	views := []struct {
		args []string
		want string
	}{
		{[]string{"--subject", "ev.b"}, "2,5"},
		{[]string{"--subject", "ev.a", "--since", "2"}, "3,6"},
		{[]string{"--since", "3", "--count", "2"}, "3,4"},
		{[]string{"--count", "0"}, "1,2,3,4,5,6"},
		{[]string{"--subject", "ev.*", "--count", "1"}, "1"},
	}
	for _, v := range views {
		if out, _ = step(0, append([]string{"view", "EVENTS"}, v.args...)...); seqs(out) != v.want {
			t.Errorf("view %q: sequences %q, want %q\n%s", v.args, seqs(out), v.want, out)
		}
	}
	// Direct get is allowed here, so these go through DIRECT.GET.
	if out, _ = step(0, "get", "EVENTS", "2"); !strings.HasPrefix(out, "[2] Subject: ev.b ") || !strings.HasSuffix(out, "\n  X-Trace: t1\n\nb0\n\n") {
		t.Errorf("get with headers:\n%s", out)
	}
	if out, _ = step(0, "get", "EVENTS", "--last-for", "ev.b"); seqs(out) != "5" {
		t.Errorf("get --last-for ev.b:\n%s", out)
	}
	if _, errOut = step(1, "get", "EVENTS", "--last-for", "ev.zzz"); errOut != "starling stream: no message on ev.zzz in stream EVENTS\n" {
		t.Errorf("get --last-for missing: %q", errOut)
	}

	if out, _ = step(0, "ls", "--subject", "ev.a"); tableRow(out, "EVENTS") != "EVENTS ev.> 6" {
		t.Errorf("ls --subject ev.a:\n%s", out)
	}
	if out, _ = step(0, "ls", "--names", "--subject", "other.>"); out != "" {
		t.Errorf("ls --names --subject other.>: %q", out)
	}
	if out, _ = step(0, "purge", "EVENTS", "--subject", "ev.a", "--force"); out != "Purged 3 messages from EVENTS; 3 left\n" {
		t.Errorf("purge --subject: %q", out)
	}
	if out, _ = step(0, "purge", "EVENTS", "--seq", "5", "--force"); out != "Purged 2 messages from EVENTS; 1 left\n" {
		t.Errorf("purge --seq: %q", out)
	}
	if out, _ = step(0, "view", "EVENTS"); seqs(out) != "5" || !strings.Contains(out, "\nb1\n") {
		t.Errorf("view after purges:\n%s", out)
	}
}

func TestStreamWithoutJetStream(t *testing.T) {
	url := startServer(t)
	for _, args := range [][]string{{"ls"}, {"info", "S"}, {"add", "S"}} {
		code, _, errOut := runCmd(t, "stream", append(args, "-s", url)...)
		if code != 1 || !strings.Contains(errOut, "JetStream is not enabled on the server\n") {
			t.Errorf("%q: exit %d: %q", args, code, errOut)
		}
	}
}

// TestStreamTimeout answers nothing on the JetStream API: every action
// must give up after --timeout with a one-line error.
func TestStreamTimeout(t *testing.T) {
	url := startServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("$JS.API.>") // interest, but never a reply
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"info", "S"}, {"ls"}, {"ls", "-n"}, {"add", "S"}, {"view", "S"}, {"rm", "S", "-f"}} {
		start := time.Now()
		code, _, errOut := runCmd(t, "stream", append(args, "-s", url, "--timeout", "200ms")...)
		if code != 1 || !strings.HasSuffix(errOut, "no reply from JetStream within 200ms (--timeout)\n") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d: %q", args, code, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}
