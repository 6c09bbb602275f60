package test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// streamCheck is one stream request and nats-server 2.11's answer to it
// (err_code 0: accepted). The steps run in order on one server, so a
// step can name streams the steps before it made.
type streamCheck struct {
	name    string
	subject string // after $JS.API.STREAM.
	body    string
	code    int
	desc    string
	// reply, for an accepted request, is what the reply's configuration
	// must hold (JSON fields compared one by one).
	reply string
	// since211 is where Starling follows current nats-server rather than
	// 2.11; code211 and desc211 are then 2.11's answer, which the
	// reference run expects instead.
	since211 bool
	code211  int
	desc211  string
}

// streamChecks covers the rules that depend on the request handler or on
// the account's other streams: the create handler's own checks, the
// filters of mirrors and sources, the origins' limits, cycles through
// mirrors and sources, and pedantic mode.
var streamChecks = []streamCheck{
	// The origin the mirrors and sources below copy from.
	{name: "origin", subject: "CREATE.O", body: `{"name":"O","subjects":["o.>"],"max_msg_size":1024,"allow_direct":true}`},

	// The create handler's own checks, before the configuration's.
	{name: "mirror direct without a mirror", subject: "CREATE.MD", body: `{"name":"MD","subjects":["md"],"mirror_direct":true}`,
		code: 10052, desc: "stream has no mirror but does have mirror direct"},
	{name: "sealed on create", subject: "CREATE.SE", body: `{"name":"SE","subjects":["se"],"sealed":true}`,
		code: 10052, desc: "stream configuration for create can not be sealed"},
	{name: "name in subject differs", subject: "CREATE.X1", body: `{"name":"X2"}`,
		code: 10056, desc: "stream name in subject does not match request"},
	{name: "path separator in name", subject: `CREATE.a\b`, body: `{"name":"a\\b"}`,
		code: 10128, desc: "Stream name can not contain path separators"},
	{name: "sealed before mirror direct", subject: "CREATE.SE", body: `{"name":"SE","sealed":true,"mirror_direct":true}`,
		code: 10052, desc: "stream configuration for create can not be sealed"},
	{name: "create checks before the configuration's", subject: "CREATE.MD", body: `{"name":"MD","max_age":-1,"mirror_direct":true}`,
		code: 10052, desc: "stream has no mirror but does have mirror direct"},

	// Filters of mirrors and sources, checked when the stream is added.
	{name: "invalid mirror filter", subject: "CREATE.MF", body: `{"name":"MF","mirror":{"name":"O","filter_subject":"o..x"}}`,
		code: 10049, desc: "subject filter 'o..x' for the mirror invalid subject"},
	{name: "invalid source filter", subject: "CREATE.SF", body: `{"name":"SF","sources":[{"name":"O","filter_subject":"o..x"}]}`,
		code: 10049, desc: "subject filter 'o..x' for the source: invalid subject"},
	{name: "invalid filter of a second source", subject: "CREATE.SF", body: `{"name":"SF","sources":[{"name":"O"},{"name":"P","filter_subject":"p.>.x"}]}`,
		code: 10049, desc: "subject filter 'p.>.x' for the source: invalid subject"},
	{name: "wildcard inside a filter token", subject: "CREATE.SW", body: `{"name":"SW","sources":[{"name":"O","filter_subject":"o.*x"}]}`},
	{name: "filters before subject overlap", subject: "CREATE.SO", body: `{"name":"SO","subjects":["o.a"],"sources":[{"name":"O","filter_subject":"o..x"}]}`,
		code: 10049, desc: "subject filter 'o..x' for the source: invalid subject"},
	{name: "name in use before filters", subject: "CREATE.O", body: `{"name":"O","subjects":["o.>"],"sources":[{"name":"P","filter_subject":"o..x"}]}`,
		code: 10058, desc: "stream name already in use with a different configuration"},
	{name: "replicas before filters", subject: "CREATE.SR", body: `{"name":"SR","num_replicas":3,"sources":[{"name":"O","filter_subject":"o..x"}]}`,
		code: 10074, desc: "replicas > 1 not supported in non-clustered mode"},
	{name: "configuration before replicas", subject: "CREATE.SR", body: `{"name":"SR","num_replicas":3,"subjects":["sr"],"max_age":1}`,
		code: 10052, desc: "max age needs to be >= 100ms"},
	// An update does not check them, nor does a restore request.
	{name: "source to update", subject: "CREATE.SV", body: `{"name":"SV","sources":[{"name":"O"}]}`},
	{name: "update with an invalid source filter", subject: "UPDATE.SV", body: `{"name":"SV","sources":[{"name":"O","filter_subject":"o..x"}]}`},

	// Limits of known origins.
	{name: "mirror smaller messages than its origin", subject: "CREATE.MS", body: `{"name":"MS","mirror":{"name":"O"},"max_msg_size":512}`,
		code: 10030, desc: "stream mirror must have max message size >= source"},
	{name: "source smaller messages than its origin", subject: "CREATE.SS", body: `{"name":"SS","sources":[{"name":"O"}],"max_msg_size":512}`,
		code: 10046, desc: "stream source must have max message size >= target"},
	{name: "source of an unknown origin", subject: "CREATE.SU", body: `{"name":"SU","sources":[{"name":"NOPE"}],"max_msg_size":512}`},
	{name: "mirror inherits direct get", subject: "CREATE.MI", body: `{"name":"MI","mirror":{"name":"O"}}`,
		reply: `{"mirror_direct":true}`},
	{name: "origin without direct get", subject: "CREATE.N", body: `{"name":"N","subjects":["n.>"]}`},
	{name: "mirror direct dropped for an origin without direct get", subject: "CREATE.MN", body: `{"name":"MN","mirror":{"name":"N"},"mirror_direct":true}`,
		reply: `{"mirror_direct":false}`},
	{name: "pedantic mirror without direct get", subject: "CREATE.MP", body: `{"name":"MP","mirror":{"name":"O"},"pedantic":true}`,
		code: 10157, desc: "pedantic mode: origin stream has direct get set, mirror has it disabled"},

	// Cycles through sources and mirrors.
	{name: "source of a stream yet to come", subject: "CREATE.C1", body: `{"name":"C1","sources":[{"name":"C2"}]}`},
	{name: "source back to its source", subject: "CREATE.C2", body: `{"name":"C2","sources":[{"name":"C1"}]}`,
		code: 10052, desc: "detected cycle"},
	{name: "longer cycle", subject: "CREATE.C2", body: `{"name":"C2","sources":[{"name":"C3"}]}`},
	{name: "longer cycle closed", subject: "CREATE.C3", body: `{"name":"C3","sources":[{"name":"C1"}]}`,
		code: 10052, desc: "detected cycle"},
	{name: "filters that let nothing back", subject: "CREATE.F1", body: `{"name":"F1","subjects":["f1.>"],"sources":[{"name":"F2","filter_subject":"f2.>"}]}`},
	{name: "filters that let nothing back closed", subject: "CREATE.F2", body: `{"name":"F2","subjects":["f2.>"],"sources":[{"name":"F1","filter_subject":"f1.>"}]}`},
	// Only the filter of the source that closes the loop counts, against
	// the subjects of the stream it feeds: F3 passes F1's subjects on to
	// F1 unnoticed.
	{name: "filter of another stream's subjects", subject: "CREATE.F3", body: `{"name":"F3","subjects":["f3.>"],"sources":[{"name":"F1","filter_subject":"f1.>"}]}`},
	{name: "filter of another stream's subjects closed", subject: "UPDATE.F1", body: `{"name":"F1","subjects":["f1.>"],"sources":[{"name":"F2","filter_subject":"f2.>"},{"name":"F3"}]}`},
	{name: "filter of the stream's own subjects", subject: "CREATE.F4", body: `{"name":"F4","subjects":["f4.>"],"sources":[{"name":"F5","filter_subject":"f4.>"}]}`},
	{name: "filter of the stream's own subjects closed", subject: "CREATE.F5", body: `{"name":"F5","subjects":["f5.>"],"sources":[{"name":"F4"}]}`,
		code: 10052, desc: "detected cycle"},
	{name: "restore that closes a cycle", subject: "RESTORE.F5", body: `{"config":{"name":"F5","subjects":["f5.>"],"sources":[{"name":"F4"}]}}`,
		code: 10052, desc: "detected cycle"},
	{name: "mirror of a stream yet to come", subject: "CREATE.M1", body: `{"name":"M1","mirror":{"name":"M2"}}`},
	{name: "mirror back to its mirror", subject: "CREATE.M2", body: `{"name":"M2","mirror":{"name":"M1"}}`,
		code: 10052, desc: "detected cycle"},
	{name: "source of a mirror of itself", subject: "CREATE.M2", body: `{"name":"M2","sources":[{"name":"M1"}]}`,
		code: 10052, desc: "detected cycle"},
	{name: "update that closes a cycle", subject: "CREATE.U1", body: `{"name":"U1","subjects":["u1"]}`},
	{name: "update that closes a cycle: U2", subject: "CREATE.U2", body: `{"name":"U2","sources":[{"name":"U1"}]}`},
	{name: "update that closes a cycle: update", subject: "UPDATE.U1", body: `{"name":"U1","subjects":["u1"],"sources":[{"name":"U2"}]}`,
		code: 10052, desc: "detected cycle"},

	// Pedantic mode refuses what would otherwise be adjusted.
	// 2.11 says "pedantic mode: " twice in some of these.
	{name: "pedantic duplicate window above max age", subject: "CREATE.P1", body: `{"name":"P1","subjects":["p1"],"max_age":1000000000,"pedantic":true}`,
		code: 10157, desc: "pedantic mode: duplicate window cannot be bigger than max age",
		since211: true, code211: 10157, desc211: "pedantic mode: pedantic mode: duplicate window cannot be bigger than max age"},
	{name: "duplicate window above max age adjusted", subject: "CREATE.P1", body: `{"name":"P1","subjects":["p1"],"max_age":1000000000}`,
		reply: `{"duplicate_window":1000000000}`},
	{name: "pedantic republish without source", subject: "CREATE.P2", body: `{"name":"P2","subjects":["p2"],"republish":{"dest":"rp2"},"pedantic":true}`,
		code: 10157, desc: "pedantic mode: republish source can not be empty",
		since211: true, code211: 10157, desc211: "pedantic mode: pedantic mode: republish source can not be empty"},
	{name: "pedantic delete markers without TTLs", subject: "CREATE.P3", body: `{"name":"P3","subjects":["p3"],"subject_delete_marker_ttl":2000000000,"allow_rollup_hdrs":true,"pedantic":true}`,
		code: 10052, desc: "subject delete marker cannot be set if message TTLs are disabled"},
	{name: "pedantic delete markers without roll-ups", subject: "CREATE.P3", body: `{"name":"P3","subjects":["p3"],"subject_delete_marker_ttl":2000000000,"allow_msg_ttl":true,"pedantic":true}`,
		code: 10052, desc: "subject delete marker cannot be set if roll-ups are disabled"},
	{name: "pedantic update", subject: "UPDATE.P1", body: `{"name":"P1","subjects":["p1"],"max_age":1000000000,"pedantic":true}`,
		code: 10157, desc: "pedantic mode: duplicate window cannot be bigger than max age",
		since211: true, code211: 10157, desc211: "pedantic mode: pedantic mode: duplicate window cannot be bigger than max age"},
	{name: "update without pedantic", subject: "UPDATE.P1", body: `{"name":"P1","subjects":["p1"],"max_age":1000000000}`,
		reply: `{"duplicate_window":1000000000}`},
	// Current nats-server normalizes limits below -1 to -1 (2.11 kept
	// them as sent), and pedantic mode refuses them.
	{name: "pedantic limit below -1", subject: "CREATE.P4", body: `{"name":"P4","subjects":["p4"],"max_msgs":-2,"pedantic":true}`,
		code: 10157, desc: "pedantic mode: max_msgs must be set to -1", since211: true},

	// An update checks the configuration before the name in the subject.
	{name: "update of an invalid name", subject: "UPDATE.P1", body: `{"name":"a.b"}`,
		code: 10052, desc: "stream name is required and can not contain '.', '*', '>', '\\', '/'",
		since211: true, code211: 10052, desc211: "stream name is required and can not contain '.', '*', '>'"},
	{name: "update under another name", subject: "UPDATE.P1", body: `{"name":"P9","subjects":["p9"]}`,
		code: 10056, desc: "stream name in subject does not match request"},
}

