package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// The accounts of the JetStream-per-account tests: A with limits, B
// without, C without JetStream, SYS the system account. jsAccountsConf is
// the same setup for nats-server.
const jsAccountsConf = `
jetstream { store_dir: %q }
accounts {
  A: { users: [{user: a, password: a}], jetstream: { max_mem: 1000000, max_file: 10000000, max_streams: 2, max_consumers: 1 } }
  B: { users: [{user: b, password: b}], jetstream: enabled }
  C: { users: [{user: c, password: c}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS
`

func jsAccountsOptions(o *serverOptions) {
	o.Accounts = []server.AccountOptions{
		{Name: "A", JetStream: &server.AccountJetStream{MaxMemory: 1000000, MaxStore: 10000000, MaxStreams: 2, MaxConsumers: 1}},
		{Name: "B", JetStream: &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}},
		{Name: "C"},
		{Name: "SYS"},
	}
	o.SystemAccount = "SYS"
	o.Users = nil
	for _, u := range []string{"a", "b", "c", "sys"} {
		o.Users = append(o.Users, &server.User{Username: u, Password: u, Account: strings.ToUpper(u)})
	}
}

// jsAccountStep is one request of the script, made as user.
type jsAccountStep struct {
	user, subject, body string
	exact               bool // compare the whole reply, not only its outcome
}

// jsAccountScript exercises isolation, the refusal of accounts without
// JetStream, and A's limits, in an order where each step's outcome
// depends on the ones before.
var jsAccountScript = func() []jsAccountStep {
	steps := []jsAccountStep{
		{user: "c", subject: "$JS.API.INFO", exact: true},
		{user: "sys", subject: "$JS.API.INFO", exact: true},
		{user: "c", subject: "$JS.API.STREAM.CREATE.X", body: `{"name":"X","subjects":["x"]}`, exact: true},
		{user: "c", subject: "$JS.API.STREAM.NAMES", exact: true},
		{user: "c", subject: "$JS.API.STREAM.LIST", exact: true},
		{user: "c", subject: "$JS.API.STREAM.INFO.X", exact: true},
		{user: "c", subject: "$JS.API.STREAM.PURGE.X", exact: true},
		{user: "c", subject: "$JS.API.CONSUMER.NAMES.X", exact: true},
		{user: "c", subject: "$JS.API.CONSUMER.INFO.X.Y", exact: true},
		{user: "c", subject: "$JS.API.STREAM.MSG.GET.X", body: `{"seq":1}`, exact: true},
		{user: "c", subject: "$JS.API.NOT.AN.API"},
		{user: "sys", subject: "$JS.API.STREAM.NAMES"},
		{user: "a", subject: "$JS.API.STREAM.CREATE.S1", body: `{"name":"S1","subjects":["s1"],"storage":"memory"}`},
		{user: "a", subject: "$JS.API.STREAM.CREATE.S2", body: `{"name":"S2","subjects":["s2"],"max_bytes":20000000}`},
		{user: "a", subject: "$JS.API.STREAM.CREATE.S2", body: `{"name":"S2","subjects":["s2"],"storage":"memory","max_bytes":2000000}`},
		{user: "a", subject: "$JS.API.STREAM.CREATE.S2", body: `{"name":"S2","subjects":["s2"],"max_bytes":5000000}`},
		{user: "a", subject: "$JS.API.STREAM.UPDATE.S2", body: `{"name":"S2","subjects":["s2"],"max_bytes":50000000}`},
		{user: "a", subject: "$JS.API.STREAM.CREATE.S3", body: `{"name":"S3","subjects":["s3"]}`},
		{user: "a", subject: "$JS.API.CONSUMER.CREATE.S1.c1", body: `{"stream_name":"S1","config":{"durable_name":"c1","name":"c1","ack_policy":"explicit"}}`},
		{user: "a", subject: "$JS.API.CONSUMER.CREATE.S1.c2", body: `{"stream_name":"S1","config":{"durable_name":"c2","name":"c2","ack_policy":"explicit"}}`},
		{user: "a", subject: "$JS.API.CONSUMER.CREATE.S2.c2", body: `{"stream_name":"S2","config":{"durable_name":"c2","name":"c2","ack_policy":"explicit"}}`},
		// The same stream name in another account.
		{user: "b", subject: "$JS.API.STREAM.CREATE.S1", body: `{"name":"S1","subjects":["s1"]}`},
		{user: "b", subject: "s1", body: "b's"},
	}
	// 100 kB messages in A's memory stream: the tenth passes A's 1 MB.
	big := strings.Repeat("x", 100000)
	for range 11 {
		steps = append(steps, jsAccountStep{user: "a", subject: "s1", body: big})
	}
	return append(steps,
		jsAccountStep{user: "a", subject: "$JS.API.INFO"},
		jsAccountStep{user: "b", subject: "$JS.API.INFO"},
		jsAccountStep{user: "a", subject: "$JS.API.STREAM.INFO.S1"},
		jsAccountStep{user: "b", subject: "$JS.API.STREAM.INFO.S1"},
	)
}()

