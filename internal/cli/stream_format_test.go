package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var testNow = time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)

func TestStreamTable(t *testing.T) {
	infos := []*jetstream.StreamInfo{
		{Config: jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>", "refunds"}},
			State: jetstream.StreamState{Msgs: 1234567, Bytes: 3 << 20, LastTime: testNow.Add(-90 * time.Second)}},
		{Config: jetstream.StreamConfig{Name: "EMPTY", Subjects: []string{"empty"}}},
	}
	want := "" +
		"NAME    SUBJECTS           MESSAGES   BYTES     LAST MESSAGE\n" +
		"ORDERS  orders.>, refunds  1,234,567  3.00 MiB  1m30s ago\n" +
		"EMPTY   empty              0          0 B       never\n"
	if got := streamTable(infos, testNow); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := streamTable(nil, testNow); got != "No streams defined\n" {
		t.Errorf("empty: %q", got)
	}
}

func TestAgeText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "0s",
		-time.Minute:                  "0s", // clock skew
		1500 * time.Millisecond:       "2s",
		5*time.Minute + 3*time.Second: "5m3s",
		3*time.Hour + 7*time.Minute:   "3h7m",
		52*time.Hour + 10*time.Minute: "2d4h",
	} {
		if got := ageText(d); got != want {
			t.Errorf("ageText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStreamInfoText(t *testing.T) {
	si := &jetstream.StreamInfo{
		Created: testNow,
		Config: jetstream.StreamConfig{
			Name: "ORDERS", Description: "shop orders", Subjects: []string{"orders.>"},
			Storage: jetstream.FileStorage, Compression: jetstream.S2Compression, Retention: jetstream.WorkQueuePolicy,
			Discard: jetstream.DiscardNew, DiscardNewPerSubject: true, Duplicates: 2 * time.Minute,
			MaxMsgs: 1000, MaxMsgsPerSubject: -1, MaxBytes: 1 << 30, MaxAge: time.Hour, MaxMsgSize: -1,
			MaxConsumers: -1, Replicas: 1, DenyPurge: true, AllowDirect: true,
		},
		State: jetstream.StreamState{Msgs: 3, Bytes: 150, FirstSeq: 2, FirstTime: testNow, LastSeq: 5,
			LastTime: testNow.Add(time.Second), NumDeleted: 1, NumSubjects: 2},
	}
	got := streamInfoText(si)
	for _, want := range []string{
		"Information for stream ORDERS, created 2026-11-22T17:00:00Z\n\nConfiguration:\n",
		"  Description:        shop orders\n",
		"  Subjects:           orders.>\n",
		"  Storage:            file\n",
		"  Compression:        s2\n",
		"  Retention:          workqueue\n",
		"  Discard policy:     new (per subject)\n",
		"  Duplicate window:   2m0s\n",
		"  Allows msg delete:  true\n",
		"  Allows purge:       false\n",
		"  Direct get:         true\n",
		"  Max messages:       1,000\n",
		"  Max per subject:    unlimited\n",
		"  Max bytes:          1.00 GiB\n",
		"  Max age:            1h0m0s\n",
		"\nState:\n",
		"  Messages:          3\n",
		"  First sequence:    2 @ 2026-11-22T17:00:00Z\n",
		"  Last sequence:     5 @ 2026-11-22T17:00:01Z\n",
		"  Deleted messages:  1\n",
		"  Active consumers:  0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Sealed") || strings.Contains(got, "Lost") {
		t.Errorf("unset options shown:\n%s", got)
	}
}

func TestStoredMsgText(t *testing.T) {
	m := &jetstream.RawStreamMsg{Subject: "orders.new", Sequence: 7, Time: testNow.Add(1500 * time.Microsecond),
		Header: nats.Header{"B": {"2"}, "A": {"1", "one"}}, Data: []byte("hello")}
	want := "[7] Subject: orders.new Received: 2026-11-22T17:00:00.0015Z\n  A: 1\n  A: one\n  B: 2\n\nhello\n\n"
	if got := storedMsgText(m); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// What the direct get API adds is not part of the message.
	m.Header = nats.Header{"B": {"2"}, "A": {"1", "one"}, "Nats-Stream": {"ORD"}, "Nats-Sequence": {"7"},
		"Nats-Subject": {"orders.new"}, "Nats-Time-Stamp": {"x"}, "Nats-Num-Pending": {"3"}}
	if got := storedMsgText(m); got != want {
		t.Errorf("direct get: got %q\nwant %q", got, want)
	}
	m = &jetstream.RawStreamMsg{Subject: "s", Sequence: 1, Time: testNow, Data: []byte("line\n"), Header: nats.Header{"Nats-Stream": {"S"}}}
	if got, want := storedMsgText(m), "[1] Subject: s Received: 2026-11-22T17:00:00Z\nline\n\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
