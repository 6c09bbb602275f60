package test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestJetStreamPullConsumer(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}})
	for i := range 10 {
		if _, err := js.Publish(c, fmt.Sprint("p.", i%2), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "work", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		md, err := m.Metadata()
		if err != nil || md.Stream != "P" || md.Consumer != "work" || md.NumDelivered != 1 {
			t.Fatalf("metadata: %+v %v", md, err)
		}
		if len(got) <= 3 {
			if err := m.DoubleAck(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3]" || batch.Error() != nil {
		t.Fatalf("fetch: %v %v", got, batch.Error())
	}
	info, err := cons.Info(c)
	if err != nil || info.NumAckPending != 1 || info.AckFloor.Stream != 3 || info.Delivered.Stream != 4 || info.NumPending != 6 {
		t.Fatalf("info: %+v %v", info, err)
	}
	// The unacked message 4 comes back once its ack_wait (500 ms) has
	// passed, marked redelivered; before that a fetch would get message 5.
	time.Sleep(700 * time.Millisecond)
	batch, _ = cons.Fetch(1, jetstream.FetchMaxWait(30*time.Second))
	redelivered := 0
	for m := range batch.Messages() {
		md, _ := m.Metadata()
		if md.Sequence.Stream != 4 || md.NumDelivered != 2 {
			t.Fatalf("redelivery: %+v", md)
		}
		m.Ack()
		redelivered++
	}
	if redelivered != 1 {
		t.Fatalf("redelivered %d messages, want message 4 once (%v)", redelivered, batch.Error())
	}
	// Consume the rest with the callback API.
	done := make(chan struct{})
	n := 0
	cc, err := cons.Consume(func(m jetstream.Msg) {
		m.Ack()
		n++
		if n == 6 {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("consume got %d of 6", n)
	}
	cc.Stop()
	// Nothing left: a no-wait fetch ends at once, empty.
	batch, err = cons.FetchNoWait(5)
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
		t.Fatal("unexpected message")
	}
	names := st.ConsumerNames(c)
	var list []string
	for n := range names.Name() {
		list = append(list, n)
	}
	if fmt.Sprint(list) != "[work]" {
		t.Fatalf("names: %v %v", list, names.Err())
	}
	if acct, err := js.AccountInfo(c); err != nil || acct.Consumers != 1 {
		t.Fatalf("account info consumers: %+v %v", acct, err)
	}
	if si, err := st.Info(c); err != nil || si.State.Consumers != 1 {
		t.Fatalf("stream info consumer_count: %+v %v", si, err)
	}
	if err := st.DeleteConsumer(c, "work"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Consumer(c, "work"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("deleted consumer: %v", err)
	}
}

func TestJetStreamKeyValue(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	kv, err := js.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "cfg", History: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(c, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	r2, err := kv.Put(c, "a", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(c, "a")
	if err != nil || string(e.Value()) != "2" || e.Revision() != r2 {
		t.Fatalf("get: %v %v", e, err)
	}
	if _, err := kv.Create(c, "a", []byte("x")); err == nil {
		t.Fatal("create over an existing key succeeded")
	}
	if _, err := kv.Update(c, "a", []byte("3"), r2); err != nil {
		t.Fatalf("update with the right revision: %v", err)
	}
	if _, err := kv.Update(c, "a", []byte("4"), r2); err == nil {
		t.Fatal("update with a stale revision succeeded")
	}
	if _, err := kv.Put(c, "b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(c)
	if err != nil || fmt.Sprint(keys) != "[a b]" {
		t.Fatalf("keys: %v %v", keys, err)
	}
	hist, err := kv.History(c, "a")
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %d %v", len(hist), err)
	}
	w, err := kv.WatchAll(c)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var initial []string
	for e := range w.Updates() {
		if e == nil {
			break
		}
		initial = append(initial, e.Key()+"="+string(e.Value()))
	}
	if fmt.Sprint(initial) != "[a=3 b=x]" {
		t.Fatalf("watch initial: %v", initial)
	}
	if err := kv.Delete(c, "b"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-w.Updates():
		if e.Key() != "b" || e.Operation() != jetstream.KeyValueDelete {
			t.Fatalf("watch update: %v %v", e.Key(), e.Operation())
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no live update")
	}
	if _, err := kv.Get(c, "b"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
}

func TestJetStreamObjectStore(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	// 50 MiB through -race on a loaded 2-core machine: a budget for a
	// stuck transfer, not a speed target.
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	obs, err := js.CreateObjectStore(c, jetstream.ObjectStoreConfig{Bucket: "files"})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 50<<20+123) // 50 MiB and a partial chunk
	for i := range data {
		data[i] = byte(i * 7)
	}
	info, err := obs.PutBytes(c, "big.bin", data)
	if err != nil || info.Size != uint64(len(data)) || info.Chunks == 0 {
		t.Fatalf("put: %+v %v", info, err)
	}
	got, err := obs.GetBytes(c, "big.bin")
	if err != nil || len(got) != len(data) || string(got[:1000]) != string(data[:1000]) || string(got[len(got)-1000:]) != string(data[len(data)-1000:]) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if _, err := obs.PutString(c, "small.txt", "hello"); err != nil {
		t.Fatal(err)
	}
	list, err := obs.List(c)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	if _, err := obs.AddLink(c, "link", info); err != nil {
		t.Fatal(err)
	}
	if err := obs.Delete(c, "small.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := obs.GetString(c, "small.txt"); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("deleted object: %v", err)
	}
}

func TestJetStreamConsumerAdvisoriesAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	nc, js := jsConnect(t, s)
	c := ctx(t)
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.>")
	if err != nil {
		t.Fatal(err)
	}
	st := mustStream(t, js, jetstream.StreamConfig{Name: "A", Subjects: []string{"a"}})
	for i := range 4 {
		if _, err := js.Publish(c, "a", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 200 * time.Millisecond, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	nextAdvisory := func(want string) {
		t.Helper()
		m, err := adv.NextMsg(3 * time.Second)
		for err == nil && strings.HasPrefix(m.Subject, "$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.") {
			m, err = adv.NextMsg(3 * time.Second) // announced once per consumer: not what this test is about
		}
		if err != nil || len(m.Subject) < len(want) || m.Subject[:len(want)] != want {
			t.Fatalf("advisory: want %s, got %v %v", want, m, err)
		}
	}
	nextAdvisory("$JS.EVENT.ADVISORY.CONSUMER.CREATED.A.d")
	// Message 1 is terminated, 2 acked synchronously, 3 ignored until
	// max_deliver, 4 left unacked for the restart.
	msgs, err := cons.Fetch(4, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range msgs.Messages() {
		switch i {
		case 0:
			m.TermWithReason("bad input")
		case 1:
			if err := m.DoubleAck(c); err != nil {
				t.Fatal(err)
			}
		}
		i++
	}
	nextAdvisory("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.A.d")
	// Redeliveries of 3 and 4, then 3 (and 4) hit max_deliver.
	for range 2 {
		b, _ := cons.Fetch(2, jetstream.FetchMaxWait(time.Second))
		for range b.Messages() {
		}
	}
	nextAdvisory("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.A.d")

	// A second consumer keeps its ack progress across a restart.
	keep, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "keep", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := keep.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	for m := range b.Messages() {
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	s2 := startJS(t, dir)
	_, js2 := jsConnect(t, s2)
	keep2, err := js2.Consumer(c, "A", "keep")
	if err != nil {
		t.Fatal(err)
	}
	info, err := keep2.Info(c)
	if err != nil || info.AckFloor.Stream != 2 || info.NumPending != 2 {
		t.Fatalf("after restart: %+v %v", info, err)
	}
	b, _ = keep2.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	for m := range b.Messages() {
		if md, _ := m.Metadata(); md.Sequence.Stream != 3 {
			t.Fatalf("resumed at %d, want 3", md.Sequence.Stream)
		}
	}
}

func TestJetStreamOrderedConsumerAndRefusals(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "O", Subjects: []string{"o.*"}})
	for i := range 20 {
		if _, err := js.Publish(c, fmt.Sprint("o.", i%3), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	oc, err := st.OrderedConsumer(c, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"o.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 7 {
		m, err := oc.Next(jetstream.FetchMaxWait(3 * time.Second))
		if err != nil {
			t.Fatalf("ordered next after %v: %v", got, err)
		}
		got = append(got, string(m.Data()))
	}
	if fmt.Sprint(got) != "[1 4 7 10 13 16 19]" {
		t.Fatalf("ordered: %v", got)
	}
	// Options pull consumers cannot have are refused, not ignored.
	for _, cfg := range []jetstream.ConsumerConfig{
		{Durable: "l", RateLimit: 1000},
		{Durable: "pg", PriorityGroups: []string{"g"}}, // groups without a policy
	} {
		if _, err := st.CreateConsumer(c, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestJetStreamRetentionPolicies(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	count := func(st jetstream.Stream) uint64 {
		info, err := st.Info(c)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	ackAll := func(cons jetstream.Consumer, n int) {
		b, err := cons.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			if err := m.DoubleAck(c); err != nil {
				t.Fatal(err)
			}
		}
	}

	wq := mustStream(t, js, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"wq.*"}, Retention: jetstream.WorkQueuePolicy})
	w1, err := wq.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "w1", FilterSubject: "wq.a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wq.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "w2", FilterSubject: "wq.*"}); apiCode(err) != 10100 {
		t.Fatalf("overlapping work-queue consumer: %v", err)
	}
	for range 3 {
		js.Publish(c, "wq.a", nil)
	}
	ackAll(w1, 3)
	if n := count(wq); n != 0 {
		t.Fatalf("work queue kept %d acked messages", n)
	}

	in := mustStream(t, js, jetstream.StreamConfig{Name: "IN", Subjects: []string{"in"}, Retention: jetstream.InterestPolicy})
	if _, err := js.Publish(c, "in", nil); err != nil { // nobody interested: not kept
		t.Fatal(err)
	}
	if n := count(in); n != 0 {
		t.Fatalf("interest stream without consumers kept %d", n)
	}
	a, _ := in.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "a"})
	b, _ := in.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "b"})
	for range 2 {
		js.Publish(c, "in", nil)
	}
	ackAll(a, 2)
	if n := count(in); n != 2 {
		t.Fatalf("removed before every consumer acked: %d left", n)
	}
	ackAll(b, 2)
	if n := count(in); n != 0 {
		t.Fatalf("kept after every consumer acked: %d left", n)
	}
}

func TestJetStreamConsumerLimitsAndBackoff(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "L", Subjects: []string{"l"}})
	js.Publish(c, "l", []byte("x"))
	// Backoff decides each redelivery's wait.
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "b", MaxDeliver: 3,
		BackOff: []time.Duration{50 * time.Millisecond, 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	// (The waits themselves are checked against a fake clock in the
	// consumer package's TestBackoffAndMaxDeliver.)
	var delivered []uint64
	for len(delivered) < 3 {
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			md, _ := m.Metadata()
			delivered = append(delivered, md.NumDelivered)
		}
		if b.Error() != nil && len(delivered) < 3 {
			t.Fatalf("fetch %d: %v", len(delivered), b.Error())
		}
	}
	if fmt.Sprint(delivered) != "[1 2 3]" {
		t.Fatalf("deliveries %v", delivered)
	}
	// max_waiting: the request over the limit gets a 409.
	mw, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "mw", MaxWaiting: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = mw
	inbox := nc.NewRespInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.L.mw", inbox, []byte(`{"batch":5,"expires":2000000000}`))
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.L.mw", inbox, []byte(`{"batch":5,"expires":2000000000}`))
	var statuses []string
	for range 3 {
		m, err := sub.NextMsg(3 * time.Second)
		if err != nil {
			break
		}
		if s := m.Header.Get("Status"); s != "" {
			statuses = append(statuses, s+" "+m.Header.Get("Description"))
		}
	}
	if len(statuses) == 0 || statuses[0] != "409 Exceeded MaxWaiting" {
		t.Fatalf("statuses: %v", statuses)
	}
	// Replicas need a cluster (nats-server's error without one).
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "r3", Replicas: 3}); apiCode(err) != 10074 {
		t.Fatalf("replicas 3: %v", err)
	}
}

func TestJetStreamPushFlowControlAndHeartbeats(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	mustStream(t, js, jetstream.StreamConfig{Name: "FC", Subjects: []string{"fc"}})
	const total = 3000 // ~3 MiB: several flow-control windows
	fillStream(t, nc, "fc", total, 1024)
	legacy, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, total)
	sub, err := legacy.Subscribe("fc", func(m *nats.Msg) { got <- struct{}{} },
		nats.EnableFlowControl(), nats.IdleHeartbeat(200*time.Millisecond), nats.AckNone(), nats.BindStream("FC"))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for i := range total {
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			t.Fatalf("received %d of %d", i, total)
		}
	}
	// Idle now: heartbeats keep arriving, so the client sees no missed one.
	time.Sleep(600 * time.Millisecond)
	info, err := sub.ConsumerInfo()
	if err != nil || info.Delivered.Stream != total {
		t.Fatalf("consumer info: %+v %v", info, err)
	}
}

