package consumer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// TestNormalizeRefusals: each configuration nats-server refuses gets
// nats-server's error code and text (observed from nats-server 2.11.8).
func TestNormalizeRefusals(t *testing.T) {
	stream := jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"}}
	wq := jsapi.StreamConfig{Name: "W", Subjects: []string{"w.>"}, Retention: jsapi.WorkQueuePolicy}
	limited := jsapi.StreamConfig{Name: "L", ConsumerLimits: jsapi.StreamConsumerLimits{MaxAckPending: 10, InactiveThreshold: time.Minute}}
	tests := []struct {
		name   string
		stream jsapi.StreamConfig
		cfg    string // JSON
		code   uint16
		desc   string
	}{
		{"by start sequence without a sequence", stream, `{"deliver_policy":"by_start_sequence"}`,
			10094, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set"},
		{"by start sequence with a time", stream, `{"deliver_policy":"by_start_sequence","opt_start_seq":2,"opt_start_time":"2024-01-01T00:00:00Z"}`,
			10094, "consumer delivery policy is deliver by start sequence, but optional start time is also set"},
		{"by start time without a time", stream, `{"deliver_policy":"by_start_time"}`,
			10094, "consumer delivery policy is deliver by start time, but optional start time is not set"},
		{"by start time with a sequence", stream, `{"deliver_policy":"by_start_time","opt_start_time":"2024-01-01T00:00:00Z","opt_start_seq":3}`,
			10094, "consumer delivery policy is deliver by start time, but optional start start sequence is also set"},
		{"all with a sequence", stream, `{"deliver_policy":"all","opt_start_seq":3}`,
			10094, "consumer delivery policy is deliver all, but optional start sequence is also set"},
		{"all with a time", stream, `{"opt_start_time":"2024-01-01T00:00:00Z"}`,
			10094, "consumer delivery policy is deliver all, but optional start time is also set"},
		{"last with a sequence", stream, `{"deliver_policy":"last","opt_start_seq":3}`,
			10094, "consumer delivery policy is deliver last, but optional start sequence is also set"},
		{"new with a time", stream, `{"deliver_policy":"new","opt_start_time":"2024-01-01T00:00:00Z"}`,
			10094, "consumer delivery policy is deliver new, but optional start time is also set"},
		{"last per subject without a filter", stream, `{"deliver_policy":"last_per_subject"}`,
			10094, "consumer delivery policy is deliver last per subject, but optional filter subject is not set"},
		{"last per subject with a sequence", stream, `{"deliver_policy":"last_per_subject","filter_subject":"s.a","opt_start_seq":1}`,
			10094, "consumer delivery policy is deliver last per subject, but optional start sequence is also set"},
		{"push max ack pending without acks", stream, `{"deliver_subject":"d","max_ack_pending":5}`,
			10082, "consumer requires ack policy for max ack pending"},
		{"deliver subject inside the stream", stream, `{"deliver_subject":"s.x","ack_policy":"explicit"}`,
			10081, "consumer deliver subject forms a cycle"},
		{"deliver subject with a wildcard", stream, `{"deliver_subject":"d.*","ack_policy":"explicit"}`,
			10079, "consumer deliver subject has wildcards"},
		{"deliver subject invalid", stream, `{"deliver_subject":"d..x","ack_policy":"explicit"}`,
			10112, "invalid push consumer deliver subject"},
		{"negative max waiting", stream, `{"ack_policy":"explicit","max_waiting":-1}`,
			10087, "consumer max waiting needs to be positive"},
		{"negative max batch", stream, `{"ack_policy":"explicit","max_batch":-1}`,
			10114, "consumer max request batch needs to be \u003e 0"},
		{"max expires under 1ms", stream, `{"ack_policy":"explicit","max_expires":1000}`,
			10115, "consumer max request expires needs to be \u003e= 1ms"},
		{"direct pull", stream, `{"ack_policy":"explicit","direct":true}`,
			10090, "consumer direct requires a push based consumer"},
		{"negative replicas", stream, `{"ack_policy":"explicit","num_replicas":-1}`,
			10133, "replicas count cannot be negative"},
		{"negative ack wait", stream, `{"ack_policy":"explicit","ack_wait":-5}`,
			10183, "consumer ack wait needs to be positive"},
		{"invalid filter", stream, `{"ack_policy":"explicit","filter_subject":"s..a"}`,
			10052, "invalid subject"},
		{"overlapping filters", stream, `{"ack_policy":"explicit","filter_subjects":["s.a","s.*"]}`,
			10138, "consumer subject filters cannot overlap"},
		{"more backoff steps than deliveries", stream, `{"ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":1}`,
			10116, "max deliver is required to be \u003e length of backoff values"},
		{"pull without acks on a work queue", wq, `{"ack_policy":"none"}`,
			10084, "consumer in pull mode requires explicit ack policy on workqueue stream"},
		{"stream's max ack pending exceeded", limited, `{"ack_policy":"explicit","max_ack_pending":11}`,
			10121, "consumer max ack pending exceeds system limit of 10"},
		{"pedantic negative max_deliver", stream, `{"ack_policy":"explicit","max_deliver":-2}`,
			10157, "pedantic mode: max_deliver must be set to -1"},
		{"pedantic backoff", stream, `{"ack_policy":"explicit","ack_wait":5000000000,"backoff":[1000000000]}`,
			10157, "pedantic mode: first backoff value has to equal batch AckWait"},
		// Priority groups.
		{"policy without groups", stream, `{"ack_policy":"explicit","priority_policy":"pinned_client"}`,
			10159, "Setting PriorityPolicy requires at least one PriorityGroup to be set"},
		{"empty group", stream, `{"ack_policy":"explicit","priority_policy":"overflow","priority_groups":[""]}`,
			10161, "Group name cannot be an empty string"},
		{"bad group name", stream, `{"ack_policy":"explicit","priority_policy":"overflow","priority_groups":["a.b"]}`,
			10162, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"},
		{"group name too long", stream, `{"ack_policy":"explicit","priority_policy":"overflow","priority_groups":["abcdefghijklmnopq"]}`,
			10162, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"},
		{"push with groups", stream, `{"ack_policy":"explicit","deliver_subject":"d","priority_policy":"overflow","priority_groups":["A"]}`,
			10178, "priority groups can not be used with push consumers"},
		{"groups without a policy", stream, `{"ack_policy":"explicit","priority_groups":["A"]}`,
			10196, "consumer can not have priority groups when policy is none"},
		{"pin timeout without a policy", stream, `{"ack_policy":"explicit","priority_timeout":1000000000}`,
			10197, "PinnedTTL cannot be set when PriorityPolicy is none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg jsapi.ConsumerConfig
			if err := json.Unmarshal([]byte(tt.cfg), &cfg); err != nil {
				t.Fatal(err)
			}
			cfg.Durable = "C"
			_, e := Normalize(cfg, tt.stream, strings.HasPrefix(tt.name, "pedantic"))
			if e == nil {
				t.Fatalf("accepted %s", tt.cfg)
			}
			if e.ErrCode != tt.code || e.Description != tt.desc {
				t.Fatalf("got %d %q, want %d %q", e.ErrCode, e.Description, tt.code, tt.desc)
			}
		})
	}
}

// TestNormalizeDefaults: what nats-server fills in, and what it accepts
// that Starling once refused.
func TestNormalizeDefaults(t *testing.T) {
	stream := jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"},
		ConsumerLimits: jsapi.StreamConsumerLimits{MaxAckPending: 50, InactiveThreshold: time.Hour}}
	tests := []struct {
		name  string
		cfg   string
		check func(jsapi.ConsumerConfig) bool
	}{
		{"natscli's zero pause_until means not paused", `{"durable_name":"C","ack_policy":"explicit","pause_until":"0001-01-01T00:00:00Z"}`,
			func(c jsapi.ConsumerConfig) bool { return c.PauseUntil != nil && c.PauseUntil.IsZero() }},
		{"pause_until stored in UTC", `{"durable_name":"C","ack_policy":"explicit","pause_until":"2099-01-01T00:00:00+02:00"}`,
			func(c jsapi.ConsumerConfig) bool {
				return c.PauseUntil.Location() == time.UTC && c.PauseUntil.Equal(time.Date(2098, 12, 31, 22, 0, 0, 0, time.UTC))
			}},
		{"backoff sets the ack wait", `{"durable_name":"C","ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":2}`,
			func(c jsapi.ConsumerConfig) bool { return c.AckWait == time.Second && c.MaxDeliver == 2 }},
		{"stream consumer limits are defaults", `{"durable_name":"C","ack_policy":"explicit"}`,
			func(c jsapi.ConsumerConfig) bool { return c.MaxAckPending == 50 && c.InactiveThreshold == time.Hour }},
		{"pinned gets a pin timeout", `{"durable_name":"C","ack_policy":"explicit","priority_policy":"pinned_client","priority_groups":["A"]}`,
			func(c jsapi.ConsumerConfig) bool { return c.PinnedTTL == DefaultPinnedTTL }},
		{"one filter stays a list", `{"durable_name":"C","ack_policy":"explicit","filter_subjects":["s.a"]}`,
			func(c jsapi.ConsumerConfig) bool { return c.FilterSubject == "" && len(c.FilterSubjects) == 1 }},
		{"filters outside the stream are allowed", `{"durable_name":"C","ack_policy":"explicit","filter_subject":"x.a"}`,
			func(c jsapi.ConsumerConfig) bool { return c.FilterSubject == "x.a" }},
		{"ephemerals show their inactive threshold", `{"ack_policy":"explicit","deliver_subject":"d"}`,
			func(c jsapi.ConsumerConfig) bool { return len(c.Name) == 8 && c.InactiveThreshold == time.Hour }},
		{"negative limits mean no limit", `{"durable_name":"C","ack_policy":"explicit","max_deliver":-5,"max_ack_pending":-5,"max_bytes":-5,"max_expires":-5}`,
			func(c jsapi.ConsumerConfig) bool {
				return c.MaxDeliver == -1 && c.MaxAckPending == -1 && c.MaxRequestMaxBytes == 0 && c.MaxRequestExpires == 0
			}},
		{"an ephemeral with a negative inactive threshold still goes away", `{"ack_policy":"explicit","inactive_threshold":-5}`,
			func(c jsapi.ConsumerConfig) bool { return c.InactiveThreshold == time.Hour }},
		{"sample frequency above 100 samples everything", `{"durable_name":"C","ack_policy":"explicit","sample_freq":"150%"}`,
			func(c jsapi.ConsumerConfig) bool { return samplePercent(c.SampleFrequency) == 100 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg jsapi.ConsumerConfig
			if err := json.Unmarshal([]byte(tt.cfg), &cfg); err != nil {
				t.Fatal(err)
			}
			got, e := Normalize(cfg, stream, false)
			if e != nil {
				t.Fatalf("refused: %v", e)
			}
			if !tt.check(got) {
				t.Fatalf("normalized to %+v", got)
			}
		})
	}
	// Ephemerals without stream limits get nats-server's 5s.
	got, e := Normalize(jsapi.ConsumerConfig{AckPolicy: jsapi.AckExplicit}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil || got.InactiveThreshold != 5*time.Second {
		t.Fatalf("ephemeral: %+v %v", got, e)
	}
}

// TestCheckUpdate: what a live consumer may not change.
func TestCheckUpdate(t *testing.T) {
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts2 := ts.Add(time.Hour)
	pull := jsapi.ConsumerConfig{Durable: "C", AckPolicy: jsapi.AckExplicit, MaxWaiting: 512}
	push := jsapi.ConsumerConfig{Durable: "C", AckPolicy: jsapi.AckExplicit, DeliverSubject: "d", Heartbeat: time.Second}
	tests := []struct {
		name     string
		old, cfg jsapi.ConsumerConfig
		bound    bool
		want     string // "" for allowed
	}{
		{"description", pull, with(pull, func(c *jsapi.ConsumerConfig) { c.Description = "x" }), false, ""},
		{"start time", with(pull, func(c *jsapi.ConsumerConfig) { c.OptStartTime = &ts }),
			with(pull, func(c *jsapi.ConsumerConfig) { c.OptStartTime = &ts2 }), false, "start time can not be updated"},
		{"start time removed", with(pull, func(c *jsapi.ConsumerConfig) { c.OptStartTime = &ts }), pull, false, "start time can not be updated"},
		{"max waiting", pull, with(pull, func(c *jsapi.ConsumerConfig) { c.MaxWaiting = 10 }), false, "max waiting can not be updated"},
		{"heartbeat", push, with(push, func(c *jsapi.ConsumerConfig) { c.Heartbeat = 2 * time.Second }), false, "heart beats can not be updated"},
		{"flow control", push, with(push, func(c *jsapi.ConsumerConfig) { c.FlowControl = true }), false, "flow control can not be updated"},
		{"pull to push", pull, with(pull, func(c *jsapi.ConsumerConfig) { c.DeliverSubject = "d" }), false, "can not update pull consumer to push based"},
		{"push to pull", push, with(push, func(c *jsapi.ConsumerConfig) { c.DeliverSubject = "" }), false, "can not update push consumer to pull based"},
		{"bound push moves", push, with(push, func(c *jsapi.ConsumerConfig) { c.DeliverSubject = "e" }), true, "consumer name already in use"},
		{"unbound push moves", push, with(push, func(c *jsapi.ConsumerConfig) { c.DeliverSubject = "e" }), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := CheckUpdate(tt.old, tt.cfg, tt.bound)
			got := ""
			if e != nil {
				got = e.Description
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func with(c jsapi.ConsumerConfig, f func(*jsapi.ConsumerConfig)) jsapi.ConsumerConfig {
	f(&c)
	return c
}