func TestJetStreamStreamValidation(t *testing.T) {
	s := startJS(t, "")
	nc, _ := jsConnect(t, s)
	runStreamChecks(t, nc, false)
}

// TestJetStreamStreamValidationReference runs the same table against
// nats-server 2.11, so the expected answers are nats-server's.
func TestJetStreamStreamValidationReference(t *testing.T) {
	bin := refNatsServer211(t)
	nc, _ := connectURL(t, startNatsServer(t, bin))
	runStreamChecks(t, nc, true)
}

func runStreamChecks(t *testing.T, nc *nats.Conn, reference bool) {
	for _, tc := range streamChecks {
		if reference && tc.since211 {
			if tc.code211 == 0 {
				continue // 2.11 accepts it; the later steps expect the stream absent
			}
			tc.code, tc.desc = tc.code211, tc.desc211
		}
		t.Run(tc.name, func(t *testing.T) {
			r, err := nc.Request("$JS.API.STREAM."+tc.subject, []byte(tc.body), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				Error *apiErr `json:"error"`
			}
			if err := json.Unmarshal(r.Data, &resp); err != nil {
				t.Fatalf("%q: %v", r.Data, err)
			}
			e := resp.Error
			switch {
			case tc.code == 0 && e != nil:
				t.Fatalf("refused: %+v", e)
			case tc.code == 0:
				checkReplyConfig(t, r.Data, tc.reply)
			case e == nil:
				t.Fatalf("accepted, want %d %q", tc.code, tc.desc)
			case e.ErrCode != tc.code || e.Description != tc.desc || e.Code != statusOf(tc.code):
				t.Fatalf("got %d %d %q, want %d %d %q", e.Code, e.ErrCode, e.Description, statusOf(tc.code), tc.code, tc.desc)
			}
		})
	}
}

// checkReplyConfig compares the fields of want with the reply's
// configuration.
func checkReplyConfig(t *testing.T, reply []byte, want string) {
	t.Helper()
	if want == "" {
		return
	}
	var got struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(reply, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &fields); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if string(got.Config[k]) != string(v) {
			t.Errorf("config %s: got %s, want %s", k, got.Config[k], v)
		}
	}
}
