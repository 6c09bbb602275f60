package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamAssetVersioning: stream and consumer configurations store
// the API level they need (_nats.req.level) and replies add the server's
// version and level (_nats.ver, _nats.level), as nats-server 2.11; a
// configuration sent back from a reply is accepted as the same one.
func TestJetStreamAssetVersioning(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	want := func(what string, meta map[string]string, level string) {
		t.Helper()
		if meta["_nats.req.level"] != level || meta["_nats.ver"] != nc.ConnectedServerVersion() || meta["_nats.level"] != "1" || meta["owner"] != "team" {
			t.Fatalf("%s metadata %v, want required level %s, version %s, level 1, owner kept", what, meta, level, nc.ConnectedServerVersion())
		}
	}
	st := mustStream(t, js, jetstream.StreamConfig{Name: "V", Subjects: []string{"v.>"}, Metadata: map[string]string{"owner": "team"}})
	info, err := st.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	want("stream", info.Config.Metadata, "0")

	// Create again with the configuration a reply gave: the same stream.
	again, err := js.CreateStream(c, info.Config)
	if err != nil {
		t.Fatalf("create with the reply's configuration: %v", err)
	}
	want("stream created again", again.CachedInfo().Config.Metadata, "0")

	// Per-message TTLs need level 1.
	cfg := info.Config
	cfg.AllowMsgTTL = true
	upd, err := js.UpdateStream(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want("stream with TTLs", upd.CachedInfo().Config.Metadata, "1")

	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "d", Metadata: map[string]string{"owner": "team"}})
	if err != nil {
		t.Fatal(err)
	}
	want("consumer", cons.CachedInfo().Config.Metadata, "0")
	if _, err := st.CreateConsumer(c, cons.CachedInfo().Config); err != nil {
		t.Fatalf("consumer create with the reply's configuration: %v", err)
	}
	until := time.Now().Add(time.Hour)
	if _, err := js.PauseConsumer(c, "V", "d", until); err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	want("paused consumer", ci.Config.Metadata, "1")
	if _, err := js.ResumeConsumer(c, "V", "d"); err != nil {
		t.Fatal(err)
	}
	ci, err = cons.Info(c)
	if err != nil {
		t.Fatal(err)
	}
	want("resumed consumer", ci.Config.Metadata, "0")
}

// TestJetStreamLaterLevelsDropped: settings of API levels above the one
// advertised are dropped, as a 2.11 server that does not know them drops
// them, and the reply's configuration shows them off — how clients tell a
// feature is missing (natscli's benchmarks always ask for batches).
func TestJetStreamLaterLevelsDropped(t *testing.T) {
	s := startJS(t, "")
	nc, _ := jsConnect(t, s)
	for i, field := range []string{
		`"allow_msg_counter":true`,
		`"allow_atomic":true`,
		`"allow_msg_schedules":true`,
		`"persist_mode":"async"`,
		`"allow_batched":true`,
	} {
		name := fmt.Sprintf("L%d", i)
		body := fmt.Sprintf(`{"name":%q,"subjects":[%q],"storage":"file",%s}`, name, strings.ToLower(name), field)
		resp, err := nc.Request("$JS.API.STREAM.CREATE."+name, []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Error  json.RawMessage            `json:"error"`
			Config map[string]json.RawMessage `json:"config"`
		}
		if err := json.Unmarshal(resp.Data, &r); err != nil || r.Error != nil || r.Config == nil {
			t.Fatalf("%s: %s", field, resp.Data)
		}
		key := strings.Trim(strings.SplitN(field, ":", 2)[0], `"`)
		if v, ok := r.Config[key]; ok {
			t.Errorf("%s: the reply's configuration has %s: %s", field, key, v)
		}
	}
}
