package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// cliStep runs a client command against url and checks its exit code.
func cliStep(t *testing.T, url string, want int, name string, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := runCmd(t, name, append(args, "-s", url)...)
	if code != want {
		t.Fatalf("%s %q: exit %d, want %d\nstdout: %s\nstderr: %s", name, args, code, want, out, errOut)
	}
	return out, errOut
}

// bodies lists the bodies of the messages in next/sub output, which
// prints them as `stream get` does: header line, body, blank line.
func bodies(out string) string {
	var b []string
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "[") && i+1 < len(lines) {
			b = append(b, lines[i+1])
		}
	}
	return strings.Join(b, ",")
}

// ordersStream makes stream ORD on ord.> holding n acknowledged messages
// m1..mn on ord.new.
func ordersStream(t *testing.T, url string, n int) {
	t.Helper()
	cliStep(t, url, 0, "stream", "add", "ORD", "--subjects", "ord.>")
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i] = &nats.Msg{Subject: "ord.new", Data: fmt.Appendf(nil, "m%d", i+1)}
	}
	publishAcked(t, url, msgs...)
}

func consumerState(t *testing.T, url, stream, name string) jetstream.ConsumerInfo {
	t.Helper()
	out, _ := cliStep(t, url, 0, "consumer", "info", stream, name, "--json")
	var ci jetstream.ConsumerInfo
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatalf("info --json: %v\n%s", err, out)
	}
	return ci
}

func TestConsumerPullLifecycle(t *testing.T) {
	url := startJetStream(t)
	ordersStream(t, url, 4)
	out, _ := cliStep(t, url, 0, "consumer", "add", "ORD", "work", "--ack-wait", "5s", "--max-deliver", "3", "--description", "billing")
	for _, want := range []string{"Information for consumer work on stream ORD", "Mode:", "pull", "Ack wait:", "5s", "billing", "Pending:         4"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add output lacks %q:\n%s", want, out)
		}
	}
	out, _ = cliStep(t, url, 0, "consumer", "next", "ORD", "work", "--count", "2")
	if bodies(out) != "m1,m2" || !strings.HasPrefix(out, "[1] Subject: ord.new Received: ") {
		t.Fatalf("next:\n%s", out)
	}
	if ci := consumerState(t, url, "ORD", "work"); ci.NumPending != 2 || ci.NumAckPending != 0 || ci.AckFloor.Stream != 2 {
		t.Fatalf("after next: pending %d, ack pending %d, ack floor %d", ci.NumPending, ci.NumAckPending, ci.AckFloor.Stream)
	}
	// --no-ack leaves the message waiting for its ack.
	if out, _ = cliStep(t, url, 0, "consumer", "next", "ORD", "work", "--no-ack"); bodies(out) != "m3" {
		t.Fatalf("next --no-ack:\n%s", out)
	}
	if ci := consumerState(t, url, "ORD", "work"); ci.NumAckPending != 1 {
		t.Fatalf("after --no-ack: ack pending %d", ci.NumAckPending)
	}
	// sub stops after --count messages and acks them.
	if out, _ = cliStep(t, url, 0, "consumer", "sub", "ORD", "work", "--count", "1"); bodies(out) != "m4" {
		t.Fatalf("sub --count 1:\n%s", out)
	}
	// The server takes acks in order but asynchronously (the stream's ack
	// queue): poll until sub's ack of m4 has been applied.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ = cliStep(t, url, 0, "consumer", "ls", "ORD")
		if strings.HasPrefix(out, "NAME") && strings.Contains(out, "\nwork  -       explicit  0        1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, _ = cliStep(t, url, 0, "consumer", "ls", "ORD", "--names"); out != "work\n" {
		t.Fatalf("ls --names: %q", out)
	}
	if out, _ = cliStep(t, url, 0, "consumer", "rm", "ORD", "work", "-f"); out != "Deleted consumer work from stream ORD\n" {
		t.Fatalf("rm: %q", out)
	}
	for _, args := range [][]string{{"info", "ORD", "work"}, {"next", "ORD", "work"}, {"sub", "ORD", "work"}, {"rm", "ORD", "work", "-f"}} {
		if _, errOut := cliStep(t, url, 1, "consumer", args...); errOut != "starling consumer: consumer work not found on stream ORD\n" {
			t.Errorf("%q after rm: %q", args, errOut)
		}
	}
	if out, _ = cliStep(t, url, 0, "consumer", "ls", "ORD"); out != "No consumers defined\n" {
		t.Fatalf("ls empty: %q", out)
	}
	if _, errOut := cliStep(t, url, 1, "consumer", "ls", "NOPE"); errOut != "starling consumer: stream NOPE not found\n" {
		t.Fatalf("ls missing stream: %q", errOut)
	}
}

func TestConsumerNextTimesOut(t *testing.T) {
	url := startJetStream(t)
	ordersStream(t, url, 0)
	cliStep(t, url, 0, "consumer", "add", "ORD", "idle")
	start := time.Now()
	_, errOut := cliStep(t, url, 1, "consumer", "next", "ORD", "idle", "--timeout", "300ms")
	if errOut != "starling consumer: no message from consumer idle within 300ms (--timeout)\n" {
		t.Fatalf("next on empty: %q", errOut)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("next took %v", d)
	}
}

