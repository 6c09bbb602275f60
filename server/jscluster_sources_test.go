package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Mirrors and sources in a cluster: wherever the meta group placed the
// copy and its origins (on the same server or not, an origin of three
// replicas too), the copy gets every message, in order for a mirror, and
// keeps following.
func TestJetStreamClusterMirrorsAndSources(t *testing.T) {
	c := startJSClusterOf(t, 3, false)
	_, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	create := func(cfg jetstream.StreamConfig) {
		t.Helper()
		eventually(t, 20*time.Second, func() error {
			_, err := js.CreateStream(ctx, cfg)
			return err
		})
	}
	publish := func(subj string, n int) {
		t.Helper()
		for i := range n {
			eventually(t, 20*time.Second, func() error {
				_, err := js.Publish(ctx, subj, []byte(fmt.Sprint(i)))
				return err
			})
		}
	}
	const origins = 4
	for i := range origins {
		o := fmt.Sprintf("O%d", i)
		replicas := 1
		if i == 0 {
			replicas = 3
		}
		create(jetstream.StreamConfig{Name: o, Subjects: []string{o + ".>"}, Replicas: replicas})
		create(jetstream.StreamConfig{Name: "M" + o, Mirror: &jetstream.StreamSource{Name: o}})
		publish(o+".x", 5)
	}
	create(jetstream.StreamConfig{Name: "ALL", Sources: []*jetstream.StreamSource{
		{Name: "O0"}, {Name: "O1"}, {Name: "O2", FilterSubject: "O2.y"}, {Name: "O3", OptStartSeq: 4},
	}})
	publish("O2.y", 3)
	count := func(name string, want uint64) { t.Helper(); waitMsgs(t, js, name, want) }
	for i := range origins {
		want := uint64(5)
		if i == 2 {
			want = 8
		}
		count(fmt.Sprintf("MO%d", i), want)
	}
	count("ALL", 5+5+3+2)
	// Mirrors keep the origin's sequences and follow new messages.
	publish("O1.x", 2)
	count("MO1", 7)
	s, err := js.Stream(ctx, "MO1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, 7)
	if err != nil || string(m.Data) != "1" || m.Subject != "O1.x" {
		t.Fatalf("mirror's message 7: %v, %v", m, err)
	}
}

// A mirror and a sourcing stream of three replicas: their leader copies,
// every replica applies, and a new leader after a step-down continues
// where the copy stood, without a gap or a message twice.
func TestJetStreamClusterReplicatedMirror(t *testing.T) {
	c := startJSClusterOf(t, 3, false)
	nc, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	for _, cfg := range []jetstream.StreamConfig{
		{Name: "O", Subjects: []string{"o.>"}},
		{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}, Replicas: 3},
		{Name: "S", Subjects: []string{"s.>"}, Sources: []*jetstream.StreamSource{{Name: "O", FilterSubject: "o.even"}}, Replicas: 3},
	} {
		eventually(t, 20*time.Second, func() error {
			_, err := js.CreateStream(ctx, cfg)
			return err
		})
	}
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			subj := "o.odd"
			if i%2 == 0 {
				subj = "o.even"
			}
			eventually(t, 20*time.Second, func() error {
				_, err := js.Publish(ctx, subj, []byte(fmt.Sprint(i)))
				return err
			})
		}
	}
	count := func(name string, want uint64) { t.Helper(); waitMsgs(t, js, name, want) }
	publish(0, 40)
	count("M", 40)
	count("S", 20)
	for _, name := range []string{"M", "S"} {
		if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+name, nil, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	publish(40, 80)
	count("M", 80)
	count("S", 40)
	m, err := js.Stream(ctx, "M")
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 40, 41, 80} {
		msg, err := m.GetMsg(ctx, seq)
		if err != nil || string(msg.Data) != fmt.Sprint(seq-1) {
			t.Fatalf("mirror's message %d: %v, %v", seq, msg, err)
		}
	}
	s, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	if info := s.CachedInfo(); info.State.LastSeq != 40 {
		t.Fatalf("sourcing stream: last sequence %d, want 40 (a message stored twice or skipped)", info.State.LastSeq)
	}
}

// waitMsgs waits until stream name holds want messages.
func waitMsgs(t *testing.T, js jetstream.JetStream, name string, want uint64) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			return err
		}
		if got := s.CachedInfo().State.Msgs; got != want {
			return fmt.Errorf("%s holds %d messages, want %d", name, got, want)
		}
		return nil
	})
}

