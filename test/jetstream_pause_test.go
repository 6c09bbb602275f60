package test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// pauseEvent is the part of a pause advisory the tests read.
type pauseEvent struct {
	Type       string    `json:"type"`
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until"`
}

func nextPauseEvent(t *testing.T, sub *nats.Subscription) pauseEvent {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no pause advisory: %v", err)
	}
	var ev pauseEvent
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "io.nats.jetstream.advisory.v1.consumer_pause" || ev.Stream != "P" || ev.Consumer != "c" {
		t.Fatalf("advisory %s", m.Data)
	}
	return ev
}

// TestJetStreamConsumerPause: CONSUMER.PAUSE holds deliveries until the
// deadline or a resume, info and advisories say so, and the pause
// survives a restart.
func TestJetStreamConsumerPause(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p"}})
	adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.P.c")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	// natscli sends the zero time with every create and edit: not paused.
	resp, err := nc.Request("$JS.API.CONSUMER.CREATE.P.c",
		[]byte(`{"stream_name":"P","config":{"durable_name":"c","ack_policy":"explicit","pause_until":"0001-01-01T00:00:00Z"}}`), 5*time.Second)
	if err != nil || strings.Contains(string(resp.Data), `"error"`) || strings.Contains(string(resp.Data), `"paused":true`) {
		t.Fatalf("create with the zero pause_until: %s %v", resp.Data, err)
	}
	cons, err := st.Consumer(c, "c")
	if err != nil {
		t.Fatal(err)
	}
	js.Publish(c, "p", []byte("1"))

	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	pr, err := js.PauseConsumer(c, "P", "c", until)
	if err != nil || !pr.Paused || !pr.PauseUntil.Equal(until) || pr.PauseRemaining <= 0 {
		t.Fatalf("pause: %+v %v", pr, err)
	}
	if ev := nextPauseEvent(t, adv); !ev.Paused || !ev.PauseUntil.Equal(until) {
		t.Fatalf("pause advisory %+v", ev)
	}
	info, err := cons.Info(c)
	if err != nil || !info.Paused || info.PauseRemaining <= 0 || info.Config.PauseUntil == nil || !info.Config.PauseUntil.Equal(until) {
		t.Fatalf("paused info: %+v %v", info, err)
	}
	// Nothing is delivered while paused; the request waits and times out.
	b, err := cons.Fetch(1, jetstream.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		t.Fatalf("delivered while paused: %s", m.Data())
	}
	// An edit (natscli sends the zero time again) keeps the pause.
	resp, err = nc.Request("$JS.API.CONSUMER.CREATE.P.c",
		[]byte(`{"stream_name":"P","config":{"durable_name":"c","ack_policy":"explicit","description":"edited","pause_until":"0001-01-01T00:00:00Z"}}`), 5*time.Second)
	if err != nil || !strings.Contains(string(resp.Data), `"paused":true`) {
		t.Fatalf("edit of a paused consumer: %s %v", resp.Data, err)
	}

	// The pause survives a restart.
	s = restartJS(t, s, dir)
	nc, js = jsConnect(t, s)
	adv, _ = nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.PAUSE.P.c")
	nc.Flush()
	cons, err = js.Consumer(c, "P", "c")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := cons.Info(c); err != nil || !info.Paused {
		t.Fatalf("after restart: %+v %v", info, err)
	}

	// A resume lets the waiting message out at once.
	pr, err = js.ResumeConsumer(c, "P", "c")
	if err != nil || pr.Paused || !pr.PauseUntil.IsZero() {
		t.Fatalf("resume: %+v %v", pr, err)
	}
	if ev := nextPauseEvent(t, adv); ev.Paused {
		t.Fatalf("resume advisory %+v", ev)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || string(m.Data()) != "1" {
		t.Fatalf("after resume: %v", err)
	}
	m.Ack()
	if info, _ := cons.Info(c); info.Paused || info.Config.PauseUntil != nil {
		t.Fatalf("resumed info: %+v", info)
	}

	// A short pause ends by itself: a waiting request gets the message
	// once the deadline passes, and the resume is advised.
	until = time.Now().Add(400 * time.Millisecond)
	if _, err := js.PauseConsumer(c, "P", "c", until); err != nil {
		t.Fatal(err)
	}
	if ev := nextPauseEvent(t, adv); !ev.Paused {
		t.Fatalf("pause advisory %+v", ev)
	}
	js.Publish(c, "p", []byte("2"))
	m, err = cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil || string(m.Data()) != "2" {
		t.Fatalf("after the deadline: %v", err)
	}
	if time.Now().Before(until) {
		t.Fatal("delivered before the pause ended")
	}
	if ev := nextPauseEvent(t, adv); ev.Paused {
		t.Fatalf("automatic resume advisory %+v", ev)
	}

	// A deadline in the past pauses nothing.
	pr, err = js.PauseConsumer(c, "P", "c", time.Now().Add(-time.Hour))
	if err != nil || pr.Paused {
		t.Fatalf("past deadline: %+v %v", pr, err)
	}
}

// TestJetStreamConsumerPauseRequests: while paused, pull requests still
// get heartbeats and time out; the pause API answers with nats-server's
// errors.
func TestJetStreamConsumerPauseRequests(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "P", Subjects: []string{"p"}})
	if _, err := js.CreateConsumer(c, "P", jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy,
		PauseUntil: ptr(time.Now().Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	js.Publish(c, "p", []byte("1"))
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P.c", inbox, []byte(`{"batch":1,"expires":1000000000,"idle_heartbeat":200000000}`))
	var statuses []string
	for len(statuses) < 10 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", statuses, err)
		}
		if len(m.Data) > 0 {
			t.Fatalf("delivered while paused: %s", m.Data)
		}
		statuses = append(statuses, m.Header.Get("Status"))
		if m.Header.Get("Status") == "100" && m.Header.Get("Nats-Last-Consumer") != "0" {
			t.Fatalf("pull heartbeat headers %v", m.Header)
		}
		if m.Header.Get("Status") == "408" {
			break
		}
	}
	if statuses[0] != "100" || statuses[len(statuses)-1] != "408" {
		t.Fatalf("statuses while paused: %v", statuses)
	}
	// no_wait on a paused consumer: no messages now.
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.P.c", inbox, []byte(`{"batch":1,"no_wait":true}`))
	if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Header.Get("Status") != "404" {
		t.Fatalf("no_wait while paused: %v %v", m, err)
	}

	for _, tt := range []struct {
		subject, body string
		code          int
	}{
		{"$JS.API.CONSUMER.PAUSE.P.nope", `{}`, 10014},
		{"$JS.API.CONSUMER.PAUSE.NOPE.c", `{}`, 10059},
		{"$JS.API.CONSUMER.PAUSE.P.c", `{"pause_until":"garbage"}`, 10025},
	} {
		m, err := nc.Request(tt.subject, []byte(tt.body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Type  string `json:"type"`
			Error struct {
				ErrCode int `json:"err_code"`
			} `json:"error"`
			Paused     *bool      `json:"paused"`
			PauseUntil *time.Time `json:"pause_until"`
		}
		json.Unmarshal(m.Data, &r)
		// nats-server sends paused and pause_until even with an error.
		if r.Error.ErrCode != tt.code || r.Type != "io.nats.jetstream.api.v1.consumer_pause_response" || r.Paused == nil || r.PauseUntil == nil {
			t.Errorf("%s %s: %s", tt.subject, tt.body, m.Data)
		}
	}
	if _, err := js.PauseConsumer(c, "P", "nope", time.Now()); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Errorf("nats.go pause of a missing consumer: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// restartJS stops s and starts a server on the same store directory.
func restartJS(t *testing.T, s *server.Server, dir string) *server.Server {
	t.Helper()
	if err := s.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	return startJS(t, dir)
}