func TestJetStreamReplayRateAndSampling(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "RP", Subjects: []string{"rp"}})
	for i := range 3 {
		if i > 0 {
			time.Sleep(150 * time.Millisecond) // gaps the replay must keep
		}
		if _, err := js.Publish(c, "rp", make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	receive := func(cfg jetstream.ConsumerConfig, n int) []time.Time {
		t.Helper()
		inbox := nats.NewInbox() // not a response inbox: those feed the request mux
		sub, _ := nc.SubscribeSync(inbox)
		defer sub.Unsubscribe()
		nc.Flush()
		cfg.DeliverSubject = inbox
		if _, err := st.CreateConsumer(c, cfg); err != nil {
			t.Fatal(err)
		}
		var at []time.Time
		for len(at) < n {
			m, err := sub.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("got %d of %d: %v", len(at), n, err)
			}
			if len(m.Data) > 0 {
				at = append(at, time.Now())
				nc.Publish(m.Reply, nil) // ack
			}
		}
		return at
	}
	// Replay original keeps the stored gaps (lower bounds only).
	at := receive(jetstream.ConsumerConfig{Durable: "orig", ReplayPolicy: jetstream.ReplayOriginalPolicy, AckPolicy: jetstream.AckNonePolicy}, 3)
	if at[1].Sub(at[0]) < 100*time.Millisecond || at[2].Sub(at[1]) < 100*time.Millisecond {
		t.Fatalf("replay original did not keep the gaps: %v, %v", at[1].Sub(at[0]), at[2].Sub(at[1]))
	}
	// 2,000 bits/s: three ~110-byte messages need well over half a second.
	at = receive(jetstream.ConsumerConfig{Durable: "slow", RateLimit: 2000, AckPolicy: jetstream.AckNonePolicy}, 3)
	if at[2].Sub(at[0]) < 500*time.Millisecond {
		t.Fatalf("rate limit not applied: %v for three messages", at[2].Sub(at[0]))
	}
	// sample_freq 100%: every ack is reported as a metric.
	metrics, _ := nc.SubscribeSync("$JS.EVENT.METRIC.CONSUMER.ACK.RP.sampled")
	nc.Flush()
	receive(jetstream.ConsumerConfig{Durable: "sampled", SampleFrequency: "100%", AckPolicy: jetstream.AckExplicitPolicy}, 3)
	if _, err := metrics.NextMsg(3 * time.Second); err != nil {
		t.Fatalf("no ack metric: %v", err)
	}
}

