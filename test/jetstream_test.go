package test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// startJS runs a JetStream-enabled server storing under dir (a fresh
// temporary directory when empty).
func startJS(t testing.TB, dir string, mutate ...func(*serverOptions)) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return startServer(t, append([]func(*serverOptions){func(o *serverOptions) {
		o.JetStream = true
		o.StoreDir = dir
	}}, mutate...)...)
}

// startJSManual starts a JetStream server on dir that the test shuts down
// itself, to start another on the same directory.
func startJSManual(t testing.TB, dir string) *server.Server {
	t.Helper()
	s, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

func jsConnect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := connect(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustStream(t testing.TB, js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	t.Helper()
	s, err := js.CreateStream(ctx(t), cfg)
	if err != nil {
		t.Fatalf("create stream %s: %v", cfg.Name, err)
	}
	return s
}

// apiCode returns the JetStream error code of err, 0 if it has none.
func apiCode(err error) jetstream.ErrorCode {
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode
	}
	return 0
}

func TestJetStreamStreamLifecycle(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			s := startJS(t, "")
			_, js := jsConnect(t, s)
			c := ctx(t)

			st, err := js.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: storage})
			if err != nil {
				t.Fatal(err)
			}
			info := st.CachedInfo()
			if info.Config.Name != "ORDERS" || info.Config.MaxMsgs != -1 || info.Config.MaxBytes != -1 ||
				info.Config.Duplicates != 2*time.Minute || info.Config.Replicas != 1 || info.Config.Retention != jetstream.LimitsPolicy {
				t.Fatalf("defaults not applied: %+v", info.Config)
			}
			// Same config again: fine. Different config: name in use.
			if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Storage: storage}); err != nil {
				t.Fatalf("identical create: %v", err)
			}
			_, err = js.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"other.>"}, Storage: storage})
			if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				t.Fatalf("different config: got %v, want name in use", err)
			}
			// Overlapping subjects with another stream are refused.
			_, err = js.CreateStream(c, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"orders.new"}, Storage: storage})
			if apiCode(err) != 10065 {
				t.Fatalf("overlap: got %v", err)
			}

			for i := range 5 {
				ack, err := js.Publish(c, fmt.Sprintf("orders.%d", i%2), []byte("hello"))
				if err != nil {
					t.Fatal(err)
				}
				if ack.Stream != "ORDERS" || ack.Sequence != uint64(i+1) || ack.Duplicate {
					t.Fatalf("ack %d: %+v", i, ack)
				}
			}
			info, err = st.Info(c, jetstream.WithSubjectFilter(">"))
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != 5 || info.State.FirstSeq != 1 || info.State.LastSeq != 5 || info.State.NumSubjects != 2 ||
				info.State.Subjects["orders.0"] != 3 || info.State.Subjects["orders.1"] != 2 {
				t.Fatalf("state: %+v", info.State)
			}

			// Update: add a subject, change a limit.
			upd := info.Config
			upd.Subjects = append(upd.Subjects, "invoices.*")
			upd.MaxMsgs = 3
			if _, err := js.UpdateStream(c, upd); err != nil {
				t.Fatalf("update: %v", err)
			}
			if _, err := js.Publish(c, "invoices.1", nil); err != nil {
				t.Fatalf("publish on added subject: %v", err)
			}
			info, _ = st.Info(c)
			if info.State.Msgs != 3 || info.State.FirstSeq != 4 || info.State.LastSeq != 6 {
				t.Fatalf("after update: %+v", info.State)
			}
			// Storage cannot change.
			upd.Storage = jetstream.MemoryStorage + jetstream.FileStorage - storage
			if _, err := js.UpdateStream(c, upd); err == nil {
				t.Fatal("storage change accepted")
			}

			mustStream(t, js, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}, Storage: storage})
			names := js.StreamNames(c)
			var got []string
			for n := range names.Name() {
				got = append(got, n)
			}
			if names.Err() != nil || fmt.Sprint(got) != "[B ORDERS]" {
				t.Fatalf("names: %v %v", got, names.Err())
			}
			list := js.ListStreams(c, jetstream.WithStreamListSubject("b"))
			got = nil
			for si := range list.Info() {
				got = append(got, si.Config.Name)
			}
			if list.Err() != nil || fmt.Sprint(got) != "[B]" {
				t.Fatalf("list filtered: %v %v", got, list.Err())
			}

			if err := js.DeleteStream(c, "B"); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Stream(c, "B"); !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Fatalf("deleted stream: %v", err)
			}
			if err := js.DeleteStream(c, "B"); !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Fatalf("delete again: %v", err)
			}
			acct, err := js.AccountInfo(c)
			if err != nil || acct.Streams != 1 || acct.API.Level < 1 {
				t.Fatalf("account info: %+v %v", acct, err)
			}
		})
	}
}

