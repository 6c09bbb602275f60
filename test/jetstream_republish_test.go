package test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// nextRepublished reads the next message of a republish subscription.
func nextRepublished(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("republished message: %v", err)
	}
	return m
}

func TestJetStreamRepublish(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	sub, err := nc.SubscribeSync("rp.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg := jetstream.StreamConfig{Name: "RP", Subjects: []string{"orders.>"},
		RePublish: &jetstream.RePublish{Source: "orders.*", Destination: "rp.{{wildcard(1)}}"}}
	st := mustStream(t, js, cfg)

	// Every stored message, in order, with the stream's headers and the
	// publisher's own. orders.x.y does not match the source: not sent.
	const n = 100
	lastOn := map[string]uint64{}
	type sent struct {
		subj string
		seq  uint64
	}
	var want []sent
	for i := range n {
		subj := "orders." + string(rune('a'+i%3))
		if i%10 == 9 {
			subj = "orders.x.y"
		}
		msg := nats.NewMsg(subj)
		msg.Data = []byte(strconv.Itoa(i))
		msg.Header.Set("Origin", "test")
		ack, err := js.PublishMsg(c, msg)
		if err != nil {
			t.Fatal(err)
		}
		if subj != "orders.x.y" {
			want = append(want, sent{subj, ack.Sequence})
		}
	}
	for _, w := range want {
		m := nextRepublished(t, sub)
		stored, err := st.GetMsg(c, w.seq)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header
		wantSubj := "rp." + w.subj[len("orders."):]
		if m.Subject != wantSubj || string(m.Data) != string(stored.Data) || h.Get("Origin") != "test" ||
			h.Get("Nats-Stream") != "RP" || h.Get("Nats-Subject") != w.subj ||
			h.Get("Nats-Sequence") != strconv.FormatUint(w.seq, 10) ||
			h.Get("Nats-Last-Sequence") != strconv.FormatUint(lastOn[w.subj], 10) {
			t.Fatalf("seq %d: got %s %q %v", w.seq, m.Subject, m.Data, h)
		}
		ts, err := time.Parse(time.RFC3339Nano, h.Get("Nats-Time-Stamp"))
		if err != nil || !ts.Equal(stored.Time) {
			t.Fatalf("seq %d: time stamp %q, stored %v (%v)", w.seq, h.Get("Nats-Time-Stamp"), stored.Time, err)
		}
		lastOn[w.subj] = w.seq
	}

	// headers_only: the size instead of the payload.
	cfg.RePublish.HeadersOnly = true
	if _, err := js.UpdateStream(c, cfg); err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(c, "orders.a", []byte("12345"))
	if err != nil {
		t.Fatal(err)
	}
	m := nextRepublished(t, sub)
	if len(m.Data) != 0 || m.Header.Get("Nats-Msg-Size") != "5" || m.Header.Get("Nats-Sequence") != strconv.FormatUint(ack.Sequence, 10) {
		t.Fatalf("headers only: %q %v", m.Data, m.Header)
	}

	// Removed, nothing is sent; added again, sending resumes. Messages go
	// out in order, so the next one received proves the gap.
	cfg.RePublish = nil
	if _, err := js.UpdateStream(c, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "orders.a", []byte("not republished")); err != nil {
		t.Fatal(err)
	}
	cfg.RePublish = &jetstream.RePublish{Destination: "rp.again.>"}
	if _, err := js.UpdateStream(c, cfg); err != nil {
		t.Fatal(err)
	}
	ack, err = js.Publish(c, "orders.b", []byte("again"))
	if err != nil {
		t.Fatal(err)
	}
	m = nextRepublished(t, sub)
	if m.Subject != "rp.again.orders.b" || string(m.Data) != "again" || m.Header.Get("Nats-Sequence") != strconv.FormatUint(ack.Sequence, 10) {
		t.Fatalf("after re-adding: %s %q %v", m.Subject, m.Data, m.Header)
	}
	info, err := st.Info(c)
	if err != nil || info.Config.RePublish == nil || info.Config.RePublish.Source != ">" || info.Config.RePublish.Destination != "rp.again.>" {
		t.Fatalf("info: %+v %v", info.Config.RePublish, err)
	}
}

