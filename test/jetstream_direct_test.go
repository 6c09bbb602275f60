package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// directBatch sends one DIRECT.GET request and collects the replies up to
// and including the first status-only message (the 204 EOB, or an error).
func directBatch(t *testing.T, nc *nats.Conn, stream, body string) (msgs []*nats.Msg, end *nats.Msg) {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, []byte(body)); err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("direct get %s: %v after %d messages", body, err, len(msgs))
		}
		if m.Header.Get("Status") != "" {
			return msgs, m
		}
		msgs = append(msgs, m)
	}
	t.Fatal("no end of batch")
	return nil, nil
}

func subjectsOf(msgs []*nats.Msg) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Header.Get("Nats-Subject")+"="+string(m.Data))
	}
	return strings.Join(out, " ")
}

func TestJetStreamDirectGetMultiLast(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "M", Subjects: []string{"m.>"}, AllowDirect: true})
	// seq: 1 m.a=1, 2 m.b=2, 3 m.a=3, 4 m.c.x=4, 5 m.b=5
	for i, subj := range []string{"m.a", "m.b", "m.a", "m.c.x", "m.b"} {
		if _, err := js.Publish(c, subj, []byte(fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, body, want, status, upTo string
	}{
		{"all last", `{"multi_last":["m.>"]}`, "m.a=3 m.c.x=4 m.b=5", "204", "5"},
		{"two filters", `{"multi_last":["m.a","m.b"]}`, "m.a=3 m.b=5", "204", "5"},
		{"overlapping filters", `{"multi_last":["m.*","m.a"]}`, "m.a=3 m.b=5", "204", "5"},
		{"up to seq", `{"multi_last":["m.>"],"up_to_seq":2}`, "m.a=1 m.b=2", "204", "2"},
		{"batch", `{"multi_last":["m.>"],"batch":2}`, "m.a=3 m.c.x=4", "204", "5"},
		{"from seq", `{"multi_last":["m.>"],"seq":4}`, "m.c.x=4 m.b=5", "204", "5"},
		{"nothing", `{"multi_last":["z.>"]}`, "", "404", ""},
		{"with last_by_subj", `{"multi_last":["m.>"],"last_by_subj":"m.a"}`, "", "408", ""},
		{"with next_by_subj", `{"multi_last":["m.>"],"next_by_subj":"m.a"}`, "", "408", ""},
		{"up to seq and time", `{"multi_last":["m.>"],"up_to_seq":1,"up_to_time":"2020-01-01T00:00:00Z"}`, "", "408", ""},
		{"up to a time before the stream", `{"multi_last":["m.>"],"up_to_time":"2020-01-01T00:00:00Z"}`, "", "404", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, end := directBatch(t, nc, "M", tc.body)
			if got := subjectsOf(msgs); got != tc.want {
				t.Errorf("messages %q, want %q", got, tc.want)
			}
			if end.Header.Get("Status") != tc.status {
				t.Errorf("status %q %q, want %s", end.Header.Get("Status"), end.Header.Get("Description"), tc.status)
			}
			if tc.upTo != "" && end.Header.Get("Nats-UpTo-Sequence") != tc.upTo {
				t.Errorf("Nats-UpTo-Sequence %q, want %s", end.Header.Get("Nats-UpTo-Sequence"), tc.upTo)
			}
		})
	}
	// Every message of a multi_last batch says how many are left.
	msgs, _ := directBatch(t, nc, "M", `{"multi_last":["m.>"]}`)
	for i, m := range msgs {
		if got, want := m.Header.Get("Nats-Num-Pending"), fmt.Sprint(len(msgs)-1-i); got != want {
			t.Errorf("message %d: Nats-Num-Pending %s, want %s", i, got, want)
		}
	}
}

func TestJetStreamDirectGetStartTime(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, AllowDirect: true})
	if _, err := js.Publish(c, "t.old", []byte("old")); err != nil {
		t.Fatal(err)
	}
	// mark is just after the probe's stored time: later messages are at or
	// after it, earlier ones before.
	probe, err := js.Publish(c, "t.probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := nc.Request("$JS.API.DIRECT.GET.T", []byte(fmt.Sprintf(`{"seq":%d}`, probe.Sequence)), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339Nano, raw.Header.Get("Nats-Time-Stamp"))
	if err != nil {
		t.Fatal(err)
	}
	mark := ts.Add(time.Nanosecond)
	for !time.Now().After(mark) {
		time.Sleep(time.Millisecond)
	}
	if _, err := js.Publish(c, "t.new", []byte("new")); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"start_time":%q}`, mark.Format(time.RFC3339Nano))
	resp, err := nc.Request("$JS.API.DIRECT.GET.T", []byte(body), 2*time.Second)
	if err != nil || string(resp.Data) != "new" {
		t.Fatalf("start_time: %v %v", resp, err)
	}
	msgs, end := directBatch(t, nc, "T", fmt.Sprintf(`{"start_time":%q,"batch":5}`, time.Time{}.Add(time.Hour).Format(time.RFC3339Nano)))
	if got := subjectsOf(msgs); got != "t.old=old t.probe= t.new=new" || end.Header.Get("Status") != "204" {
		t.Fatalf("batch from start_time: %q, end %v", got, end.Header)
	}
	for _, bad := range []string{
		fmt.Sprintf(`{"seq":1,"start_time":%q}`, mark.Format(time.RFC3339Nano)),
		fmt.Sprintf(`{"last_by_subj":"t.new","start_time":%q}`, mark.Format(time.RFC3339Nano)),
	} {
		resp, err := nc.Request("$JS.API.DIRECT.GET.T", []byte(bad), 2*time.Second)
		if err != nil || resp.Header.Get("Status") != "408" {
			t.Fatalf("%s: %v %v", bad, resp, err)
		}
	}
	// The subject-in-subject form takes no body.
	resp, err = nc.Request("$JS.API.DIRECT.GET.T.t.new", []byte(`{}`), 2*time.Second)
	if err != nil || resp.Header.Get("Status") != "408" {
		t.Fatalf("last-by-subject with a body: %v %v", resp, err)
	}
}