func TestJetStreamKeyValueOptions(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	small, err := js.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "small", MaxValueSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Put(c, "big", []byte("0123456789")); err == nil {
		t.Fatal("value over max_value_size accepted")
	}
	kv, err := js.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "opts", History: 3, TTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := kv.Put(c, "k.a", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	kv.Put(c, "k.b", []byte("b"))
	kv.Put(c, "other", []byte("o"))
	hist, err := kv.History(c, "k.a")
	if err != nil || len(hist) != 3 {
		t.Fatalf("history keeps 3: %d %v", len(hist), err)
	}
	lister, err := kv.ListKeysFiltered(c, "k.*")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	if fmt.Sprint(keys) != "[k.a k.b]" {
		t.Fatalf("filtered keys: %v", keys)
	}
	w, err := kv.Watch(c, "k.a", jetstream.IncludeHistory())
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for e := range w.Updates() {
		if e == nil {
			break
		}
		seen = append(seen, string(e.Value()))
	}
	w.Stop()
	if fmt.Sprint(seen) != "[1 2 3]" {
		t.Fatalf("watch with history: %v", seen)
	}
	up, err := kv.Watch(c, "k.b", jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	kv.Put(c, "k.b", []byte("b2"))
	select {
	case e := <-up.Updates():
		if e == nil || string(e.Value()) != "b2" {
			t.Fatalf("updates only: %v", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no update")
	}
	up.Stop()
	if err := kv.Purge(c, "k.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(c, "k.a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("purged key: %v", err)
	}
	st, err := kv.Status(c)
	if err != nil || st.Bucket() != "opts" || st.History() != 3 || st.TTL() != 3*time.Second {
		t.Fatalf("status: %+v %v", st, err)
	}
	// The bucket TTL expires values.
	eventually(t, 10*time.Second, func() bool {
		_, err := kv.Get(c, "other")
		return errors.Is(err, jetstream.ErrKeyNotFound)
	}, "the bucket TTL to expire a value")
}

func TestJetStreamObjectWatch(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	obs, err := js.CreateObjectStore(c, jetstream.ObjectStoreConfig{Bucket: "w"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := obs.Watch(c, jetstream.UpdatesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := obs.PutString(c, "note", "hi"); err != nil {
		t.Fatal(err)
	}
	select {
	case info := <-w.Updates():
		if info == nil || info.Name != "note" {
			t.Fatalf("object watch: %+v", info)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no object update")
	}
}

func TestJetStreamAckVerbs(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "V", Subjects: []string{"v"}})
	for i := range 3 {
		js.Publish(c, "v", []byte(fmt.Sprint(i+1)))
	}
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "v", AckWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fetch1 := func() jetstream.Msg {
		t.Helper()
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range b.Messages() {
			return m
		}
		t.Fatal("no message")
		return nil
	}
	// -NAK with a delay: message 1 comes back, but not before the delay.
	m := fetch1()
	nakAt := time.Now()
	if err := m.NakWithDelay(400 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	m = fetch1() // message 2 meanwhile
	if string(m.Data()) != "2" {
		t.Fatalf("after nak: %s", m.Data())
	}
	// +WPI keeps message 2 from being redelivered past its ack wait.
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		if err := m.InProgress(); err != nil {
			t.Fatal(err)
		}
	}
	m2 := m
	m = fetch1()
	if string(m.Data()) != "1" || time.Since(nakAt) < 400*time.Millisecond {
		t.Fatalf("nak redelivery: %s after %v", m.Data(), time.Since(nakAt))
	}
	m.Ack()
	m2.Ack()
	// +NXT acks and asks for the next message in one go.
	m = fetch1()
	if string(m.Data()) != "3" {
		t.Fatalf("third: %s", m.Data())
	}
	js.Publish(c, "v", []byte("4"))
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	if err := nc.PublishRequest(m.Reply(), inbox, []byte("+NXT")); err != nil {
		t.Fatal(err)
	}
	next, err := sub.NextMsg(3 * time.Second)
	if err != nil || string(next.Data) != "4" {
		t.Fatalf("+NXT: %v %v", next, err)
	}
	info, _ := cons.Info(c)
	if info.AckFloor.Stream != 3 {
		t.Fatalf("ack floor after +NXT: %+v", info.AckFloor)
	}
}

// TestJetStreamFlowControlRequests watches the raw deliveries: a push
// consumer with flow control asks for confirmation about every MiB, and
// resumes once answered.
func TestJetStreamFlowControlRequests(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "RF", Subjects: []string{"rf"}})
	const total = 3000 // ~3 MiB of 1 KiB messages
	fillStream(t, nc, "rf", total, 1024)
	inbox := nats.NewInbox()
	var msgs, fcs atomic.Int64
	done := make(chan struct{})
	sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
		if m.Header.Get("Status") == "100" && strings.Contains(m.Header.Get("Description"), "FlowControl") {
			fcs.Add(1)
			m.Respond(nil)
			return
		}
		if len(m.Data) > 0 && msgs.Add(1) == total {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	nc.Flush()
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "rf", DeliverSubject: inbox, AckPolicy: jetstream.AckNonePolicy,
		FlowControl: true, IdleHeartbeat: time.Second}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("received %d of %d", msgs.Load(), total)
	}
	if n := fcs.Load(); n < 2 {
		t.Fatalf("%d flow-control requests for ~3 MiB, want at least 2", n)
	}
}

// fillStream publishes n messages of size bytes to subj with acks in
// flight, waiting as long as a loaded machine needs for room and for the
// acks, and fails on any refused publish.
func fillStream(t testing.TB, nc *nats.Conn, subj string, n, size int) {
	t.Helper()
	ajs, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, size)
	for range n {
		if _, err := ajs.PublishAsync(subj, payload, jetstream.WithStallWait(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ajs.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		t.Fatalf("%d publishes still unacknowledged", ajs.PublishAsyncPending())
	}
}
