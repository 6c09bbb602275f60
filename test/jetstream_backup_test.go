package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream backup and restore ($JS.API.STREAM.SNAPSHOT / RESTORE) driven
// the way jsm.go (natscli's library) drives them, over nats.go: the
// snapshot's chunks are acknowledged one by one, the restore's chunks are
// requests answered when stored, an empty chunk ends it. The natscli and
// nats-server interoperability tests are in jetstream_backup_interop_test.go.

// apiErr is a JetStream API error as it appears in responses.
type apiErr struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiErr) Error() string { return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode) }

// backup is what a snapshot gave: the response and the archive.
type backup struct {
	Config  json.RawMessage
	State   jetstream.StreamState
	Archive []byte
	Status  string // the final message's status
	Chunks  int
}

// takeBackup snapshots stream over nc; extra request fields go in req.
func takeBackup(t testing.TB, nc *nats.Conn, stream string, req map[string]any) (*backup, error) {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if req == nil {
		req = map[string]any{}
	}
	req["deliver_subject"] = inbox
	body, _ := json.Marshal(req)
	msg, err := nc.Request("$JS.API.STREAM.SNAPSHOT."+stream, body, 10*time.Second)
	if err != nil {
		t.Fatalf("snapshot request: %v", err)
	}
	var resp struct {
		Type   string                `json:"type"`
		Error  *apiErr               `json:"error"`
		Config json.RawMessage       `json:"config"`
		State  jetstream.StreamState `json:"state"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		t.Fatalf("snapshot response %q: %v", msg.Data, err)
	}
	if resp.Type != "io.nats.jetstream.api.v1.stream_snapshot_response" {
		t.Fatalf("snapshot response type %q", resp.Type)
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	b := &backup{Config: resp.Config, State: resp.State}
	for range 1_000_000 {
		m, err := sub.NextMsg(20 * time.Second)
		if err != nil {
			t.Fatalf("snapshot chunk %d: %v", b.Chunks, err)
		}
		if len(m.Data) == 0 {
			b.Status = m.Header.Get("Status")
			if d := m.Header.Get("Description"); d != "" {
				b.Status += " " + d
			}
			return b, nil
		}
		b.Archive = append(b.Archive, m.Data...)
		b.Chunks++
		if m.Reply == "" {
			continue // nats-server 2.15 sends its last chunk without one
		}
		if err := m.Respond(nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("snapshot never ended")
	return nil, nil
}

// restoreBackup restores b as stream, sending chunks of chunkSize, and
// returns the final response's stream info or its error.
func restoreBackup(t testing.TB, nc *nats.Conn, stream string, b *backup, chunkSize int) (*jetstream.StreamInfo, error) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"config": b.Config, "state": b.State})
	msg, err := nc.Request("$JS.API.STREAM.RESTORE."+stream, body, 10*time.Second)
	if err != nil {
		t.Fatalf("restore request: %v", err)
	}
	var resp struct {
		Type           string  `json:"type"`
		Error          *apiErr `json:"error"`
		DeliverSubject string  `json:"deliver_subject"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		t.Fatalf("restore response %q: %v", msg.Data, err)
	}
	if resp.Type != "io.nats.jetstream.api.v1.stream_restore_response" {
		t.Fatalf("restore response type %q", resp.Type)
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	for data := b.Archive; ; {
		n := min(chunkSize, len(data))
		r, err := nc.Request(resp.DeliverSubject, data[:n], 30*time.Second)
		if err != nil {
			return nil, err
		}
		if n == 0 || len(r.Data) > 0 {
			return finalRestoreResponse(t, r.Data)
		}
		data = data[n:]
	}
}

func finalRestoreResponse(t testing.TB, data []byte) (*jetstream.StreamInfo, error) {
	t.Helper()
	var final struct {
		Type  string  `json:"type"`
		Error *apiErr `json:"error"`
		jetstream.StreamInfo
	}
	if err := json.Unmarshal(data, &final); err != nil {
		t.Fatalf("final restore response %q: %v", data, err)
	}
	if final.Type != "io.nats.jetstream.api.v1.stream_create_response" {
		t.Fatalf("final restore response type %q", final.Type)
	}
	if final.Error != nil {
		return nil, final.Error
	}
	return &final.StreamInfo, nil
}

// streamDump is everything observable about a stream's messages and
// consumers, for comparing a stream with its restored self.
type streamDump struct {
	State     jetstream.StreamState
	Msgs      map[uint64]string // the MSG.GET "message" object, byte for byte
	Consumers map[string]consumerDump
}

type consumerDump struct {
	Delivered, AckFloor           [2]uint64
	NumAckPending, NumRedelivered int
	NumPending                    uint64
	Durable, Filter, Deliver      string
	AckPolicy                     jetstream.AckPolicy
	DeliverPolicy                 jetstream.DeliverPolicy
}

func dumpStream(t testing.TB, nc *nats.Conn, js jetstream.JetStream, name string) *streamDump {
	t.Helper()
	c := ctx(t)
	s, err := js.Stream(c, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	d := &streamDump{State: info.State, Msgs: map[uint64]string{}, Consumers: map[string]consumerDump{}}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		r, err := nc.Request("$JS.API.STREAM.MSG.GET."+name, fmt.Appendf(nil, `{"seq":%d}`, seq), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Message json.RawMessage `json:"message"`
			Error   *apiErr         `json:"error"`
		}
		if err := json.Unmarshal(r.Data, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Error == nil {
			d.Msgs[seq] = string(resp.Message)
		}
	}
	names := s.ConsumerNames(c)
	for n := range names.Name() {
		r, err := nc.Request("$JS.API.CONSUMER.INFO."+name+"."+n, nil, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ci jetstream.ConsumerInfo
		if err := json.Unmarshal(r.Data, &ci); err != nil {
			t.Fatal(err)
		}
		d.Consumers[n] = consumerDump{
			Delivered:     [2]uint64{ci.Delivered.Consumer, ci.Delivered.Stream},
			AckFloor:      [2]uint64{ci.AckFloor.Consumer, ci.AckFloor.Stream},
			NumAckPending: ci.NumAckPending, NumRedelivered: ci.NumRedelivered, NumPending: ci.NumPending,
			Durable: ci.Config.Durable, Filter: ci.Config.FilterSubject, Deliver: ci.Config.DeliverSubject,
			AckPolicy: ci.Config.AckPolicy, DeliverPolicy: ci.Config.DeliverPolicy,
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// compareDumps checks that got (restored) holds what want (backed up)
// held. The time of a deleted last message is not kept by a restore.
func compareDumps(t testing.TB, want, got *streamDump) {
	t.Helper()
	ws, gs := want.State, got.State
	if ws.Msgs != gs.Msgs || ws.Bytes != gs.Bytes || ws.FirstSeq != gs.FirstSeq || ws.LastSeq != gs.LastSeq ||
		ws.NumDeleted != gs.NumDeleted || ws.NumSubjects != gs.NumSubjects || !ws.FirstTime.Equal(gs.FirstTime) {
		t.Errorf("state\n got %+v\nwant %+v", gs, ws)
	}
	if _, ok := want.Msgs[ws.LastSeq]; ok && !ws.LastTime.Equal(gs.LastTime) {
		t.Errorf("last time %v, want %v", gs.LastTime, ws.LastTime)
	}
	if len(got.Msgs) != len(want.Msgs) {
		t.Errorf("%d messages, want %d", len(got.Msgs), len(want.Msgs))
	}
	for seq, m := range want.Msgs {
		if got.Msgs[seq] != m {
			t.Errorf("message %d:\n got %s\nwant %s", seq, got.Msgs[seq], m)
		}
	}
	if len(got.Consumers) != len(want.Consumers) {
		t.Errorf("consumers %v, want %v", got.Consumers, want.Consumers)
	}
	for name, c := range want.Consumers {
		if got.Consumers[name] != c {
			t.Errorf("consumer %s:\n got %+v\nwant %+v", name, got.Consumers[name], c)
		}
	}
}

// fillBackupStream makes a stream worth backing up: messages with and without
// headers, empty ones, TTLs, a purged head, deleted and erased messages in
// the middle and a deleted last message; a pull consumer with acks,
// pending messages and a redelivery, a push consumer, and (with
// ephemeral) an ephemeral consumer.
func fillBackupStream(t testing.TB, js jetstream.JetStream, name string, storage jetstream.StorageType, ephemeral bool) {
	t.Helper()
	c := ctx(t)
	s := mustStream(t, js, jetstream.StreamConfig{
		Name: name, Subjects: []string{strings.ToLower(name) + ".>"}, Storage: storage, AllowMsgTTL: true,
	})
	prefix := strings.ToLower(name) + "."
	for i := 1; i <= 120; i++ {
		m := nats.NewMsg(prefix + strconv.Itoa(i%5))
		m.Data = bytes.Repeat([]byte{byte('a' + i%26)}, i*7)
		switch {
		case i%9 == 0:
			m.Data = nil
		case i%4 == 0:
			m.Header.Set("X-Order", strconv.Itoa(i))
			m.Header.Add("X-Order", "again")
		case i%17 == 0:
			m.Header.Set("Nats-TTL", "1h")
		}
		if _, err := js.PublishMsg(c, m); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if err := s.Purge(c, jetstream.WithPurgeSequence(5)); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{10, 11, 50, 120} {
		if err := s.DeleteMsg(c, seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SecureDeleteMsg(c, 60); err != nil {
		t.Fatal(err)
	}
	pull, err := s.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Durable: "PULL", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := pull.Fetch(8, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range batch.Messages() {
		i++
		switch i {
		case 1, 2, 4, 5:
			err = m.DoubleAck(c)
		case 6:
			err = m.Nak()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if i != 8 {
		t.Fatalf("fetched %d", i)
	}
	// The NAK'ed message again (nats-server 2.9 sends the next one
	// instead): delivered twice now, left pending.
	batch, err = pull.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}
	if _, err := s.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{
		Durable: "PUSH", DeliverSubject: "deliver." + name, AckPolicy: jetstream.AckNonePolicy,
		FilterSubject: prefix + "2", DeliverPolicy: jetstream.DeliverLastPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	if ephemeral {
		if _, err := s.CreateOrUpdateConsumer(c, jetstream.ConsumerConfig{Name: "EPH", AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
}

// A stream backed up with its consumers, deleted and restored comes back
// the same: every message byte for byte under its sequence, the state,
// and each consumer's position, pending and redelivered messages. It then
// carries on where it was.
func TestJetStreamBackupRoundTrip(t *testing.T) {
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		t.Run(storage.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := startJS(t, dir)
			nc, js := jsConnect(t, s)
			fillBackupStream(t, js, "BK", storage, true)
			before := dumpStream(t, nc, js, "BK")

			b, err := takeBackup(t, nc, "BK", map[string]any{"chunk_size": 4096})
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != "204" || b.Chunks < 2 {
				t.Fatalf("snapshot ended %q after %d chunks", b.Status, b.Chunks)
			}
			if b.State.Msgs != before.State.Msgs || b.State.LastSeq != before.State.LastSeq || b.State.Consumers != 3 {
				t.Fatalf("snapshot state %+v", b.State)
			}
			if err := js.DeleteStream(ctx(t), "BK"); err != nil {
				t.Fatal(err)
			}
			info, err := restoreBackup(t, nc, "BK", b, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if info.Config.Name != "BK" || info.State.Msgs != before.State.Msgs || info.Config.Storage != storage {
				t.Fatalf("restored info %+v", info)
			}
			compareDumps(t, before, dumpStream(t, nc, js, "BK"))
			if entries, _ := os.ReadDir(filepath.Join(dir, "jetstream", ".restore")); len(entries) != 0 {
				t.Fatalf("staging left behind: %v", entries)
			}
			carryOn(t, js, before)

			// Once more, through a restart for a file stream: what was
			// restored is on disk like any stream.
			if storage == jetstream.FileStorage {
				after := dumpStream(t, nc, js, "BK")
				delete(after.Consumers, "EPH") // ephemeral: not kept across restarts
				nc.Close()
				if err := s.Shutdown(ctx(t)); err != nil {
					t.Fatal(err)
				}
				s2 := startJS(t, dir)
				nc2, js2 := jsConnect(t, s2)
				compareDumps(t, after, dumpStream(t, nc2, js2, "BK"))
			}
		})
	}
}

// carryOn checks a restored stream continues: new messages get the next
// sequences, the pull consumer redelivers its pending messages (the one
// delivered twice before comes a third time) and then delivers new ones.
func carryOn(t testing.TB, js jetstream.JetStream, before *streamDump) {
	t.Helper()
	c := ctx(t)
	ack, err := js.Publish(c, "bk.new", []byte("after"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Sequence != before.State.LastSeq+1 {
		t.Fatalf("next sequence %d, want %d", ack.Sequence, before.State.LastSeq+1)
	}
	cons, err := js.Consumer(c, "BK", "PULL")
	if err != nil {
		t.Fatal(err)
	}
	pending := before.Consumers["PULL"].NumAckPending
	batch, err := cons.Fetch(pending+1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var thrice, n int
	var lastSeq uint64
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		n++
		if md.NumDelivered == 3 {
			thrice++
		}
		lastSeq = md.Sequence.Stream
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
	}
	if n != pending+1 || thrice != 1 {
		t.Fatalf("after restore: %d messages (%d delivered a third time), want %d and 1", n, thrice, pending+1)
	}
	if lastSeq <= before.Consumers["PULL"].Delivered[1] {
		t.Fatalf("new delivery at %d, not past %d", lastSeq, before.Consumers["PULL"].Delivered[1])
	}
}

// codeOf is the JetStream error code of an error from these helpers.
func codeOf(err error) int {
	var ae *apiErr
	if errors.As(err, &ae) {
		return ae.ErrCode
	}
	return 0
}

// stagingEmpty waits until no restore is staged under dir.
func stagingEmpty(t testing.TB, dir string) {
	t.Helper()
	eventually(t, 10*time.Second, func() bool {
		entries, err := os.ReadDir(filepath.Join(dir, "jetstream", ".restore"))
		return (err == nil && len(entries) == 0) || errors.Is(err, os.ErrNotExist)
	}, "the restore staging to be removed")
}

func rawRequest(t testing.TB, nc *nats.Conn, subj, body string) *apiErr {
	t.Helper()
	r, err := nc.Request(subj, []byte(body), 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subj, err)
	}
	var resp struct {
		Error *apiErr `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &resp); err != nil {
		t.Fatalf("%s: %q: %v", subj, r.Data, err)
	}
	return resp.Error
}

// Requests nats-server refuses are refused with its error codes.
func TestJetStreamBackupRequestErrors(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	mustStream(t, js, jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"}})
	tests := []struct {
		name, subject, body string
		code                int
	}{
		{"snapshot without body", "$JS.API.STREAM.SNAPSHOT.E", "", 10003},
		{"snapshot with empty object", "$JS.API.STREAM.SNAPSHOT.E", " {} ", 10003},
		{"snapshot of unknown stream", "$JS.API.STREAM.SNAPSHOT.NOPE", `{"deliver_subject":"x"}`, 10059},
		{"snapshot bad JSON", "$JS.API.STREAM.SNAPSHOT.E", `{"deliver_subject":`, 10025},
		{"snapshot wildcard deliver subject", "$JS.API.STREAM.SNAPSHOT.E", `{"deliver_subject":"x.*"}`, 10015},
		{"snapshot without deliver subject", "$JS.API.STREAM.SNAPSHOT.E", `{"no_consumers":true}`, 10015},
		{"restore without body", "$JS.API.STREAM.RESTORE.R", "", 10003},
		{"restore bad JSON", "$JS.API.STREAM.RESTORE.R", `{"config":`, 10025},
		{"restore over an existing stream", "$JS.API.STREAM.RESTORE.E", `{"config":{"name":"E","subjects":["e2"]}}`, 10130},
		{"restore with overlapping subjects", "$JS.API.STREAM.RESTORE.R", `{"config":{"name":"R","subjects":["e.x"]}}`, 10065},
		{"restore under another name", "$JS.API.STREAM.RESTORE.R", `{"config":{"name":"Q"}}`, 10056},
		{"restore with a bad configuration", "$JS.API.STREAM.RESTORE.R", `{"config":{"name":"R","max_age":-1}}`, 10052},
	}
	for _, tt := range tests {
		e := rawRequest(t, nc, tt.subject, tt.body)
		if e == nil || e.ErrCode != tt.code {
			t.Errorf("%s: %+v, want error %d", tt.name, e, tt.code)
		}
	}
}

// A damaged archive, an archive of another stream and an upload past the
// server's storage limit fail the restore with an error to the client and
// leave neither a stream nor staged files behind.
func TestJetStreamRestoreRefusesBadArchives(t *testing.T) {
	src := startJS(t, "")
	snc, sjs := jsConnect(t, src)
	fillBackupStream(t, sjs, "BK", jetstream.FileStorage, false)
	good, err := takeBackup(t, snc, "BK", nil)
	if err != nil {
		t.Fatal(err)
	}
	mustStream(t, sjs, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other"}})
	other, err := takeBackup(t, snc, "OTHER", nil)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	s := startJS(t, dir)
	nc, js := jsConnect(t, s)
	damaged := *good
	damaged.Archive = bytes.Clone(good.Archive)
	damaged.Archive[len(damaged.Archive)/2] ^= 0x10
	truncated := *good
	truncated.Archive = good.Archive[:len(good.Archive)*2/3]
	renamed := *other
	renamed.Config = good.Config // the archive still says OTHER
	for _, tt := range []struct {
		name string
		b    *backup
		want string
	}{
		{"damaged", &damaged, "corrupt"},
		{"truncated", &truncated, "corrupt"},
		{"another stream's archive", &renamed, `holds stream "OTHER", not "BK"`},
		{"not an archive", &backup{Config: good.Config, Archive: []byte("hello, world")}, "corrupt"},
	} {
		_, err := restoreBackup(t, nc, "BK", tt.b, 1024)
		if codeOf(err) != 10062 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want restore failed (10062) with %q", tt.name, err, tt.want)
		}
		if _, err := js.Stream(ctx(t), "BK"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatalf("%s: stream left behind: %v", tt.name, err)
		}
		stagingEmpty(t, dir)
	}
	// The good one still restores afterwards.
	if _, err := restoreBackup(t, nc, "BK", good, 1024); err != nil {
		t.Fatal(err)
	}

	small := t.TempDir()
	tiny := startJS(t, small, func(o *serverOptions) { o.JetStreamMaxStore = 1024 })
	tnc, _ := jsConnect(t, tiny)
	if _, err := restoreBackup(t, tnc, "BK", good, 512); codeOf(err) != 10023 {
		t.Fatalf("restore past max_store: %v, want insufficient resources (10023)", err)
	}
	stagingEmpty(t, small)

	// As a memory stream: the upload fits, the messages do not.
	memDir := t.TempDir()
	tinyMem := startJS(t, memDir, func(o *serverOptions) { o.JetStreamMaxMemory = 4096 })
	mnc, mjs := jsConnect(t, tinyMem)
	asMemory := *good
	asMemory.Config = bytes.Replace(good.Config, []byte(`"storage":"file"`), []byte(`"storage":"memory"`), 1)
	if _, err := restoreBackup(t, mnc, "BK", &asMemory, 1<<20); codeOf(err) != 10023 {
		t.Fatalf("restore past max_memory_store: %v, want insufficient resources (10023)", err)
	}
	if _, err := mjs.Stream(ctx(t), "BK"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream left behind: %v", err)
	}
	stagingEmpty(t, memDir)
}

// A receiver that stops acknowledging ends the snapshot with 408 No Flow
// Response; while it runs a second snapshot of the stream is refused. A
// client that stops sending a restore loses it after a few seconds, and
// a chunk without a reply subject ends it at once.
func TestJetStreamBackupStalls(t *testing.T) {
	dir := t.TempDir()
	s := startJS(t, dir)
	nc, js := jsConnect(t, s)
	fillBackupStream(t, js, "BK", jetstream.FileStorage, false)
	good, err := takeBackup(t, nc, "BK", nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("snapshot without acks", func(t *testing.T) {
		t.Parallel()
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		req := fmt.Sprintf(`{"deliver_subject":%q,"chunk_size":1024,"window_size":2048}`, inbox)
		if e := rawRequest(t, nc, "$JS.API.STREAM.SNAPSHOT.BK", req); e != nil {
			t.Fatal(e)
		}
		var data int
		for range 100 {
			m, err := sub.NextMsg(20 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Data) == 0 {
				if st := m.Header.Get("Status"); st != "408" || m.Header.Get("Description") != "No Flow Response" {
					t.Fatalf("final status %q %q, want 408 No Flow Response", st, m.Header.Get("Description"))
				}
				if data != 2 {
					t.Fatalf("%d chunks sent past a window of 2", data)
				}
				return
			}
			data++
			if data == 1 {
				e := rawRequest(t, nc, "$JS.API.STREAM.SNAPSHOT.BK", fmt.Sprintf(`{"deliver_subject":%q}`, nats.NewInbox()))
				if e == nil || e.ErrCode != 10064 || !strings.Contains(e.Description, "in progress") {
					t.Errorf("second snapshot: %+v, want snapshot in progress", e)
				}
			}
		}
		t.Fatal("no final message")
	})

	t.Run("restore that stops", func(t *testing.T) {
		t.Parallel()
		body, _ := json.Marshal(map[string]any{"config": json.RawMessage(`{"name":"GONE","subjects":["gone"]}`)})
		r, err := nc.Request("$JS.API.STREAM.RESTORE.GONE", body, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			DeliverSubject string `json:"deliver_subject"`
		}
		if err := json.Unmarshal(r.Data, &resp); err != nil || resp.DeliverSubject == "" {
			t.Fatalf("%q: %v", r.Data, err)
		}
		if _, err := nc.Request(resp.DeliverSubject, good.Archive[:100], 5*time.Second); err != nil {
			t.Fatal(err)
		}
		// Not probed with chunks: each would keep it alive.
		eventually(t, 20*time.Second, func() bool {
			entries, err := os.ReadDir(filepath.Join(dir, "jetstream", ".restore"))
			return err == nil && len(entries) == 0
		}, "the stalled restore to be dropped")
		if _, err := nc.Request(resp.DeliverSubject, good.Archive[100:200], time.Second); !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("chunk after the stall: %v, want no responders", err)
		}
		if _, err := js.Stream(ctx(t), "GONE"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatalf("stalled restore left a stream: %v", err)
		}
	})

	t.Run("restore chunk without reply", func(t *testing.T) {
		t.Parallel()
		body, _ := json.Marshal(map[string]any{"config": json.RawMessage(`{"name":"NOREPLY","subjects":["noreply"]}`)})
		r, err := nc.Request("$JS.API.STREAM.RESTORE.NOREPLY", body, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			DeliverSubject string `json:"deliver_subject"`
		}
		if err := json.Unmarshal(r.Data, &resp); err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(resp.DeliverSubject, good.Archive[:100]); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() bool {
			_, err := nc.Request(resp.DeliverSubject, good.Archive[100:200], time.Second)
			return errors.Is(err, nats.ErrNoResponders)
		}, "the restore to end")
	})
	t.Cleanup(func() { stagingEmpty(t, dir) })
}

// Snapshots and restores announce themselves with nats-server's
// advisories, on its subjects, with its types and fields.
func TestJetStreamBackupAdvisories(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	sub, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.STREAM.>")
	if err != nil {
		t.Fatal(err)
	}
	mustStream(t, js, jetstream.StreamConfig{Name: "ADV", Subjects: []string{"adv"}})
	if _, err := js.Publish(ctx(t), "adv", []byte("x")); err != nil {
		t.Fatal(err)
	}
	b, err := takeBackup(t, nc, "ADV", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx(t), "ADV"); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreBackup(t, nc, "ADV", b, 1<<20); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE.ADV":   "io.nats.jetstream.advisory.v1.snapshot_create",
		"$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.ADV": "io.nats.jetstream.advisory.v1.snapshot_complete",
		"$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE.ADV":    "io.nats.jetstream.advisory.v1.restore_create",
		"$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE.ADV":  "io.nats.jetstream.advisory.v1.restore_complete",
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		typ, ok := want[m.Subject]
		if !ok {
			continue // other stream advisories
		}
		var ev struct {
			Client *struct {
				ID  uint64 `json:"id"`
				Acc string `json:"acc"`
			} `json:"client"`
			Type   string                 `json:"type"`
			ID     string                 `json:"id"`
			Time   time.Time              `json:"timestamp"`
			Stream string                 `json:"stream"`
			State  *jetstream.StreamState `json:"state"`
			Start  time.Time              `json:"start"`
			End    time.Time              `json:"end"`
			Bytes  int64                  `json:"bytes"`
			Error  string                 `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != typ || ev.Stream != "ADV" || ev.ID == "" || ev.Time.IsZero() || ev.Error != "" || ev.Client == nil || ev.Client.ID == 0 {
			t.Errorf("%s: %s", m.Subject, m.Data)
		}
		switch {
		case strings.HasSuffix(m.Subject, "SNAPSHOT_CREATE.ADV") && (ev.State == nil || ev.State.Msgs != 1),
			strings.HasSuffix(m.Subject, "COMPLETE.ADV") && (ev.Start.IsZero() || ev.End.Before(ev.Start)),
			strings.HasSuffix(m.Subject, "RESTORE_COMPLETE.ADV") && ev.Bytes != int64(len(b.Archive)):
			t.Errorf("%s: %s", m.Subject, m.Data)
		}
		delete(want, m.Subject)
	}
	if len(want) > 0 {
		t.Fatalf("advisories not seen: %v", want)
	}
}

// A server stopped in the middle of a snapshot and a restore stops both
// and leaves no goroutines and no staged files.
func TestJetStreamBackupShutdownMidway(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	s := startJSManual(t, dir)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	fillBackupStream(t, js, "BK", jetstream.FileStorage, false)
	b, err := takeBackup(t, nc, "BK", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A snapshot whose receiver never acknowledges…
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	if e := rawRequest(t, nc, "$JS.API.STREAM.SNAPSHOT.BK", fmt.Sprintf(`{"deliver_subject":%q,"chunk_size":1024,"window_size":1024}`, inbox)); e != nil {
		t.Fatal(e)
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// …and a restore half sent.
	body, _ := json.Marshal(map[string]any{"config": json.RawMessage(`{"name":"HALF","subjects":["half"]}`)})
	r, err := nc.Request("$JS.API.STREAM.RESTORE.HALF", body, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		DeliverSubject string `json:"deliver_subject"`
	}
	if err := json.Unmarshal(r.Data, &resp); err != nil || resp.DeliverSubject == "" {
		t.Fatalf("%q %v", r.Data, err)
	}
	if _, err := nc.Request(resp.DeliverSubject, b.Archive[:len(b.Archive)/2], 5*time.Second); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := s.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "jetstream", ".restore")); len(entries) != 0 {
		t.Fatalf("staged restore left after shutdown: %v", entries)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// With jsck a snapshot of a stream holding a damaged message is refused;
// without it the damaged message is left out and the rest backed up.
func TestJetStreamBackupCheckMessages(t *testing.T) {
	dir := t.TempDir()
	s1 := startJSManual(t, dir)
	_, js := jsConnect(t, s1)
	mustStream(t, js, jetstream.StreamConfig{Name: "C", Subjects: []string{"c"}})
	for i := 1; i <= 10; i++ {
		if _, err := js.Publish(ctx(t), "c", fmt.Appendf(nil, "payload-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s1.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "jetstream", "$G", "streams", "C", "msgs", "*"))
	flipped := false
	for _, seg := range segs {
		if b, err := os.ReadFile(seg); err == nil {
			if i := bytes.Index(b, []byte("payload-05")); i >= 0 {
				b[i+8] ^= 0x01
				flipped = os.WriteFile(seg, b, 0o600) == nil
			}
		}
	}
	if !flipped {
		t.Fatal("message 5 not damaged")
	}

	s := startJS(t, dir)
	nc, js2 := jsConnect(t, s)
	if _, err := takeBackup(t, nc, "C", map[string]any{"jsck": true}); codeOf(err) != 10064 || !strings.Contains(err.Error(), "detected 1 bad messages") {
		t.Fatalf("checked snapshot: %v, want snapshot failed (10064)", err)
	}
	b, err := takeBackup(t, nc, "C", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := js2.DeleteStream(ctx(t), "C"); err != nil {
		t.Fatal(err)
	}
	info, err := restoreBackup(t, nc, "C", b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 9 || info.State.LastSeq != 10 || info.State.NumDeleted != 1 {
		t.Fatalf("restored %+v", info.State)
	}
}