// A replicated mirror copies many copies at once; step-downs while they
// are in flight leave it with every message of the origin, at the
// origin's sequence, none skipped.
func TestJetStreamClusterReplicatedMirrorPipelined(t *testing.T) {
	c := startJSClusterOf(t, 3, false)
	nc, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	const n = 3000
	fillOrigin(t, js, n, "o.x")
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "O"}, Replicas: 3})
		return err
	})
	for range 3 {
		_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.M", nil, 5*time.Second)
	}
	waitMsgs(t, js, "M", n)
	// A step-down may still be settling: reads are retried while no
	// leader answers.
	var m jetstream.Stream
	eventually(t, 30*time.Second, func() (err error) {
		m, err = js.Stream(ctx, "M")
		return err
	})
	if st := m.CachedInfo().State; st.FirstSeq != 1 || st.LastSeq != n || st.NumDeleted != 0 {
		t.Fatalf("mirror state %+v: want 1..%d and nothing skipped", st, n)
	}
	for _, seq := range []uint64{1, 1000, 2001, n} {
		var msg *jetstream.RawStreamMsg
		eventually(t, 30*time.Second, func() (err error) {
			msg, err = m.GetMsg(ctx, seq)
			return err
		})
		if string(msg.Data) != fmt.Sprint(seq) {
			t.Fatalf("mirror's message %d: %q", seq, msg.Data)
		}
	}
}

// A replicated source copies in chains (many copies per commit): with
// its leader stepping down while it copies and publishes of its own
// interleaved, it ends with every selected message of the origin once,
// in the origin's order, and every publish of its own.
func TestJetStreamClusterReplicatedSourceChained(t *testing.T) {
	c := startJSClusterOf(t, 3, false)
	nc, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	const n = 3000 // half on o.a, which the source selects
	fillOrigin(t, js, n, "o.a", "o.b")
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3,
			Sources: []*jetstream.StreamSource{{Name: "O", FilterSubject: "o.a"}}})
		return err
	})
	const own = 200
	for i := range own {
		if i%70 == 0 {
			_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.S", nil, 5*time.Second)
		}
		eventually(t, 20*time.Second, func() error {
			// With an ID: a retry of a publish stored after all is a duplicate.
			_, err := js.Publish(ctx, "s.own", []byte(fmt.Sprint(i+1)), jetstream.WithMsgID(fmt.Sprint("own-", i)))
			return err
		})
	}
	waitMsgs(t, js, "S", n/2+own)
	var st jetstream.Stream
	eventually(t, 30*time.Second, func() (err error) {
		st, err = js.Stream(ctx, "S")
		return err
	})
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	nextSourced, nextOwn := 1, 1
	for range n/2 + own {
		m, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("after %d sourced and %d own: %v", nextSourced-1, nextOwn-1, err)
		}
		switch m.Subject() {
		case "o.a":
			if want := fmt.Sprint(2*nextSourced - 1); string(m.Data()) != want {
				t.Fatalf("sourced message %d is %q, want %q (a copy missing or twice)", nextSourced, m.Data(), want)
			}
			nextSourced++
		case "s.own":
			if want := fmt.Sprint(nextOwn); string(m.Data()) != want {
				t.Fatalf("own message %d is %q, want %q", nextOwn, m.Data(), want)
			}
			nextOwn++
		default:
			t.Fatalf("unexpected subject %q", m.Subject())
		}
	}
}

// An ordered consumer (no acks: its deliveries are replicated in
// coalesced batches) reads a replicated stream through nats.go, every
// message once and in order, across a leader step-down in the middle.
func TestJetStreamClusterOrderedConsumer(t *testing.T) {
	c := startJSClusterOf(t, 3, false)
	nc, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() (err error) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "OC", Subjects: []string{"oc.>"}, Replicas: 3})
		return err
	})
	const n = 2000
	for i := range n {
		if _, err := js.PublishAsync("oc.x", []byte(fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("stream not filled")
	}
	var oc jetstream.Consumer
	eventually(t, 20*time.Second, func() (err error) {
		oc, err = st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		return err
	})
	next, steppedDown := 1, false
	deadline := time.Now().Add(60 * time.Second)
	for next <= n && time.Now().Before(deadline) {
		if next > n/2 && !steppedDown {
			if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.OC", nil, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			steppedDown = true
		}
		batch, err := oc.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			continue // between leaders: the ordered consumer resets itself
		}
		for msg := range batch.Messages() {
			if string(msg.Data()) != fmt.Sprint(next) {
				t.Fatalf("got message %q, want %d", msg.Data(), next)
			}
			next++
		}
	}
	if next <= n {
		t.Fatalf("read %d of %d messages", next-1, n)
	}
}

// fillOrigin creates stream O on o.> and publishes n messages to it,
// numbered from 1, round robin over subjects.
func fillOrigin(t *testing.T, js jetstream.JetStream, n int, subjects ...string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "O", Subjects: []string{"o.>"}})
		return err
	})
	for i := range n {
		if _, err := js.PublishAsync(subjects[i%len(subjects)], []byte(fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("origin not filled")
	}
}
