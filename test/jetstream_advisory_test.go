package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// The advisories' JSON is pinned field by field against what nats-server
// 2.11.8 sends (captured from /work/ref-bin/nats-server-2.11.8 with the
// same requests); volatile values are replaced by placeholders first.

const advServerName = "adv-test"

func startAdvisoryServer(t *testing.T, dir string) *server.Server {
	t.Helper()
	return startJS(t, dir, func(o *serverOptions) {
		o.ServerName = advServerName
		o.JetStreamDomain = "hub"
	})
}

// advisoryCollector keeps every advisory in arrival order.
type advisoryCollector struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func collectAdvisories(t *testing.T, nc *nats.Conn) *advisoryCollector {
	t.Helper()
	ac := &advisoryCollector{}
	if _, err := nc.Subscribe("$JS.EVENT.ADVISORY.>", func(m *nats.Msg) {
		ac.mu.Lock()
		ac.msgs = append(ac.msgs, m)
		ac.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ac
}

// subjects lists the subjects received so far, the API audit left out.
func (ac *advisoryCollector) subjects() []string {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	var out []string
	for _, m := range ac.msgs {
		if m.Subject != "$JS.EVENT.ADVISORY.API" {
			out = append(out, m.Subject)
		}
	}
	return out
}

func (ac *advisoryCollector) all() []*nats.Msg {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	return append([]*nats.Msg(nil), ac.msgs...)
}

// waitFor waits until the advisory on subj arrived and returns it.
func (ac *advisoryCollector) waitFor(t *testing.T, subj string) *nats.Msg {
	t.Helper()
	var found *nats.Msg
	eventually(t, 10*time.Second, func() bool {
		for _, m := range ac.all() {
			if m.Subject == subj {
				found = m
				return true
			}
		}
		return false
	}, "advisory "+subj)
	return found
}

// normalize decodes an event and replaces what changes from run to run.
func normalize(t *testing.T, data []byte) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("advisory %s: %v", data, err)
	}
	placeholder := func(m map[string]any, key, with string, check func(string) bool) {
		s, ok := m[key].(string)
		if !ok {
			return
		}
		if !check(s) {
			t.Errorf("%s: bad value %q in %s", key, s, data)
		}
		m[key] = with
	}
	isTime := func(s string) bool {
		ts, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && ts.Location() == time.UTC && time.Since(ts) < time.Hour
	}
	placeholder(v, "id", "<id>", func(s string) bool { return len(s) == 22 })
	placeholder(v, "timestamp", "<ts>", isTime)
	if c, ok := v["client"].(map[string]any); ok {
		placeholder(c, "start", "<ts>", isTime)
		if id, ok := c["id"].(float64); !ok || id <= 0 {
			t.Errorf("client id %v", c["id"])
		}
		c["id"] = "<cid>"
		delete(c, "rtt") // measured when the server has pinged the client
	}
	for _, key := range []string{"request", "response"} {
		if _, ok := v[key]; ok {
			v[key] = "<" + key + ">" // compared separately
		}
	}
	if reps, ok := v["replicas"].([]any); ok {
		for _, r := range reps {
			if m, ok := r.(map[string]any); ok {
				placeholder(m, "peer", "<peer>", func(s string) bool { return len(s) == 8 })
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// golden re-encodes want with sorted keys, as normalize does.
func golden(t *testing.T, want string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(want), &v); err != nil {
		t.Fatalf("golden %s: %v", want, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestJetStreamStreamAdvisories(t *testing.T) {
	s := startAdvisoryServer(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	ac := collectAdvisories(t, nc)
	cfg := jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}
	st := mustStream(t, js, cfg)
	// Creating it again, identical, is not a new stream.
	mustStream(t, js, cfg)
	// Stream info names the leader the advisory named, as nats-server's.
	info, err := st.Info(c)
	if err != nil || info.Cluster == nil || info.Cluster.Leader != advServerName || info.Domain != "hub" {
		t.Fatalf("info: %+v %q %v", info.Cluster, info.Domain, err)
	}
	cfg.Description = "changed"
	if _, err := js.UpdateStream(c, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "s.a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(c); err != nil { // nats-server sends no advisory for a purge
		t.Fatal(err)
	}
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "D"}); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(c, "S"); err != nil {
		t.Fatal(err)
	}
	ac.waitFor(t, "$JS.EVENT.ADVISORY.STREAM.DELETED.S")
	want := []string{
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.S",
		"$JS.EVENT.ADVISORY.STREAM.CREATED.S",
		"$JS.EVENT.ADVISORY.STREAM.UPDATED.S",
		"$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.S.D",
		"$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.D",
		"$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.D", // the stream's consumers go first
		"$JS.EVENT.ADVISORY.STREAM.DELETED.S",
	}
	if got := ac.subjects(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("advisories:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	shapes := map[string]string{
		"$JS.EVENT.ADVISORY.STREAM.CREATED.S": `{"type":"io.nats.jetstream.advisory.v1.stream_action","id":"<id>","timestamp":"<ts>",
			"stream":"S","action":"create","domain":"hub"}`,
		"$JS.EVENT.ADVISORY.STREAM.UPDATED.S": `{"type":"io.nats.jetstream.advisory.v1.stream_action","id":"<id>","timestamp":"<ts>",
			"stream":"S","action":"modify","domain":"hub"}`,
		"$JS.EVENT.ADVISORY.STREAM.DELETED.S": `{"type":"io.nats.jetstream.advisory.v1.stream_action","id":"<id>","timestamp":"<ts>",
			"stream":"S","action":"delete","domain":"hub"}`,
		"$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.D": `{"type":"io.nats.jetstream.advisory.v1.consumer_action","id":"<id>","timestamp":"<ts>",
			"stream":"S","consumer":"D","action":"delete","domain":"hub"}`,
		// A 3-node nats-server cluster's shape for an R3 stream; a single
		// nats-server (or an R1 stream) sends none.
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.S": `{"type":"io.nats.jetstream.advisory.v1.stream_leader_elected","id":"<id>","timestamp":"<ts>",
			"stream":"S","leader":"adv-test","replicas":[{"name":"adv-test","current":true,"active":0,"peer":"<peer>"}],"domain":"hub"}`,
		"$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.S.D": `{"type":"io.nats.jetstream.advisory.v1.consumer_leader_elected","id":"<id>","timestamp":"<ts>",
			"stream":"S","consumer":"D","leader":"adv-test","replicas":[{"name":"adv-test","current":true,"active":0,"peer":"<peer>"}],"domain":"hub"}`,
	}
	for _, m := range ac.all() {
		want, ok := shapes[m.Subject]
		if !ok {
			continue
		}
		if got, want := normalize(t, m.Data), golden(t, want); got != want {
			t.Errorf("%s:\n got %s\nwant %s", m.Subject, got, want)
		}
	}
}

func TestJetStreamAPIAudit(t *testing.T) {
	s := startAdvisoryServer(t, "")
	nc := connect(t, s, nats.Name("auditor"))
	ac := collectAdvisories(t, nc)
	req := `{"name":"AUD","subjects":["aud"]}`
	calls := []struct{ subject, body string }{
		{"$JS.API.STREAM.CREATE.AUD", req},
		{"$JS.API.STREAM.INFO.AUD", ""},
		{"$JS.API.STREAM.INFO.MISSING", ""}, // errors are audited too
		{"$JS.API.INFO", ""},
	}
	responses := map[string]string{}
	for _, call := range calls {
		resp, err := nc.Request(call.subject, []byte(call.body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		responses[call.subject] = string(resp.Data)
	}
	for _, call := range calls {
		eventually(t, 10*time.Second, func() bool {
			for _, m := range ac.all() {
				if m.Subject == "$JS.EVENT.ADVISORY.API" && strings.Contains(string(m.Data), `"subject":"`+call.subject+`"`) {
					return true
				}
			}
			return false
		}, "audit of "+call.subject)
	}
	var audits []map[string]any
	for _, m := range ac.all() {
		if m.Subject != "$JS.EVENT.ADVISORY.API" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(m.Data, &v); err != nil {
			t.Fatal(err)
		}
		audits = append(audits, v)
		subj := v["subject"].(string)
		if v["response"] != responses[subj] {
			t.Errorf("%s: audited response\n%v\nclient got\n%s", subj, v["response"], responses[subj])
		}
		var sent string
		for _, call := range calls {
			if call.subject == subj {
				sent = call.body
			}
		}
		if got, _ := v["request"].(string); got != sent {
			t.Errorf("%s: audited request %q, sent %q", subj, got, sent)
		}
		wantShape := `{"type":"io.nats.jetstream.advisory.v1.api_audit","id":"<id>","timestamp":"<ts>","server":"adv-test",
			"client":{"start":"<ts>","host":"127.0.0.1","id":"<cid>","acc":"$G","name":"auditor","lang":"go","ver":"` + nats.Version + `",
				"server":"adv-test","kind":"Client","client_type":"nats"},
			"subject":"` + subj + `","response":"<response>","domain":"hub"}`
		if sent != "" {
			wantShape = strings.Replace(wantShape, `"response"`, `"request":"<request>","response"`, 1)
		}
		if got, want := normalize(t, m.Data), golden(t, wantShape); got != want {
			t.Errorf("%s:\n got %s\nwant %s", subj, got, want)
		}
	}
	if len(audits) != len(calls) {
		t.Errorf("%d audit events for %d requests", len(audits), len(calls))
	}
}

// A stream capturing $JS.EVENT.> records the advisories, and after a
// restart each recovered stream and consumer is announced once (created,
// as nats-server announces them, and leader elected).
func TestJetStreamAdvisoriesRecovered(t *testing.T) {
	dir := t.TempDir()
	s := startAdvisoryServer(t, dir)
	_, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"$JS.EVENT.>"}})
	st := mustStream(t, js, jetstream.StreamConfig{Name: "WORK", Subjects: []string{"work"}})
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "W"}); err != nil {
		t.Fatal(err)
	}
	stored := func(js jetstream.JetStream) []string {
		ev, err := js.Stream(c, "EVENTS")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for seq := uint64(1); seq <= ev.CachedInfo().State.LastSeq; seq++ {
			m, err := ev.GetMsg(c, seq)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != "$JS.EVENT.ADVISORY.API" {
				out = append(out, m.Subject)
			}
		}
		return out
	}
	before := []string{
		// Its own creation too, as nats-server's capturing stream records.
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.EVENTS", "$JS.EVENT.ADVISORY.STREAM.CREATED.EVENTS",
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.WORK", "$JS.EVENT.ADVISORY.STREAM.CREATED.WORK",
		"$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.WORK.W", "$JS.EVENT.ADVISORY.CONSUMER.CREATED.WORK.W",
	}
	var got []string
	eventually(t, 10*time.Second, func() bool {
		got = stored(js)
		return len(got) >= len(before)
	}, "advisories stored")
	if strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatalf("stored %v, want %v", got, before)
	}
	if err := s.Shutdown(c); err != nil {
		t.Fatal(err)
	}

	s2 := startAdvisoryServer(t, dir)
	_, js2 := jsConnect(t, s2)
	// Each recovered stream and consumer is announced once, the capturing
	// stream included, in recovery order.
	required := []string{
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.EVENTS", "$JS.EVENT.ADVISORY.STREAM.CREATED.EVENTS",
		"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.WORK", "$JS.EVENT.ADVISORY.STREAM.CREATED.WORK",
		"$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.WORK.W", "$JS.EVENT.ADVISORY.CONSUMER.CREATED.WORK.W",
	}
	has := func(l []string, s string) int {
		return len(slices.DeleteFunc(slices.Clone(l), func(x string) bool { return x != s }))
	}
	eventually(t, 10*time.Second, func() bool {
		got = stored(js2)
		if len(got) < len(before) {
			return false
		}
		for _, r := range required {
			if has(got[len(before):], r) == 0 {
				return false
			}
		}
		return true
	}, "advisories after restart")
	if strings.Join(got[:len(before)], " ") != strings.Join(before, " ") {
		t.Fatalf("history changed: %v", got)
	}
	for _, r := range required {
		if n := has(got[len(before):], r); n != 1 {
			t.Errorf("%s %d times after restart: %v", r, n, got[len(before):])
		}
	}
}

// The real natscli shows the advisories: it parses each by its type
// ("Event error" otherwise) and renders it in its short format.
func TestJetStreamAdvisoriesNatsCLI(t *testing.T) {
	cli := natsCLIPath(t)
	s := startAdvisoryServer(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)

	runCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, cli, "--server", s.ClientURL(), "--no-context", "events", "--js-advisory", "--short", "--no-srv-advisory")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out strings.Builder
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			mu.Lock()
			out.WriteString(line)
			mu.Unlock()
			if err != nil {
				if err != io.EOF {
					t.Log(err)
				}
				return
			}
		}
	}()
	defer func() {
		cancel() // ends the CLI we started
		_ = cmd.Wait()
		<-readDone
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	// Once it subscribed, its own view of an API request shows up.
	eventually(t, 30*time.Second, func() bool {
		if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return strings.Contains(output(), "[JS API] $JS.API.INFO")
	}, "natscli listening:\n"+output())

	st := mustStream(t, js, jetstream.StreamConfig{Name: "CLI", Subjects: []string{"cli"}})
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "C"}); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(c, "CLI"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[RAFT] Stream CLI elected adv-test of 1 peers",
		"[Stream Create] CLI",
		"[JS API] $JS.API.STREAM.CREATE.CLI",
		"[RAFT] Consumer CLI > C elected adv-test of 1 peers",
		"[Consumer Create] CLI > C",
		"[Consumer Delete] CLI > C",
		"[Stream Delete] CLI",
		"[JS API] $JS.API.STREAM.DELETE.CLI",
	} {
		eventually(t, 20*time.Second, func() bool { return strings.Contains(output(), want) }, want+" in:\n"+output())
	}
	if strings.Contains(output(), "Event error") {
		t.Fatalf("natscli could not parse an event:\n%s", output())
	}
}