func TestJetStreamPublishChecks(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}})

	a1, err := js.Publish(c, "s.a", []byte("1"), jetstream.WithMsgID("id-1"))
	if err != nil {
		t.Fatal(err)
	}
	dup, err := js.Publish(c, "s.a", []byte("1"), jetstream.WithMsgID("id-1"))
	if err != nil || !dup.Duplicate || dup.Sequence != a1.Sequence {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
	cases := []struct {
		name string
		subj string
		opts []jetstream.PublishOpt
		code jetstream.ErrorCode
	}{
		{"expected stream", "s.a", []jetstream.PublishOpt{jetstream.WithExpectStream("T")}, 10060},
		{"expected last seq", "s.a", []jetstream.PublishOpt{jetstream.WithExpectLastSequence(7)}, jetstream.JSErrCodeStreamWrongLastSequence},
		{"expected last subject seq", "s.b", []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(1)}, jetstream.JSErrCodeStreamWrongLastSequence},
		{"expected last msg id", "s.a", []jetstream.PublishOpt{jetstream.WithExpectLastMsgID("nope")}, 10070},
		{"ttl disabled", "s.a", []jetstream.PublishOpt{jetstream.WithMsgTTL(time.Minute)}, 10166},
	}
	for _, tc := range cases {
		_, err := js.Publish(c, tc.subj, nil, tc.opts...)
		if apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want code %d", tc.name, err, tc.code)
		}
	}
	// Matching expectations are accepted; each publish moves the state on.
	steps := []struct {
		subj string
		opts []jetstream.PublishOpt
	}{
		{"s.c", []jetstream.PublishOpt{jetstream.WithExpectStream("S"), jetstream.WithMsgID("id-2")}},
		{"s.c", []jetstream.PublishOpt{jetstream.WithExpectLastSequence(2), jetstream.WithExpectLastMsgID("id-2")}},
		{"s.d", []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(0)}}, // s.d has no messages yet
		{"s.c", []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(3)}},
	}
	for i, st := range steps {
		if _, err := js.Publish(c, st.subj, nil, st.opts...); err != nil {
			t.Fatalf("step %d: matching expectation refused: %v", i, err)
		}
	}
}

