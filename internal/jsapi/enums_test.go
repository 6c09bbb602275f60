package jsapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// enumCase is one enum's values and their JSON names, in order.
type enumCase struct {
	kind  string
	names []string
	value func(i int) any // the i-th value
	ptr   func() any      // a fresh pointer to decode into
}

var enumCases = []enumCase{
	{"retention", []string{"limits", "interest", "workqueue"},
		func(i int) any { return RetentionPolicy(i) }, func() any { return new(RetentionPolicy) }},
	{"discard", []string{"old", "new"},
		func(i int) any { return DiscardPolicy(i) }, func() any { return new(DiscardPolicy) }},
	{"storage", []string{"file", "memory"},
		func(i int) any { return StorageType(i) }, func() any { return new(StorageType) }},
	{"compression", []string{"none", "s2"},
		func(i int) any { return Compression(i) }, func() any { return new(Compression) }},
	{"persist", []string{"default", "async"},
		func(i int) any { return PersistModeType(i) }, func() any { return new(PersistModeType) }},
	{"deliver", []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"},
		func(i int) any { return DeliverPolicy(i) }, func() any { return new(DeliverPolicy) }},
	{"ack", []string{"none", "all", "explicit"},
		func(i int) any { return AckPolicy(i) }, func() any { return new(AckPolicy) }},
	{"replay", []string{"instant", "original"},
		func(i int) any { return ReplayPolicy(i) }, func() any { return new(ReplayPolicy) }},
	{"priority", []string{"none", "overflow", "pinned_client"},
		func(i int) any { return PriorityPolicy(i) }, func() any { return new(PriorityPolicy) }},
}

func TestEnumsRoundTrip(t *testing.T) {
	for _, c := range enumCases {
		for i, n := range c.names {
			b, err := json.Marshal(c.value(i))
			if err != nil || string(b) != `"`+n+`"` {
				t.Errorf("%s %d: marshal %s %v", c.kind, i, b, err)
			}
			p := c.ptr()
			if err := json.Unmarshal(b, p); err != nil {
				t.Errorf("%s %s: %v", c.kind, b, err)
			}
			if got, _ := json.Marshal(p); string(got) != string(b) {
				t.Errorf("%s %s: decoded as %s", c.kind, b, got)
			}
		}
		if _, err := json.Marshal(c.value(len(c.names))); err == nil {
			t.Errorf("%s: marshalled an out of range value", c.kind)
		}
		for _, bad := range []string{`"bogus"`, `1`, `null`, `"` + strings.ToUpper(c.names[1]) + `"`} {
			if c.kind == "discard" && strings.ToLower(bad) != bad {
				continue // discard ignores case, below
			}
			if err := json.Unmarshal([]byte(bad), c.ptr()); err == nil && bad != "null" {
				t.Errorf("%s: accepted %s", c.kind, bad)
			}
		}
	}
}

func TestEnumQuirks(t *testing.T) {
	var d DiscardPolicy
	if err := json.Unmarshal([]byte(`"New"`), &d); err != nil || d != DiscardNew {
		t.Errorf("discard policy ignores case: %v %v", d, err)
	}
	var c Compression
	if err := json.Unmarshal([]byte(`""`), &c); err == nil {
		t.Error(`compression "" accepted; nats-server refuses it`)
	}
	m := AsyncPersistMode
	if err := json.Unmarshal([]byte(`""`), &m); err != nil || m != DefaultPersistMode {
		t.Errorf(`persist mode "": %v %v`, m, err)
	}
	var p DeliverPolicy = DeliverNew
	if err := json.Unmarshal([]byte(`"undefined"`), &p); err != nil || p != DeliverAll {
		t.Errorf(`deliver policy "undefined": %v %v`, p, err)
	}
	err := json.Unmarshal([]byte(`"tape"`), new(StorageType))
	if err == nil || !strings.Contains(err.Error(), `"tape"`) || !strings.Contains(err.Error(), "file, memory") {
		t.Errorf("unclear error: %v", err)
	}
	s := MemoryStorage
	if json.Unmarshal([]byte(`"tape"`), &s); s != MemoryStorage {
		t.Error("a refused value changed the enum")
	}
}

func TestConsumerAction(t *testing.T) {
	for a, want := range map[ConsumerAction]string{ActionCreateOrUpdate: `""`, ActionCreate: `"create"`, ActionUpdate: `"update"`} {
		b, err := json.Marshal(a)
		var back ConsumerAction = 7
		if err != nil || string(b) != want || json.Unmarshal(b, &back) != nil || back != a {
			t.Errorf("%d: %s %v %d", a, b, err, back)
		}
	}
	if json.Unmarshal([]byte(`"delete"`), new(ConsumerAction)) == nil {
		t.Error("unknown action accepted")
	}
}

func TestStreamConfigDefaultsJSON(t *testing.T) {
	var c StreamConfig
	err := json.Unmarshal([]byte(`{"name":"A","retention":"workqueue","discard":"new","storage":"memory","compression":"s2"}`), &c)
	if err != nil || c.Retention != WorkQueuePolicy || c.Discard != DiscardNew || c.Storage != MemoryStorage || c.Compression != S2Compression {
		t.Fatalf("%+v %v", c, err)
	}
	if err := json.Unmarshal([]byte(`{"storage":"tape"}`), &c); err == nil {
		t.Fatal("unknown storage accepted")
	}
	b, _ := json.Marshal(StreamConfig{Name: "A"})
	for _, want := range []string{`"retention":"limits"`, `"discard":"old"`, `"storage":"file"`, `"compression":"none"`,
		`"sealed":false`, `"allow_direct":false`, `"consumer_limits":{}`, `"allow_msg_ttl":false`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "persist_mode") {
		t.Errorf("default persist mode sent: %s", b)
	}
}

func TestConsumerPriority(t *testing.T) {
	var c ConsumerConfig
	if err := json.Unmarshal([]byte(`{"priority_policy":"pinned_client","priority_timeout":1000}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.PriorityPolicy != PriorityPinnedClient || c.PinnedTTL != 1000 {
		t.Errorf("pinned: %v %v", c.PriorityPolicy, c.PinnedTTL)
	}
	// none is the zero value and is left out, as nats-server leaves it.
	c = ConsumerConfig{}
	if b, _ := json.Marshal(c); strings.Contains(string(b), "priority") {
		t.Errorf("none sent: %s", b)
	}
	// 2.12's policy is unknown to 2.11: refused with 2.11's words.
	err := json.Unmarshal([]byte(`{"priority_policy":"prioritized"}`), &c)
	if err == nil || err.Error() != `unknown priority policy: "prioritized"` {
		t.Errorf("prioritized: %v", err)
	}
}

func TestSubjectFor(t *testing.T) {
	tests := []struct{ got, want string }{
		{SubjectFor(SubjStreamInfo, "S"), "$JS.API.STREAM.INFO.S"},
		{SubjectFor(SubjConsumerInfo, "S", "C"), "$JS.API.CONSUMER.INFO.S.C"},
		{SubjectFor(SubjConsumerCreate, "S.C.orders.>"), "$JS.API.CONSUMER.CREATE.S.C.orders.>"},
		{SubjectFor(SubjStreamNames), SubjStreamNames},
		{DirectGetLastSubject("KV_x", "$KV.x.k"), "$JS.API.DIRECT.GET.KV_x.$KV.x.k"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
