package test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestJetStreamSubjectTransform(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "TR", Subjects: []string{"in.*.*"},
		SubjectTransform: &jetstream.SubjectTransformConfig{Source: "in.*.*", Destination: "out.{{wildcard(2)}}.$1"}})
	if _, err := js.Publish(c, "in.eu.new", []byte("x")); err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(c, 1)
	if err != nil || m.Subject != "out.new.eu" {
		t.Fatalf("transformed subject: %+v %v", m, err)
	}
	_, err = js.CreateStream(c, jetstream.StreamConfig{Name: "BAD", Subjects: []string{"bad.*"},
		SubjectTransform: &jetstream.SubjectTransformConfig{Source: "bad.*", Destination: "x.$3"}})
	if apiCode(err) != 10156 {
		t.Fatalf("invalid transform: %v", err)
	}
}

func TestJetStreamSourcesAndMirror(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	_, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "EU", Subjects: []string{"eu.>"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "US", Subjects: []string{"us.>"}})
	for i := range 5 {
		for _, region := range []string{"eu", "us"} {
			if _, err := js.Publish(c, fmt.Sprintf("%s.order.%d", region, i), []byte(region)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An aggregate of both, one with a filter and a transform, and a mirror.
	all := mustStream(t, js, jetstream.StreamConfig{Name: "ALL", Sources: []*jetstream.StreamSource{{Name: "EU"}, {Name: "US"}}})
	filtered := mustStream(t, js, jetstream.StreamConfig{Name: "F", Sources: []*jetstream.StreamSource{{Name: "EU",
		SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "eu.order.*", Destination: "copy.{{wildcard(1)}}"}}}}})
	mirror := mustStream(t, js, jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "EU"}})

	count := func(st jetstream.Stream) uint64 {
		info, err := st.Info(c)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	eventually(t, 5*time.Second, func() bool { return count(all) == 10 && count(filtered) == 5 && count(mirror) == 5 }, "sources and mirror to catch up")

	m, err := filtered.GetMsg(c, 1)
	if err != nil || m.Subject != "copy.0" || m.Header.Get("Nats-Stream-Source") == "" {
		t.Fatalf("sourced message: %+v %v", m, err)
	}
	// New messages flow without polling delays mattering.
	if err := js.DeleteStream(c, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "eu.order.9", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return count(all) == 11 && count(mirror) == 6 }, "a new message to be copied")
	info, _ := mirror.Info(c)
	if info.Mirror == nil || info.Mirror.Name != "EU" || info.State.LastSeq != 6 {
		t.Fatalf("mirror info: %+v %+v", info.Mirror, info.State)
	}
	em, _ := js.Stream(c, "EU")
	orig, _ := em.GetMsg(c, 3)
	copied, err := mirror.GetMsg(c, 3)
	if err != nil || copied.Subject != orig.Subject || !copied.Time.Equal(orig.Time) {
		t.Fatalf("mirror copy of 3: %+v vs %+v (%v)", copied, orig, err)
	}
	// Mirrors take no direct publishes and cannot have subjects.
	if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: "M2", Subjects: []string{"m2"}, Mirror: &jetstream.StreamSource{Name: "EU"}}); err == nil {
		t.Fatal("mirror with subjects accepted")
	}

	// After a restart, copying resumes where it was: nothing twice.
	if err := s.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	s2 := startJS(t, dir)
	_, js2 := jsConnect(t, s2)
	if _, err := js2.Publish(c, "eu.order.10", nil); err != nil {
		t.Fatal(err)
	}
	all2, _ := js2.Stream(c, "ALL")
	mirror2, _ := js2.Stream(c, "M")
	eventually(t, 5*time.Second, func() bool {
		a, _ := all2.Info(c)
		m, _ := mirror2.Info(c)
		return a != nil && m != nil && a.State.Msgs == 12 && m.State.Msgs == 7
	}, "copies to resume after restart")
	// A marker published now is copied after anything a resumed copier
	// might copy twice (copies are made in order), so once it is in, the
	// count is final.
	if _, err := js2.Publish(c, "eu.order.11", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() bool {
		m, err := all2.GetLastMsgForSubject(c, "eu.order.11")
		return err == nil && m != nil
	}, "the marker to be copied")
	a, _ := all2.Info(c)
	if a.State.Msgs != 13 {
		t.Fatalf("duplicates after restart: %d messages, want 13", a.State.Msgs)
	}
}

func TestJetStreamMirrorDirect(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	// A mirror takes mirror_direct from its origin's allow_direct, as in
	// nats-server.
	mustStream(t, js, jetstream.StreamConfig{Name: "ORIG", Subjects: []string{"orig"}, AllowDirect: true})
	m := mustStream(t, js, jetstream.StreamConfig{Name: "MD", Mirror: &jetstream.StreamSource{Name: "ORIG"}})
	if info, err := m.Info(c); err != nil || !info.Config.MirrorDirect {
		t.Fatalf("mirror_direct not inherited: %+v %v", info, err)
	}
	if _, err := js.Publish(c, "orig", []byte("v")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool {
		info, err := m.Info(c)
		return err == nil && info.State.Msgs == 1
	}, "the mirror to copy")
	// With ORIG gone only the mirror can answer for it.
	if err := js.DeleteStream(c, "ORIG"); err != nil {
		t.Fatal(err)
	}
	resp, err := nc.Request("$JS.API.DIRECT.GET.ORIG", []byte(`{"seq":1}`), 2*time.Second)
	if err != nil || string(resp.Data) != "v" || resp.Header.Get("Nats-Stream") != "MD" {
		t.Fatalf("direct get through the mirror: %+v %v", resp, err)
	}
}