func TestJetStreamRepublishValidation(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	for _, tt := range []struct {
		name string
		rp   jetstream.RePublish
		code jetstream.ErrorCode
		text string
	}{
		{"cycle", jetstream.RePublish{Source: ">", Destination: "v.x.>"}, 10052, "stream configuration for republish destination forms a cycle"},
		{"bad transform", jetstream.RePublish{Source: "v.*", Destination: "x.$2"}, 10052, "stream configuration for republish with transform from 'v.*' to 'x.$2' not valid"},
		{"wildcard destination", jetstream.RePublish{Source: "v.>", Destination: "x.*"}, 10052, "stream configuration for republish with transform from 'v.>' to 'x.*' not valid"},
	} {
		_, err := js.CreateStream(c, jetstream.StreamConfig{Name: "V", Subjects: []string{"v.>"}, RePublish: &tt.rp})
		var ae *jetstream.APIError
		if apiCode(err) != tt.code || !errors.As(err, &ae) || ae.Description != tt.text {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// As nats-server: a source outside the stream's subjects is accepted
	// (it never matches), and an empty destination republishes nothing.
	for i, rp := range []jetstream.RePublish{{Source: "other.>", Destination: "x.>"}, {Destination: ""}} {
		name := fmt.Sprintf("OK%d", i)
		if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, RePublish: &rp}); err != nil {
			t.Errorf("%+v: %v", rp, err)
		}
	}
}

// A republish captured by another stream is ingested there (and
// republished again) without deadlock, while clients publish from many
// connections and a stream records every advisory: a chain A -> B -> C,
// and P and Q republishing into each other (P's copies of Q's messages
// do not match P's source, so the loop ends there). Publishing under a
// stream's lock, or through one shared client, deadlocks here.
func TestJetStreamRepublishCapturedByStream(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "ADV", Subjects: []string{"$JS.EVENT.>"}, Storage: jetstream.MemoryStorage})
	mustStream(t, js, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}, RePublish: &jetstream.RePublish{Destination: "b.>"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: jetstream.MemoryStorage,
		RePublish: &jetstream.RePublish{Destination: "c.>"}})
	stC := mustStream(t, js, jetstream.StreamConfig{Name: "C", Subjects: []string{"c.>"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Storage: jetstream.MemoryStorage,
		RePublish: &jetstream.RePublish{Source: "p.*", Destination: "q.{{wildcard(1)}}"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "Q", Subjects: []string{"q.>"}, Storage: jetstream.MemoryStorage,
		RePublish: &jetstream.RePublish{Source: "q.*", Destination: "p.back.{{wildcard(1)}}"}})
	cons, err := stC.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "all", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}

	const publishers, each = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		_, pjs := jsConnect(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Odd publishers feed the cycle from both ends.
				subj := []string{"a.%d", "p.%d", "a.%d", "q.%d"}[p%4]
				if _, err := pjs.Publish(c, fmt.Sprintf(subj, p), []byte(strconv.Itoa(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Meanwhile, the API keeps working (audit and advisories flow into ADV).
	for i := range 20 {
		if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: fmt.Sprintf("X%d", i), Subjects: []string{fmt.Sprintf("x%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Two publishers on a.*, one on p.*, one on q.*.
	for name, want := range map[string]uint64{"A": 2 * each, "B": 2 * each, "C": 2 * each, "P": 3 * each, "Q": 2 * each} {
		eventually(t, 20*time.Second, func() bool {
			st, err := js.Stream(c, name)
			return err == nil && st.CachedInfo().State.Msgs == want
		}, fmt.Sprintf("%s holding %d messages", name, want))
	}
	// C's copies keep the chain's headers: B's republish of A's republish.
	msgs, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range msgs.Messages() {
		h := m.Headers()
		if h.Get("Nats-Stream") != "A" || len(h.Values("Nats-Stream")) != 2 || h.Values("Nats-Stream")[1] != "B" || m.Subject()[:4] != "c.b." {
			t.Fatalf("chained copy: %s %v", m.Subject(), h)
		}
	}
}