func TestJetStreamLimits(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	pub := func(subj string, n int) error {
		for range n {
			if _, err := js.Publish(c, subj, []byte("0123456789")); err != nil {
				return err
			}
		}
		return nil
	}
	state := func(name string) jetstream.StreamState {
		st, err := js.Stream(c, name)
		if err != nil {
			t.Fatal(err)
		}
		return st.CachedInfo().State
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "OLD", Subjects: []string{"old"}, MaxMsgs: 5})
	if err := pub("old", 8); err != nil {
		t.Fatal(err)
	}
	if st := state("OLD"); st.Msgs != 5 || st.FirstSeq != 4 || st.LastSeq != 8 {
		t.Fatalf("discard old by count: %+v", st)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "NEW", Subjects: []string{"new"}, MaxMsgs: 3, Discard: jetstream.DiscardNew})
	if err := pub("new", 3); err != nil {
		t.Fatal(err)
	}
	if err := pub("new", 1); err == nil || apiCode(err) != 10077 {
		t.Fatalf("discard new by count: %v", err)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "BYTES", Subjects: []string{"bytes"}, MaxBytes: 200})
	if err := pub("bytes", 10); err != nil {
		t.Fatal(err)
	}
	// Each message is 30 + len("bytes") + 10 = 45 bytes in a file store.
	if st := state("BYTES"); st.Bytes > 200 || st.Msgs != 4 {
		t.Fatalf("max bytes: %+v", st)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "PER", Subjects: []string{"per.*"}, MaxMsgsPerSubject: 2})
	if err := pub("per.a", 5); err != nil {
		t.Fatal(err)
	}
	if err := pub("per.b", 1); err != nil {
		t.Fatal(err)
	}
	if st := state("PER"); st.Msgs != 3 {
		t.Fatalf("per subject: %+v", st)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "PERNEW", Subjects: []string{"pernew.*"}, MaxMsgsPerSubject: 1,
		Discard: jetstream.DiscardNew, DiscardNewPerSubject: true, MaxMsgs: 100})
	if err := pub("pernew.a", 1); err != nil {
		t.Fatal(err)
	}
	if err := pub("pernew.a", 1); apiCode(err) != 10077 {
		t.Fatalf("discard new per subject: %v", err)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "SIZE", Subjects: []string{"size"}, MaxMsgSize: 5})
	if err := pub("size", 1); apiCode(err) != jetstream.JSErrCodeStreamMessageExceedsMaximum {
		t.Fatalf("max msg size: %v", err)
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "AGE", Subjects: []string{"age"}, MaxAge: 300 * time.Millisecond, Duplicates: 100 * time.Millisecond})
	if err := pub("age", 3); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return state("AGE").Msgs == 0 }, "messages to age out")
	if st := state("AGE"); st.FirstSeq != 4 || st.LastSeq != 3 {
		t.Fatalf("after age out: %+v", st)
	}
}

func TestJetStreamMessageGetDeletePurge(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "M", Subjects: []string{"m.*"}, AllowDirect: true})
	for i := range 10 {
		msg := nats.NewMsg(fmt.Sprintf("m.%d", i%3))
		msg.Header.Set("X-Index", fmt.Sprint(i))
		msg.Data = []byte(fmt.Sprint("payload-", i))
		if _, err := js.PublishMsg(c, msg); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := st.GetMsg(c, 4)
	if err != nil || raw.Subject != "m.0" || string(raw.Data) != "payload-3" || raw.Header.Get("X-Index") != "3" {
		t.Fatalf("get 4: %+v %v", raw, err)
	}
	last, err := st.GetLastMsgForSubject(c, "m.1")
	if err != nil || last.Sequence != 8 {
		t.Fatalf("last for m.1: %+v %v", last, err)
	}
	next, err := st.GetMsg(c, 5, jetstream.WithGetMsgSubject("m.2"))
	if err != nil || next.Sequence != 6 {
		t.Fatalf("next m.2 from 5: %+v %v", next, err)
	}
	if _, err := st.GetMsg(c, 99); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := st.DeleteMsg(c, 4); err != nil {
		t.Fatal(err)
	}
	if err := st.SecureDeleteMsg(c, 5); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(c, 4); err == nil {
		t.Fatal("second delete succeeded")
	}
	if _, err := st.GetMsg(c, 4); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("deleted message served: %v", err)
	}
	info, _ := st.Info(c, jetstream.WithDeletedDetails(true))
	if info.State.NumDeleted != 2 || fmt.Sprint(info.State.Deleted) != "[4 5]" {
		t.Fatalf("deleted details: %+v", info.State)
	}
	if err := st.Purge(c, jetstream.WithPurgeSubject("m.0")); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(c)
	if info.State.Msgs != 5 {
		t.Fatalf("after purge m.0: %+v", info.State)
	}
	if err := st.Purge(c, jetstream.WithPurgeKeep(2)); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(c)
	if info.State.Msgs != 2 || info.State.LastSeq != 10 {
		t.Fatalf("after keep 2: %+v", info.State)
	}
	if err := st.Purge(c); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(c)
	if info.State.Msgs != 0 || info.State.FirstSeq != 11 || info.State.LastSeq != 10 {
		t.Fatalf("after purge all: %+v", info.State)
	}
}