// runJSAccountScript makes every request of the script on url and returns
// each outcome.
func runJSAccountScript(t *testing.T, url string) []string {
	t.Helper()
	conns := map[string]*nats.Conn{}
	for _, u := range []string{"a", "b", "c", "sys"} {
		nc, err := nats.Connect(url, nats.UserInfo(u, u))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		conns[u] = nc
	}
	var out []string
	for _, st := range jsAccountScript {
		msg, err := conns[st.user].Request(st.subject, []byte(st.body), 2*time.Second)
		switch {
		case errors.Is(err, nats.ErrTimeout):
			out = append(out, "timeout")
		case errors.Is(err, nats.ErrNoResponders):
			out = append(out, "no responders")
		case err != nil:
			t.Fatalf("%s %s: %v", st.user, st.subject, err)
		case st.exact:
			out = append(out, canonicalJSON(t, msg.Data))
		default:
			out = append(out, replyOutcome(t, msg.Data))
		}
	}
	return out
}

// canonicalJSON re-encodes a JSON document with sorted keys.
func canonicalJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// replyOutcome is what a reply says, without what changes from run to run:
// its error, or the figures the script checks.
func replyOutcome(t *testing.T, b []byte) string {
	t.Helper()
	var r struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
		Stream    string          `json:"stream"`
		Seq       uint64          `json:"seq"`
		Memory    *uint64         `json:"memory"`
		Streams   *int            `json:"streams"`
		Consumers *int            `json:"consumers"`
		Limits    json.RawMessage `json:"limits"`
		State     *struct {
			Msgs uint64 `json:"messages"`
		} `json:"state"`
		Config *struct {
			Name string `json:"name"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	switch {
	case r.Error != nil:
		return fmt.Sprintf("error %d %d %s", r.Error.Code, r.Error.ErrCode, r.Error.Description)
	case r.Limits != nil:
		return fmt.Sprintf("info streams=%d consumers=%d memory>0=%v limits=%s", *r.Streams, *r.Consumers, *r.Memory > 0, canonicalJSON(t, r.Limits))
	case r.State != nil && r.Config != nil:
		return fmt.Sprintf("stream %s messages=%d", r.Config.Name, r.State.Msgs)
	case r.Stream != "":
		return fmt.Sprintf("ack %s %d", r.Stream, r.Seq)
	}
	return "ok"
}

// TestAccountsJetStreamReference runs the script against Debian's
// nats-server and against Starling: every outcome must be the same.
func TestAccountsJetStreamReference(t *testing.T) {
	bin := natsServerPath(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(jsAccountsConf, filepath.Join(dir, "store"))), 0o600); err != nil {
		t.Fatal(err)
	}
	want := runJSAccountScript(t, startNatsServerArgs(t, bin, "-c", conf, "-a", "127.0.0.1", "-p", "-1"))
	s := startJS(t, "", jsAccountsOptions)
	got := runJSAccountScript(t, s.ClientURL())
	for i := range want {
		t.Logf("%s %s: %.150s", jsAccountScript[i].user, jsAccountScript[i].subject, want[i])
		if got[i] != want[i] {
			st := jsAccountScript[i]
			t.Errorf("step %d (%s %s):\n got %s\nwant %s", i, st.user, st.subject, got[i], want[i])
		}
	}
}

// TestAccountsJetStreamIsolation: two accounts each have a stream, a
// consumer and a KV bucket of the same name, see only their own messages,
// and find them again after a restart, each in its own directory.
func TestAccountsJetStreamIsolation(t *testing.T) {
	dir := t.TempDir()
	opts := &server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: dir}
	jsAccountsOptions(opts)
	start := func() *server.Server {
		s, err := server.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stop := func(s *server.Server) {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(c); err != nil {
			t.Fatal(err)
		}
	}
	s := start()
	for _, u := range []string{"a", "b"} {
		nc, js := connectAs(t, s, u)
		if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		for i := range 3 {
			if _, err := js.Publish(ctx(t), "orders."+u, []byte(fmt.Sprintf("%s-%d", u, i))); err != nil {
				t.Fatal(err)
			}
		}
		kv, err := js.CreateKeyValue(ctx(t), jetstream.KeyValueConfig{Bucket: "CFG"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx(t), "owner", []byte(u)); err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	check := func(s *server.Server) {
		for _, u := range []string{"a", "b"} {
			_, js := connectAs(t, s, u)
			st, err := js.Stream(ctx(t), "ORDERS")
			if err != nil {
				t.Fatal(err)
			}
			if n := st.CachedInfo().State.Msgs; n != 3 {
				t.Fatalf("%s: ORDERS has %d messages, want 3", u, n)
			}
			c, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := c.FetchNoWait(10)
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if !bytes.HasPrefix(m.Data(), []byte(u+"-")) {
					t.Fatalf("%s read %q from its ORDERS", u, m.Data())
				}
			}
			kv, err := js.KeyValue(ctx(t), "CFG")
			if err != nil {
				t.Fatal(err)
			}
			e, err := kv.Get(ctx(t), "owner")
			if err != nil || string(e.Value()) != u {
				t.Fatalf("%s's CFG owner: %v %v", u, e, err)
			}
		}
	}
	check(s)
	stop(s)
	for _, acc := range []string{"A", "B"} {
		if _, err := os.Stat(filepath.Join(dir, "jetstream", acc, "streams", "ORDERS")); err != nil {
			t.Fatalf("account %s's stream on disk: %v", acc, err)
		}
	}
	s = start()
	defer stop(s)
	check(s)
}

// TestAccountsJetStreamGlobal: with accounts configured, the global
// account has no JetStream (as in nats-server), and without any account
// but the system account it keeps it.
func TestAccountsJetStreamGlobal(t *testing.T) {
	s := startJS(t, "", func(o *serverOptions) {
		o.Accounts = []server.AccountOptions{{Name: "A"}}
	})
	_, js := jsConnect(t, s)
	if _, err := js.AccountInfo(ctx(t)); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("global account with accounts configured: %v", err)
	}
	s = startJS(t, "", func(o *serverOptions) {
		o.Accounts = []server.AccountOptions{{Name: "SYS"}}
		o.SystemAccount = "SYS"
	})
	_, js = jsConnect(t, s)
	if _, err := js.AccountInfo(ctx(t)); err != nil {
		t.Fatalf("global account beside the system account alone: %v", err)
	}
}

// connectAs connects as user (password = user name).
func connectAs(t *testing.T, s *server.Server, user string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := connect(t, s, nats.UserInfo(user, user))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// TestAccountsJetStreamReload: a reload starts JetStream in an account
// that gained it, stops it in one that lost it (keeping its streams for
// when it comes back) and applies new limits.
func TestAccountsJetStreamReload(t *testing.T) {
	unlimited := &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}
	opts := func(aJS, bJS *server.AccountJetStream) *server.Options {
		return &server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true,
			Accounts: []server.AccountOptions{{Name: "A", JetStream: aJS}, {Name: "B", JetStream: bJS}},
			Users:    []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "b", Password: "b", Account: "B"}}}
	}
	first := opts(unlimited, nil)
	dir := t.TempDir()
	s := startJS(t, dir, func(o *serverOptions) { o.Accounts, o.Users = first.Accounts, first.Users })
	reload := func(o *server.Options) {
		t.Helper()
		o.StoreDir = dir
		if err := s.Reload(o); err != nil {
			t.Fatal(err)
		}
	}
	_, ja := connectAs(t, s, "a")
	_, jb := connectAs(t, s, "b")
	if _, err := ja.CreateStream(ctx(t), jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := jb.AccountInfo(ctx(t)); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("B before the reload: %v", err)
	}

	reload(opts(nil, &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: 1, MaxConsumers: -1}))
	if _, err := ja.AccountInfo(ctx(t)); !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		t.Fatalf("A after losing JetStream: %v", err)
	}
	if _, err := jb.CreateStream(ctx(t), jetstream.StreamConfig{Name: "B1", Subjects: []string{"b1"}}); err != nil {
		t.Fatalf("B after gaining JetStream: %v", err)
	}
	var apiErr *jetstream.APIError
	if _, err := jb.CreateStream(ctx(t), jetstream.StreamConfig{Name: "B2", Subjects: []string{"b2"}}); !errors.As(err, &apiErr) || apiErr.ErrorCode != 10027 {
		t.Fatalf("B's second stream with max_streams 1: %v", err)
	}

	reload(opts(unlimited, unlimited))
	if _, err := jb.CreateStream(ctx(t), jetstream.StreamConfig{Name: "B2", Subjects: []string{"b2"}}); err != nil {
		t.Fatalf("B's second stream once unlimited: %v", err)
	}
	if _, err := ja.Stream(ctx(t), "KEEP"); err != nil {
		t.Fatalf("A's stream after JetStream came back: %v", err)
	}
}
