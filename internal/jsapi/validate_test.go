package jsapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCheckStreamConfigDefaults(t *testing.T) {
	cfg, err := CheckStreamConfig(StreamConfig{Name: "ORDERS"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxMsgs != -1 || cfg.MaxBytes != -1 || cfg.MaxMsgsPer != -1 || cfg.MaxMsgSize != -1 || cfg.MaxConsumers != -1 ||
		cfg.Replicas != 1 || cfg.Duplicates != 2*time.Minute || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "ORDERS" {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, _ = CheckStreamConfig(StreamConfig{Name: "A", MaxAge: time.Minute / 2}, Limits{})
	if cfg.Duplicates != 30*time.Second {
		t.Fatalf("duplicate window not capped by max age: %v", cfg.Duplicates)
	}
	cfg, _ = CheckStreamConfig(StreamConfig{Name: "K", SubjectDeleteMarkerTTL: time.Minute}, Limits{})
	if !cfg.AllowMsgTTL || !cfg.AllowRollup {
		t.Fatalf("delete markers need TTLs and rollups: %+v", cfg)
	}
}

func TestCheckStreamConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  StreamConfig
		code uint16
		desc string
	}{
		{StreamConfig{Name: "a.b"}, 10052, "stream name is required and can not contain '.', '*', '>', '\\', '/'"},
		{StreamConfig{Name: ""}, 10052, "stream name is required"},
		{StreamConfig{Name: "A", MaxAge: -1}, 10052, "max age can not be negative"},
		{StreamConfig{Name: "A", MaxAge: time.Millisecond}, 10052, "max age needs to be >= 100ms"},
		{StreamConfig{Name: "A", MaxAge: time.Second, Duplicates: time.Minute}, 10052, "duplicates window can not be larger then max age"},
		{StreamConfig{Name: "A", DenyPurge: true, AllowRollup: true}, 10052, "roll-ups require the purge permission"},
		{StreamConfig{Name: "A", DiscardNewPer: true}, 10052, "discard new per subject requires discard new policy to be set"},
		{StreamConfig{Name: "A", Subjects: []string{"a.>", "a.b"}}, 10052, `subject "a.b" overlaps with "a.>"`},
		{StreamConfig{Name: "A", Subjects: []string{"a..b"}}, 10052, "invalid subject"},
		{StreamConfig{Name: "A", Subjects: []string{">"}}, 10052, "capturing all subjects requires no-ack to be true"},
		{StreamConfig{Name: "A", Subjects: []string{"$JS.API.>"}}, 10052, "subjects that overlap with jetstream api require no-ack to be true"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, Subjects: []string{"x"}}, 10034, "stream mirrors can not contain subjects"},
		{StreamConfig{Name: "A", Replicas: 7}, 10052, "maximum replicas is 5"},
		{StreamConfig{Name: "A", SubjectDeleteMarkerTTL: time.Millisecond}, 10052, "subject delete marker TTL must be at least 1 second"},
		{StreamConfig{Name: "A", SubjectTransform: &SubjectTransformConfig{Source: "a.*", Destination: "b.$2"}}, 10156, "stream transform: "},
	}
	for _, tt := range tests {
		_, err := CheckStreamConfig(tt.cfg, Limits{})
		if err == nil || err.ErrCode != tt.code || !strings.HasPrefix(err.Description, tt.desc) {
			t.Errorf("%+v: got %v, want %d %q", tt.cfg, err, tt.code, tt.desc)
		}
	}
}

func TestCheckStreamUpdate(t *testing.T) {
	base, _ := CheckStreamConfig(StreamConfig{Name: "A", DenyDelete: true}, Limits{})
	tests := []struct {
		mutate func(*StreamConfig)
		desc   string
	}{
		{func(c *StreamConfig) { c.MaxMsgs = 5 }, ""},
		{func(c *StreamConfig) { c.Storage = MemoryStorage }, "stream configuration update can not change storage type"},
		{func(c *StreamConfig) { c.Retention = WorkQueuePolicy }, "stream configuration update can not change retention policy to/from workqueue"},
		{func(c *StreamConfig) { c.DenyDelete = false }, "stream configuration update can not cancel deny message deletes"},
		{func(c *StreamConfig) { c.Name = "B" }, "stream configuration name must match original"},
	}
	for _, tt := range tests {
		next := base
		tt.mutate(&next)
		err := CheckStreamUpdate(base, next)
		if (tt.desc == "" && err != nil) || (tt.desc != "" && (err == nil || err.Description != tt.desc)) {
			t.Errorf("got %v, want %q", err, tt.desc)
		}
	}
}

func TestCollide(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.*", "a.b", true}, {"a.>", "a.b.c", true}, {"a.>", "a", false},
		{"a.*", "a.b.c", false}, {"*.b", "a.*", true}, {">", "x", true}, {"a.b", "a.c", false}, {"a.*.c", "a.b.>", true},
	}
	for _, tt := range tests {
		if got := Collide(tt.a, tt.b); got != tt.want || Collide(tt.b, tt.a) != tt.want {
			t.Errorf("Collide(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzStreamConfig: any JSON either fails to decode or is checked without
// panicking, and a configuration that passes passes again unchanged.
func FuzzStreamConfig(f *testing.F) {
	f.Add([]byte(`{"name":"S","subjects":["a.>"],"max_age":1000000000}`))
	f.Add([]byte(`{"name":"M","mirror":{"name":"S"}}`))
	f.Add([]byte(`{"name":"T","subject_transform":{"src":"a.*","dest":"b.$1"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg StreamConfig
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		out, err := CheckStreamConfig(cfg, Limits{})
		if err != nil {
			return
		}
		again, err := CheckStreamConfig(out, Limits{})
		if err != nil {
			t.Fatalf("normalized config rejected: %v", err)
		}
		if CheckStreamUpdate(out, again) != nil {
			t.Fatal("normalized config differs from itself")
		}
	})
}