func TestJetStreamDirectGet(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "D", Subjects: []string{"d.>"}, AllowDirect: true})
	for i := range 3 {
		if _, err := js.Publish(c, "d.k", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := nc.Request("$JS.API.DIRECT.GET.D.d.k", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Data) != "2" || resp.Header.Get("Nats-Sequence") != "3" || resp.Header.Get("Nats-Stream") != "D" ||
		resp.Header.Get("Nats-Subject") != "d.k" || resp.Header.Get("Nats-Time-Stamp") == "" {
		t.Fatalf("direct last: %q %v", resp.Data, resp.Header)
	}
	resp, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":1}`), 2*time.Second)
	if err != nil || string(resp.Data) != "0" {
		t.Fatalf("direct seq: %v %v", resp, err)
	}
	resp, err = nc.Request("$JS.API.DIRECT.GET.D", []byte(`{"seq":42}`), 2*time.Second)
	if err != nil || resp.Header.Get("Status") != "404" {
		t.Fatalf("direct missing: %+v %v", resp, err)
	}
	resp, err = nc.Request("$JS.API.DIRECT.GET.D", nil, 2*time.Second)
	if err != nil || resp.Header.Get("Status") != "408" {
		t.Fatalf("direct empty: %+v %v", resp, err)
	}
	// Without allow_direct nobody answers.
	mustStream(t, js, jetstream.StreamConfig{Name: "ND", Subjects: []string{"nd"}})
	if _, err := nc.Request("$JS.API.DIRECT.GET.ND", []byte(`{"seq":1}`), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("direct get without allow_direct: %v", err)
	}
}

func TestJetStreamRollupAndDenies(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.*"}, AllowRollup: true})
	for i := range 4 {
		if _, err := js.Publish(c, fmt.Sprintf("r.%d", i%2), nil); err != nil {
			t.Fatal(err)
		}
	}
	msg := nats.NewMsg("r.0")
	msg.Header.Set("Nats-Rollup", "sub")
	if _, err := js.PublishMsg(c, msg); err != nil {
		t.Fatal(err)
	}
	info, _ := st.Info(c)
	if info.State.Msgs != 3 {
		t.Fatalf("rollup sub: %+v", info.State)
	}
	msg.Header.Set("Nats-Rollup", "all")
	if _, err := js.PublishMsg(c, msg); err != nil {
		t.Fatal(err)
	}
	info, _ = st.Info(c)
	if info.State.Msgs != 1 || info.State.LastSeq != 6 {
		t.Fatalf("rollup all: %+v", info.State)
	}

	nr := mustStream(t, js, jetstream.StreamConfig{Name: "NR", Subjects: []string{"nr"}, DenyDelete: true, DenyPurge: true})
	msg = nats.NewMsg("nr")
	msg.Header.Set("Nats-Rollup", "all")
	if _, err := js.PublishMsg(c, msg); err == nil {
		t.Fatal("rollup accepted without allow_rollup_hdrs")
	}
	if _, err := js.Publish(c, "nr", nil); err != nil {
		t.Fatal(err)
	}
	if err := nr.DeleteMsg(c, 2); err == nil {
		t.Fatal("delete accepted with deny_delete")
	}
	if err := nr.Purge(c); err == nil {
		t.Fatal("purge accepted with deny_purge")
	}
}

func TestJetStreamMsgTTL(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}, AllowMsgTTL: true})
	if _, err := js.Publish(c, "t", nil, jetstream.WithMsgTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "t", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool {
		info, err := st.Info(c)
		return err == nil && info.State.Msgs == 1 && info.State.FirstSeq == 2
	}, "the TTL'd message to expire")
}

func TestJetStreamSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s1 := startJSManual(t, dir)
	_, js := jsConnect(t, s1)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, MaxMsgsPerSubject: 10, Description: "kept"})
	for i := range 100 {
		if _, err := js.Publish(c, fmt.Sprintf("p.%d", i%4), []byte(fmt.Sprint(i)), jetstream.WithMsgID(fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := js.Stream(c, "P")
	if err := st.DeleteMsg(c, 100); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Info(c)
	if err := s1.Shutdown(c); err != nil {
		t.Fatal(err)
	}

	s2 := startJS(t, dir)
	_, js2 := jsConnect(t, s2)
	st2, err := js2.Stream(c, "P")
	if err != nil {
		t.Fatal(err)
	}
	after := st2.CachedInfo()
	if after.Config.Description != "kept" || after.State.Msgs != before.State.Msgs || after.State.LastSeq != 99+1 ||
		after.State.FirstSeq != before.State.FirstSeq || !after.Created.Equal(before.Created) {
		t.Fatalf("after restart: %+v %+v, before %+v", after.Config, after.State, before.State)
	}
	m, err := st2.GetMsg(c, 99)
	if err != nil || string(m.Data) != "98" {
		t.Fatalf("message after restart: %v %v", m, err)
	}
	// The duplicate window survived too.
	ack, err := js2.Publish(c, "p.1", nil, jetstream.WithMsgID("m97"))
	if err != nil || !ack.Duplicate || ack.Sequence != 98 {
		t.Fatalf("dedup after restart: %+v %v", ack, err)
	}
}

func TestJetStreamConfigOptions(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}, FirstSeq: 100,
		Compression: jetstream.S2Compression, Metadata: map[string]string{"owner": "team-a"}, AllowDirect: true})
	info := st.CachedInfo()
	if info.Config.Compression != jetstream.S2Compression || info.Config.Metadata["owner"] != "team-a" || info.State.FirstSeq != 100 {
		t.Fatalf("config: %+v state %+v", info.Config, info.State)
	}
	big := make([]byte, 4096) // compressible
	for i := range 5 {
		ack, err := js.Publish(c, fmt.Sprint("o.", i), big)
		if err != nil || ack.Sequence != uint64(100+i) {
			t.Fatalf("publish %d: %+v %v", i, ack, err)
		}
	}
	m, err := st.GetMsg(c, 102)
	if err != nil || len(m.Data) != 4096 || m.Subject != "o.2" {
		t.Fatalf("s2 stream read: %v %v", m, err)
	}
	// A batched direct get: three messages then an end-of-batch status.
	sub, err := nc.SubscribeSync(nc.NewRespInbox())
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.O", sub.Subject, []byte(`{"seq":101,"batch":3}`)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"101", "102", "103"} {
		msg, err := sub.NextMsg(2 * time.Second)
		if err != nil || msg.Header.Get("Nats-Sequence") != want || msg.Header.Get("Nats-Num-Pending") == "" {
			t.Fatalf("batch message %d: %+v %v", i, msg, err)
		}
	}
	eob, err := sub.NextMsg(2 * time.Second)
	if err != nil || eob.Header.Get("Status") != "204" || eob.Header.Get("Nats-Num-Pending") != "1" || eob.Header.Get("Nats-Last-Sequence") != "103" {
		t.Fatalf("end of batch: %+v %v", eob, err)
	}
	// Replicas need a cluster.
	_, err = js.CreateStream(c, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3"}, Replicas: 3})
	if apiCode(err) != 10074 {
		t.Fatalf("replicas 3: %v", err)
	}
	// Unsupported options are refused, not ignored.
	_, err = js.CreateStream(c, jetstream.StreamConfig{Name: "PL", Subjects: []string{"pl"}, Placement: &jetstream.Placement{Cluster: "east"}})
	if err == nil {
		t.Fatal("placement accepted")
	}
}
