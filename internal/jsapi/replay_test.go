package jsapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// serverCodes are errors the server layer decides (other streams, the
// account, clustering), not the pure checks: a capture answered with one
// of them must pass CheckStreamConfig.
var serverCodes = map[uint16]bool{
	10058: true, // name in use with another configuration
	10065: true, // subjects overlap another stream
	10074: true, // replicas > 1 without clustering
	10049: true, // 2.9: template_owner names no template
	10059: true, // stream not found (updates)
}

// sinceCapture records where current nats-server, which this package
// follows, answers differently from a captured version: the error it
// gives now (code 0: accepted, configuration not compared).
type sinceCapture map[string]struct {
	code uint16
	desc string
}

var since29 = sinceCapture{
	"stream_create/negative_max_age":      {10052, "max age can not be negative"},
	"stream_create/capture_js_api":        {10052, "subjects that overlap with jetstream api require no-ack to be true"},
	"stream_create/capture_sys":           {10052, "subjects that overlap with system api require no-ack to be true"},
	"stream_create/capture_all":           {10052, "capturing all subjects requires no-ack to be true"},
	"stream_create/duplicate_subjects":    {10052, `subject "a" overlaps with "a"`},
	"stream_create/republish_bad_dest":    {10052, "stream configuration for republish with transform from 'a.>' to 'b.*' not valid"},
	"stream_create/mirror_filter":         {0, ""}, // 2.9 wanted the filter to overlap the origin's subjects
	"stream_create/source_invalid_name":   {10141, "sourced stream name is invalid"},
	"stream_create/source_duplicate":      {10140, "duplicate source configuration detected"},
	"stream_create/max_msgs_negative_two": {0, ""}, // 2.9 kept -2; now -1
	"stream_create/sourced":               {0, ""}, // 2.9 gave sourcing streams the 2m duplicate window; now none
	"stream_update/retention":             {10052, "stream configuration update can not change retention policy to/from workqueue"},
	"stream_update/retention_interest":    {0, ""}, // limits <-> interest is allowed now
}

var since211 = sinceCapture{
	"stream_create/negative_max_age":      {10052, "max age can not be negative"},
	"stream_create/duplicate_subjects":    {10052, `subject "a" overlaps with "a"`},
	"stream_create/max_msgs_negative_two": {0, ""}, // 2.11 kept -2; now -1
	"stream_create/sourced":               {0, ""}, // 2.11 gave sourcing streams the 2m duplicate window; now none
}

// TestChecksAsCaptured replays the stream creates and updates sent to
// each captured nats-server through CheckStreamCreate, CheckStreamConfig
// and CheckStreamUpdate: the same errors (but for the recorded changes
// since), and for accepted configurations the same normalized
// configuration, other streams known through Limits.Lookup as the server
// knew them.
func TestChecksAsCaptured(t *testing.T) {
	replay(t, "2.9.10", since29)
	replay(t, "2.11.8", since211)
}

func replay(t *testing.T, version string, since sinceCapture) {
	known := map[string]StreamConfig{}
	lim := Limits{Lookup: func(name string) (StreamConfig, bool) { c, ok := known[name]; return c, ok }}
	n := 0
	for _, c := range loadCaptures(t, version) {
		op, name, ok := streamOp(c.Subject)
		if !ok || len(c.Replies) != 1 {
			continue
		}
		var reply StreamCreateResponse // the update reply has the same shape
		if err := json.Unmarshal([]byte(c.Replies[0].Body), &reply); err != nil {
			t.Fatal(err)
		}
		if op == "DELETE" {
			delete(known, name)
			continue
		}
		var req StreamConfigRequest
		if json.Unmarshal([]byte(c.Request), &req) != nil {
			continue // invalid JSON: TestGoldenRequests
		}
		n++
		got, err := check(op, name, req.StreamConfig, lim, known)
		want, wantErr := reply.StreamInfo, reply.Error
		if d, ok := since[strings.TrimPrefix(c.Name, version+":")]; ok {
			want, wantErr = nil, nil
			if d.code != 0 {
				wantErr = &ApiError{Code: ErrorID(d.code).Code(), ErrCode: d.code, Description: d.desc}
			}
		} else if wantErr != nil && serverCodes[wantErr.ErrCode] {
			want, wantErr = nil, nil
		}
		switch {
		case wantErr != nil:
			if err == nil || *err != *wantErr {
				t.Errorf("%s: got %v, want %v", c.Name, err, wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", c.Name, err)
		case want != nil:
			// 2.9 had no metadata and dropped it; 2.11 adds its own
			// _nats.* keys, which are the server's business.
			for k := range want.Config.Metadata {
				if strings.HasPrefix(k, "_nats.") {
					delete(want.Config.Metadata, k)
				}
			}
			if len(want.Config.Metadata) == 0 {
				want.Config.Metadata, got.Metadata = nil, nil
			}
			a, _ := json.Marshal(want.Config)
			b, _ := json.Marshal(got)
			if _, err := equivalentJSON(string(a), string(b)); err != nil {
				t.Errorf("%s: %v\nnats-server: %s\nours:        %s", c.Name, err, a, b)
			}
			known[name] = want.Config
		}
	}
	if n < 40 {
		t.Fatalf("%s: only %d creates and updates replayed", version, n)
	}
}

// streamOp splits $JS.API.STREAM.<op>.<name>.
func streamOp(subj string) (op, name string, ok bool) {
	rest, ok := strings.CutPrefix(subj, "$JS.API.STREAM.")
	if !ok {
		return "", "", false
	}
	op, name, ok = strings.Cut(rest, ".")
	return op, name, ok && (op == "CREATE" || op == "UPDATE" || op == "DELETE")
}

// check runs what nats-server's create or update handler runs that is
// not the server's own business.
func check(op, name string, cfg StreamConfig, lim Limits, known map[string]StreamConfig) (StreamConfig, *ApiError) {
	if op == "CREATE" {
		if err := CheckStreamCreate(name, cfg); err != nil {
			return cfg, err
		}
		return CheckStreamConfig(cfg, lim)
	}
	cfg, err := CheckStreamConfig(cfg, lim)
	if err != nil {
		return cfg, err
	}
	if name != cfg.Name {
		return cfg, NewError(ErrStreamMismatch)
	}
	old, ok := known[name]
	if !ok {
		return cfg, nil // not found: the server's
	}
	if err := CheckStreamUpdate(old, cfg); err != nil {
		return cfg, err
	}
	Seal(&cfg)
	return cfg, nil
}
