package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// consumerCheck is one consumer create request and nats-server 2.11's
// answer to it (err_code 0: created).
type consumerCheck struct {
	name    string
	subject string // after $JS.API.CONSUMER.
	body    string
	code    int
	desc    string
	// since211 is where Starling follows current nats-server rather than
	// 2.11 (checked against Starling only).
	since211 bool
}

// consumerChecks covers every consumer option nats-server checks, each
// faulty on its own, against streams V (limits, subjects v.>) and W (work
// queue, subjects w.>).
var consumerChecks = []consumerCheck{
	{"deliver subject captured by the stream", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"v.out"}}`, 10081, "consumer deliver subject forms a cycle", false},
	{"deliver subject captured by a wildcard", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"v.a.b.c"}}`, 10081, "consumer deliver subject forms a cycle", false},
	{"deliver subject with wildcard", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out.*"}}`, 10079, "consumer deliver subject has wildcards", false},
	{"deliver subject invalid", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out..x"}}`, 10112, "invalid push consumer deliver subject", false},
	{"negative backoff", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","ack_policy":"explicit","backoff":[1000000000,-1000000000],"max_deliver":5}}`, 10184, "consumer backoff needs to be positive", true},
	{"backoff longer than max deliver", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","ack_policy":"explicit","backoff":[1000000000,2000000000,3000000000],"max_deliver":2}}`, 10116, "max deliver is required to be > length of backoff values", false},
	{"negative ack wait", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","ack_policy":"explicit","ack_wait":-1}}`, 10183, "consumer ack wait needs to be positive", true},
	{"description too long", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","description":"` + strings.Repeat("d", 4097) + `"}}`, 10107, "consumer description is too long, maximum allowed is 4096", false},
	{"replicas above the stream's", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","num_replicas":3}}`, 10074, "replicas > 1 not supported in non-clustered mode", false},
	{"negative replicas", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","num_replicas":-1}}`, 10133, "replicas count cannot be negative", false},
	{"push with max waiting", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out","max_waiting":5}}`, 10080, "consumer in push mode can not set max waiting", false},
	{"push ack none with max ack pending", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out","ack_policy":"none","max_ack_pending":5}}`, 10082, "consumer requires ack policy for max ack pending", false},
	{"push heartbeat too small", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out","idle_heartbeat":50000000}}`, 10083, "consumer idle heartbeat needs to be >= 100ms", false},
	{"flow control without heartbeat", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out","flow_control":true}}`, 10108, "consumer with flow control also needs heartbeats", false},
	{"pull rate limit", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","rate_limit_bps":1000}}`, 10086, "consumer in pull mode can not have rate limit set", false},
	{"pull negative max waiting", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","max_waiting":-1}}`, 10087, "consumer max waiting needs to be positive", false},
	{"pull heartbeat", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","idle_heartbeat":1000000000}}`, 10088, "consumer idle heartbeat requires a push based consumer", false},
	{"pull flow control", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","flow_control":true}}`, 10089, "consumer flow control requires a push based consumer", false},
	{"pull negative max batch", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","max_batch":-1}}`, 10114, "consumer max request batch needs to be > 0", false},
	{"pull max expires below 1ms", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","max_expires":1000}}`, 10115, "consumer max request expires needs to be >= 1ms", false},
	{"pull ack none on work queue", "CREATE.W.c1", `{"stream_name":"W","config":{"name":"c1","ack_policy":"none"}}`, 10084, "consumer in pull mode requires explicit ack policy on workqueue stream", false},
	{"direct pull", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","direct":true}}`, 10090, "consumer direct requires a push based consumer", false},
	{"filter and filters", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","filter_subject":"v.a","filter_subjects":["v.b"]}}`, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified", false},
	{"invalid filter", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","filter_subject":"v..a"}}`, 10052, "invalid subject", false},
	{"empty filter", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","filter_subjects":["v.a",""]}}`, 10139, "consumer filter in FilterSubjects cannot be empty", false},
	{"overlapping filters", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","filter_subjects":["v.a","v.*"]}}`, 10138, "consumer subject filters cannot overlap", false},
	{"deliver all with start seq", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_policy":"all","opt_start_seq":5}}`, 10094, "consumer delivery policy is deliver all, but optional start sequence is also set", false},
	{"by start sequence without one", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_policy":"by_start_sequence"}}`, 10094, "consumer delivery policy is deliver by start sequence, but optional start sequence is not set", false},
	{"by start time without one", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_policy":"by_start_time"}}`, 10094, "consumer delivery policy is deliver by start time, but optional start time is not set", false},
	{"last per subject without filter", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_policy":"last_per_subject"}}`, 10094, "consumer delivery policy is deliver last per subject, but optional filter subject is not set", false},
	{"bad sample frequency", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","ack_policy":"explicit","sample_freq":"lots"}}`, 10095, `failed to parse consumer sampling configuration: strconv.Atoi: parsing "lots": invalid syntax`, false},
	{"metadata too large", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","metadata":{"k":"` + strings.Repeat("m", 128*1024) + `"}}}`, 10135, "consumer metadata exceeds maximum size of 128KB", false},
	{"work queue without explicit ack", "CREATE.W.c1", `{"stream_name":"W","config":{"name":"c1","deliver_subject":"out","ack_policy":"all"}}`, 10098, "workqueue stream requires explicit ack", false},
	{"work queue not deliver all", "CREATE.W.c1", `{"stream_name":"W","config":{"name":"c1","ack_policy":"explicit","deliver_policy":"new"}}`, 10101, "consumer must be deliver all on workqueue stream", false},
	{"priority groups without policy", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","priority_groups":["g"]}}`, 10196, "consumer can not have priority groups when policy is none", true},
	{"priority policy without groups", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","priority_policy":"overflow"}}`, 10159, "Setting PriorityPolicy requires at least one PriorityGroup to be set", false},
	{"invalid priority group", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","priority_policy":"overflow","priority_groups":["a b"]}}`, 10162, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters", false},
	{"name and durable differ", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","durable_name":"c2"}}`, 10017, "consumer name in subject does not match durable name in request", false},
	// 2.11 fails to create the consumer's directory for these ("error
	// creating store for consumer", 10012).
	{"name too long", "CREATE.V." + strings.Repeat("n", 256), `{"stream_name":"V","config":{"name":"` + strings.Repeat("n", 256) + `"}}`, 10102, "consumer name is too long, maximum allowed is 255", true},
	{"durable too long", "DURABLE.CREATE.V." + strings.Repeat("n", 256), `{"stream_name":"V","config":{"durable_name":"` + strings.Repeat("n", 256) + `"}}`, 10102, "consumer name is too long, maximum allowed is 255", true},
	{"name in subject with path separator", `CREATE.V.a\b`, `{"stream_name":"V","config":{"name":"a\\b"}}`, 10127, "Consumer name can not contain path separators", false},
	// 2.11 creates this one; current nats-server refuses it.
	{"name with path separator", `CREATE.V`, `{"stream_name":"V","config":{"name":"a/b"}}`, 10127, "Consumer name can not contain path separators", true},
	{"name with newline", `CREATE.V`, `{"stream_name":"V","config":{"name":"a\nb"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"name with space", `CREATE.V`, `{"stream_name":"V","config":{"name":"a b"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"name with tab", `CREATE.V`, `{"stream_name":"V","config":{"name":"a\tb"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"name with dot", `CREATE.V`, `{"stream_name":"V","config":{"name":"a.b"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"name with star", `CREATE.V`, `{"stream_name":"V","config":{"name":"a*"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"name with gt", `CREATE.V`, `{"stream_name":"V","config":{"name":"a>"}}`, 10103, "durable name can not contain '.', '*', '>'", false},
	{"durable with newline", `DURABLE.CREATE.V.a`, `{"stream_name":"V","config":{"durable_name":"a\nb"}}`, 10017, "consumer name in subject does not match durable name in request", false},
	{"durable on the ephemeral API", `CREATE.V`, `{"stream_name":"V","config":{"durable_name":"d"}}`, 10020, "consumer expected to be ephemeral but a durable name was set in request", false},
	{"durable API without durable", `DURABLE.CREATE.V.d`, `{"stream_name":"V","config":{}}`, 10018, "consumer expected to be durable but a durable name was not set", false},
	{"negative sample frequency", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","ack_policy":"explicit","sample_freq":"-5%"}}`, 10095, "failed to parse consumer sampling configuration: <nil>", false},
	{"durable with slash", `DURABLE.CREATE.V.a/b`, `{"stream_name":"V","config":{"durable_name":"a/b"}}`, 10127, "Consumer name can not contain path separators", false},
	{"stream mismatch", "CREATE.V.c1", `{"stream_name":"W","config":{"name":"c1"}}`, 10056, "stream name in subject does not match request", false},
	{"max ack pending above the stream's limit", "CREATE.L.c1", `{"stream_name":"L","config":{"name":"c1","ack_policy":"explicit","max_ack_pending":20}}`, 10121, "consumer max ack pending exceeds system limit of 10", false},
	{"inactive threshold above the stream's limit", "CREATE.L.c1", `{"stream_name":"L","config":{"name":"c1","inactive_threshold":10000000000}}`, 10153, "consumer inactive threshold exceeds system limit of 5s", false},
	{"push with priority groups", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","deliver_subject":"out","priority_policy":"overflow","priority_groups":["g"]}}`, 10178, "priority groups can not be used with push consumers", false},
	{"direct durable", "DURABLE.CREATE.V.dd", `{"stream_name":"V","config":{"durable_name":"dd","deliver_subject":"out","direct":true}}`, 10091, "consumer direct requires an ephemeral consumer", false},
	{"pinned ttl without policy", "CREATE.V.c1", `{"stream_name":"V","config":{"name":"c1","priority_timeout":1000000000}}`, 10197, "PinnedTTL cannot be set when PriorityPolicy is none", true},
	// The subject's name wins over the configuration's.
	{"name in subject differs from config", "CREATE.V.c9", `{"stream_name":"V","config":{"name":"other"}}`, 0, "", false},
	{"valid pull", "CREATE.V.ok1", `{"stream_name":"V","config":{"name":"ok1","ack_policy":"explicit"}}`, 0, "", false},
	{"valid push", "CREATE.V.ok2", `{"stream_name":"V","config":{"name":"ok2","deliver_subject":"out.ok2"}}`, 0, "", false},
}

func TestJetStreamConsumerValidation(t *testing.T) {
	s := startJS(t, "")
	nc, _ := jsConnect(t, s)
	runConsumerChecks(t, nc, false)
}

// TestJetStreamConsumerValidationReference runs the same table against
// nats-server 2.11 ($STARLING_REF_NATS_SERVER, or a nats-server 2.11 on
// the PATH), so the expected answers are nats-server's.
func TestJetStreamConsumerValidationReference(t *testing.T) {
	bin := refNatsServer211(t)
	nc, _ := connectURL(t, startNatsServer(t, bin))
	runConsumerChecks(t, nc, true)
}

func runConsumerChecks(t *testing.T, nc *nats.Conn, reference bool) {
	for _, stream := range []string{
		`{"name":"V","subjects":["v.>"]}`,
		`{"name":"W","subjects":["w.>"],"retention":"workqueue"}`,
		`{"name":"L","subjects":["l.>"],"consumer_limits":{"max_ack_pending":10,"inactive_threshold":5000000000}}`,
	} {
		var cfg struct{ Name string }
		_ = json.Unmarshal([]byte(stream), &cfg)
		if e := rawRequest(t, nc, "$JS.API.STREAM.CREATE."+cfg.Name, stream); e != nil {
			t.Fatalf("stream %s: %+v", cfg.Name, e)
		}
	}
	for _, tc := range consumerChecks {
		if reference && tc.since211 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			e := rawRequest(t, nc, "$JS.API.CONSUMER."+tc.subject, tc.body)
			switch {
			case tc.code == 0 && e != nil:
				t.Fatalf("refused: %+v", e)
			case tc.code == 0:
			case e == nil:
				t.Fatalf("accepted, want %d %q", tc.code, tc.desc)
			case e.ErrCode != tc.code || e.Description != tc.desc || e.Code != statusOf(tc.code):
				t.Fatalf("got %d %d %q, want %d %d %q", e.Code, e.ErrCode, e.Description, statusOf(tc.code), tc.code, tc.desc)
			}
		})
	}
}

// statusOf is the status nats-server gives with an error code: 400 but
// for these.
func statusOf(code int) int {
	switch code {
	case 10074, 10052, 10012, 10049:
		return 500
	}
	return 400
}

// refNatsServer211 finds a nats-server 2.11 to compare with, or skips.
func refNatsServer211(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("STARLING_REF_NATS_SERVER")
	if bin == "" {
		p, err := exec.LookPath("nats-server")
		if err != nil {
			t.Skip("no nats-server 2.11 (set STARLING_REF_NATS_SERVER)")
		}
		bin = p
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "v2.11.") {
		t.Skipf("%s is not nats-server 2.11 (%q, %v)", bin, strings.TrimSpace(string(out)), err)
	}
	return bin
}

// TestJetStreamPullMissingConsumer: a pull request for a consumer or a
// stream that does not exist reaches nobody, as in nats-server (each
// consumer subscribes its own subject): a client that asked for it gets
// the no-responders status at once, byte for byte; one that did not gets
// nothing.
func TestJetStreamPullMissingConsumer(t *testing.T) {
	s := startJS(t, "")
	_, js := rawJS(t, s)
	mustStream(t, js, jetstream.StreamConfig{Name: "PM", Subjects: []string{"pm.>"}})
	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\nSUB _INBOX.raw 1\r\n")
	for _, target := range []string{"PM.NOPE", "NOSTREAM.NOPE"} {
		stream, cons, _ := strings.Cut(target, ".")
		rc.pull(stream, cons, `{"batch":1}`)
		rc.pull(stream, cons, "")
		rc.send("PING\r\n")
		rc.expectStatus("NATS/1.0 503\r\n\r\n")
		rc.expectStatus("NATS/1.0 503\r\n\r\n")
		rc.expect("PONG\r\n")
	}
	plain := dialRaw(t, s)
	plain.send("CONNECT {\"verbose\":false,\"headers\":true,\"protocol\":1}\r\nSUB _INBOX.raw 1\r\n")
	plain.pull("PM", "NOPE", "")
	plain.send("PING\r\n")
	plain.expect("PONG\r\n")
}

// TestJetStreamMaxConsumers: a stream's max_consumers counts durable and
// ephemeral consumers alike, and the create past it gets nats-server's
// answer, byte for byte; deleting one makes room again.
func TestJetStreamMaxConsumers(t *testing.T) {
	s := startJS(t, "")
	nc, _ := jsConnect(t, s)
	checkMaxConsumers(t, nc)
}

func TestJetStreamMaxConsumersReference(t *testing.T) {
	bin := refNatsServer211(t)
	nc, _ := connectURL(t, startNatsServer(t, bin))
	checkMaxConsumers(t, nc)
}

func checkMaxConsumers(t *testing.T, nc *nats.Conn) {
	t.Helper()
	if e := rawRequest(t, nc, "$JS.API.STREAM.CREATE.MC", `{"name":"MC","subjects":["mc.>"],"max_consumers":2}`); e != nil {
		t.Fatal(e)
	}
	create := func(name string) string {
		t.Helper()
		r, err := nc.Request("$JS.API.CONSUMER.CREATE.MC."+name, []byte(`{"stream_name":"MC","config":{"name":"`+name+`"}}`), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	durable := `{"stream_name":"MC","config":{"durable_name":"d1"}}`
	if e := rawRequest(t, nc, "$JS.API.CONSUMER.CREATE.MC.d1", durable); e != nil {
		t.Fatal(e)
	}
	if body := create("e1"); strings.Contains(body, `"error"`) {
		t.Fatal(body)
	}
	const refused = `{"type":"io.nats.jetstream.api.v1.consumer_create_response","error":{"code":400,"err_code":10026,"description":"maximum consumers limit reached"}}`
	if body := create("e2"); body != refused {
		t.Fatalf("third consumer: %s", body)
	}
	// Creating an existing consumer again is not a new one.
	if e := rawRequest(t, nc, "$JS.API.CONSUMER.CREATE.MC.d1", durable); e != nil {
		t.Fatalf("create of an existing consumer: %+v", e)
	}
	if e := rawRequest(t, nc, "$JS.API.CONSUMER.DELETE.MC.e1", ""); e != nil {
		t.Fatal(e)
	}
	if body := create("e2"); strings.Contains(body, `"error"`) {
		t.Fatalf("after a delete: %s", body)
	}
}