func TestConsumerStartAndFilters(t *testing.T) {
	url := startJetStream(t)
	cliStep(t, url, 0, "stream", "add", "EV", "--subjects", "ev.>")
	publishAcked(t, url, &nats.Msg{Subject: "ev.a", Data: []byte("a1")}, &nats.Msg{Subject: "ev.b", Data: []byte("b1")},
		&nats.Msg{Subject: "ev.c", Data: []byte("c1")}, &nats.Msg{Subject: "ev.a", Data: []byte("a2")})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"filters", []string{"--filter", "ev.a", "--filter", "ev.c"}, "a1,c1,a2"},
		{"start-seq", []string{"--start-seq", "3"}, "c1,a2"},
		{"last", []string{"--deliver", "last"}, "a2"},
		{"lps", []string{"--deliver", "last_per_subject", "--filter", "ev.a,ev.b"}, "b1,a2"},
		{"start-time", []string{"--start-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "a1,b1,c1,a2"},
		{"ack-none", []string{"--ack", "none", "--filter", "ev.b"}, "b1"},
	}
	for _, c := range cases {
		cliStep(t, url, 0, "consumer", append([]string{"add", "EV", c.name}, c.args...)...)
		if out, _ := cliStep(t, url, 0, "consumer", "next", "EV", c.name, "--count", "10", "--timeout", "500ms"); bodies(out) != c.want {
			t.Errorf("%s %q: got %q, want %q", c.name, c.args, bodies(out), c.want)
		}
	}
	// Updating a consumer in place with a different filter works; a
	// change the server refuses is one line naming the stream.
	cliStep(t, url, 0, "consumer", "add", "EV", "filters", "--filter", "ev.b")
	_, errOut := cliStep(t, url, 1, "consumer", "add", "EV", "filters", "--deliver", "new")
	if !strings.HasPrefix(errOut, "starling consumer: create consumer on EV: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("refused update: %q", errOut)
	}
	if _, errOut = cliStep(t, url, 1, "consumer", "add", "NOPE", "w"); errOut != "starling consumer: create consumer on NOPE: stream NOPE not found\n" {
		t.Errorf("add on missing stream: %q", errOut)
	}
}

func TestConsumerPush(t *testing.T) {
	url := startJetStream(t)
	ordersStream(t, url, 3)
	out, _ := cliStep(t, url, 0, "consumer", "add", "ORD", "pusher", "--deliver-subject", "out.pusher",
		"--deliver-group", "workers", "--heartbeat", "1s", "--flow-control")
	for _, want := range []string{"push to out.pusher", "Deliver group:", "workers", "Idle heartbeat:", "Push bound:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add push lacks %q:\n%s", want, out)
		}
	}
	if _, errOut := cliStep(t, url, 1, "consumer", "next", "ORD", "pusher"); !strings.Contains(errOut, "is a push consumer: read it with 'starling consumer sub'") {
		t.Fatalf("next on push: %q", errOut)
	}
	if out, _ = cliStep(t, url, 0, "consumer", "sub", "ORD", "pusher", "--count", "3"); bodies(out) != "m1,m2,m3" {
		t.Fatalf("sub push:\n%s", out)
	}
	eventually(t, 5*time.Second, "acks processed", func() bool {
		return consumerState(t, url, "ORD", "pusher").NumAckPending == 0
	})
	out, _ = cliStep(t, url, 0, "consumer", "ls", "ORD")
	if !strings.Contains(out, "pusher") || !strings.HasSuffix(out, "push\n") {
		t.Fatalf("ls:\n%s", out)
	}
}

// TestConsumerSubFollows runs `consumer sub` with no count: it prints new
// messages as they arrive and ends cleanly when interrupted.
func TestConsumerSubFollows(t *testing.T) {
	url := startJetStream(t)
	ordersStream(t, url, 1)
	cliStep(t, url, 0, "consumer", "add", "ORD", "live")
	r := startCmd(t, "consumer", "sub", "ORD", "live", "-s", url)
	eventually(t, 5*time.Second, "the stored message", func() bool { return bodies(r.stdout.String()) == "m1" })
	publishAcked(t, url, &nats.Msg{Subject: "ord.new", Data: []byte("later")})
	eventually(t, 5*time.Second, "the new message", func() bool { return bodies(r.stdout.String()) == "m1,later" })
	r.cancel()
	if code := r.wait(t); code != 0 {
		t.Fatalf("sub ended with %d: %s", code, r.stderr)
	}
	if ci := consumerState(t, url, "ORD", "live"); ci.NumAckPending != 0 || ci.AckFloor.Stream != 2 {
		t.Fatalf("after sub: ack pending %d, floor %d", ci.NumAckPending, ci.AckFloor.Stream)
	}
}

// TestConsumerTimeout answers nothing on the JetStream API: every action
// gives up after --timeout with a one-line error.
func TestConsumerTimeout(t *testing.T) {
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
	for _, args := range [][]string{{"add", "S", "w"}, {"info", "S", "w"}, {"ls", "S"}, {"rm", "S", "w", "-f"}, {"next", "S", "w"}, {"sub", "S", "w"}} {
		start := time.Now()
		code, _, errOut := runCmd(t, "consumer", append(args, "-s", url, "--timeout", "200ms")...)
		if code != 1 || !strings.HasSuffix(errOut, "no reply from JetStream within 200ms (--timeout)\n") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d: %q", args, code, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}
