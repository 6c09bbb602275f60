package test

import (
	"encoding/json"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	body, status := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

func get(t testing.TB, url string) (string, int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.StatusCode
}

func monitored(t *testing.T) *server.Server {
	return startServer(t, func(o *serverOptions) { o.HTTPPort = server.RandomPort; o.ServerName = "mon-test" })
}

func TestVarz(t *testing.T) {
	s := monitored(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("v")
	nc.Publish("v", []byte("12345"))
	sub.NextMsg(2 * time.Second)

	body, _ := get(t, s.MonitorURL()+"/varz")
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"server_name": "mon-test", "proto": float64(1), "max_connections": float64(65536),
		"ping_interval": float64(120e9), "ping_max": float64(2), "auth_timeout": float64(2),
		"max_control_line": float64(4096), "max_payload": float64(1 << 20), "max_pending": float64(64 << 20),
		"write_deadline": float64(10e9), "connections": float64(1), "subscriptions": float64(1),
		"in_msgs": float64(1), "out_msgs": float64(1), "in_bytes": float64(5), "out_bytes": float64(5),
		"slow_consumers": float64(0), "host": "127.0.0.1",
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("varz %s = %v, want %v", k, v[k], w)
		}
	}
	for _, k := range []string{"server_id", "version", "go", "port", "start", "now", "uptime", "mem", "cores",
		"cpu", "total_connections", "http_req_stats", "cluster", "jetstream", "starling_version"} {
		if _, ok := v[k]; !ok {
			t.Errorf("varz lacks %s", k)
		}
	}
	// Indented the way nats-server indents.
	if !strings.HasPrefix(body, "{\n  \"server_id\": ") {
		t.Errorf("varz body starts %q", body[:min(40, len(body))])
	}
}

func TestConnz(t *testing.T) {
	s := monitored(t)
	a := connect(t, s, nats.Name("alpha"))
	b := connect(t, s, nats.Name("beta"))
	a.SubscribeSync("a.1")
	a.SubscribeSync("a.2")
	b.SubscribeSync("b.1")
	a.Flush()
	b.Flush()
	for i := 0; i < 3; i++ {
		b.Publish("a.1", []byte("x"))
	}
	b.Flush()

	type conn struct {
		Cid        uint64   `json:"cid"`
		Kind       string   `json:"kind"`
		Type       string   `json:"type"`
		IP         string   `json:"ip"`
		Port       int      `json:"port"`
		Name       string   `json:"name"`
		Lang       string   `json:"lang"`
		Version    string   `json:"version"`
		NumSubs    int      `json:"subscriptions"`
		Subs       []string `json:"subscriptions_list"`
		InMsgs     int64    `json:"in_msgs"`
		OutMsgs    int64    `json:"out_msgs"`
		RTT        string   `json:"rtt"`
		Uptime     string   `json:"uptime"`
		Idle       string   `json:"idle"`
		Reason     string   `json:"reason"`
		SubsDetail []struct {
			Subject string `json:"subject"`
			Sid     string `json:"sid"`
			Msgs    int64  `json:"msgs"`
		} `json:"subscriptions_list_detail"`
	}
	type connz struct {
		NumConns int    `json:"num_connections"`
		Total    int    `json:"total"`
		Offset   int    `json:"offset"`
		Limit    int    `json:"limit"`
		Conns    []conn `json:"connections"`
	}
	eventually(t, 5*time.Second, func() bool {
		var cz connz
		getJSON(t, s.MonitorURL()+"/connz", &cz)
		return len(cz.Conns) == 2 && cz.Conns[0].OutMsgs == 3
	}, "connz to show deliveries")

	var cz connz
	getJSON(t, s.MonitorURL()+"/connz?subs=1", &cz)
	if cz.NumConns != 2 || cz.Total != 2 || cz.Limit != 1024 || cz.Offset != 0 {
		t.Fatalf("connz header %+v", cz)
	}
	ca, cb := cz.Conns[0], cz.Conns[1]
	if ca.Name != "alpha" || cb.Name != "beta" || ca.Cid >= cb.Cid {
		t.Fatalf("default sort by cid: %+v", cz.Conns)
	}
	if ca.Kind != "Client" || ca.Type != "nats" || ca.IP != "127.0.0.1" || ca.Lang != "go" || ca.Version == "" {
		t.Errorf("conn fields %+v", ca)
	}
	if ca.NumSubs != 2 || len(ca.Subs) != 2 || cb.InMsgs != 3 || ca.OutMsgs != 3 {
		t.Errorf("counts: a=%+v b=%+v", ca, cb)
	}

	getJSON(t, s.MonitorURL()+"/connz?subs=detail&sort=msgs_from", &cz)
	if cz.Conns[0].Name != "beta" {
		t.Errorf("sort=msgs_from put %s first", cz.Conns[0].Name)
	}
	if d := cz.Conns[1].SubsDetail; len(d) != 2 {
		t.Errorf("subs detail %+v", d)
	}

	getJSON(t, s.MonitorURL()+"/connz?limit=1&offset=1", &cz)
	if cz.NumConns != 1 || cz.Total != 2 || cz.Conns[0].Name != "beta" {
		t.Errorf("paging: %+v", cz)
	}
	getJSON(t, s.MonitorURL()+"/connz?cid="+itoa(ca.Cid), &cz)
	if cz.NumConns != 1 || cz.Conns[0].Name != "alpha" || cz.Limit != 1 {
		t.Errorf("cid filter: %+v", cz)
	}

	b.Close()
	eventually(t, 5*time.Second, func() bool {
		getJSON(t, s.MonitorURL()+"/connz?state=closed", &cz)
		return len(cz.Conns) == 1
	}, "closed connection")
	if cz.Conns[0].Name != "beta" || cz.Conns[0].Reason != "Client Closed" {
		t.Errorf("closed: %+v", cz.Conns[0])
	}
	getJSON(t, s.MonitorURL()+"/connz?state=all", &cz)
	if cz.NumConns != 2 {
		t.Errorf("state=all: %d", cz.NumConns)
	}

	for q, msg := range map[string]string{
		"sort=bogus":  "invalid sorting option: bogus",
		"sort=stop":   "sort by stop only valid on closed connections",
		"auth=maybe":  "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"maybe\": invalid syntax",
		"limit=abc":   "Error decoding int for 'limit': strconv.Atoi: parsing \"abc\": invalid syntax",
		"state=weird": "Error decoding state for weird",
	} {
		body, status := get(t, s.MonitorURL()+"/connz?"+q)
		if status != http.StatusBadRequest || body != msg {
			t.Errorf("%s: %d %q", q, status, body)
		}
	}
}

func TestSubsz(t *testing.T) {
	s := monitored(t)
	nc := connect(t, s)
	nc.SubscribeSync("foo.bar")
	nc.QueueSubscribeSync("foo.*", "workers")
	nc.SubscribeSync("other")
	nc.Flush()
	nc.Publish("foo.bar", nil)
	nc.Flush()

	var sz struct {
		NumSubs   int `json:"num_subscriptions"`
		NumInsert int `json:"num_inserts"`
		NumMatch  int `json:"num_matches"`
		Total     int `json:"total"`
		Subs      []struct {
			Subject string `json:"subject"`
			Queue   string `json:"qgroup"`
			Sid     string `json:"sid"`
			Cid     uint64 `json:"cid"`
		} `json:"subscriptions_list"`
	}
	getJSON(t, s.MonitorURL()+"/subsz", &sz)
	if sz.NumSubs != 3 || sz.NumInsert != 3 || sz.NumMatch < 1 || len(sz.Subs) != 0 {
		t.Errorf("subsz %+v", sz)
	}
	getJSON(t, s.MonitorURL()+"/subsz?subs=1&test=foo.bar", &sz)
	if sz.Total != 2 || len(sz.Subs) != 2 {
		t.Errorf("test=foo.bar: %+v", sz)
	}
	getJSON(t, s.MonitorURL()+"/subscriptionsz?subs=1", &sz)
	if len(sz.Subs) != 3 {
		t.Errorf("alias: %+v", sz)
	}
	if body, status := get(t, s.MonitorURL()+"/subsz?test=foo.*"); status != 400 || !strings.HasPrefix(body, "invalid test subject") {
		t.Errorf("wildcard test: %d %q", status, body)
	}
}

func TestHealthz(t *testing.T) {
	s := monitored(t)
	body, status := get(t, s.MonitorURL()+"/healthz")
	if status != 200 || body != `{"status":"ok"}` {
		t.Fatalf("healthz %d %q", status, body)
	}
	if _, status := get(t, s.MonitorURL()+"/nope"); status != 404 {
		t.Errorf("unknown path: %d", status)
	}
	var v struct {
		Stats map[string]int `json:"http_req_stats"`
	}
	getJSON(t, s.MonitorURL()+"/varz", &v)
	if v.Stats["/healthz"] != 1 || v.Stats["/varz"] != 1 {
		t.Errorf("http_req_stats %v", v.Stats)
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRoutezAccountz(t *testing.T) {
	s := monitored(t)
	connect(t, s).SubscribeSync("x")
	var rz struct {
		ID        string `json:"server_id"`
		NumRoutes int    `json:"num_routes"`
		Routes    []any  `json:"routes"`
	}
	getJSON(t, s.MonitorURL()+"/routez", &rz)
	if rz.ID != s.ID() || rz.NumRoutes != 0 || rz.Routes == nil {
		t.Errorf("routez %+v", rz)
	}
	var az struct {
		Accounts []string `json:"accounts"`
		Detail   *struct {
			Name    string `json:"account_name"`
			Clients int    `json:"client_connections"`
			Subs    int    `json:"subscriptions"`
		} `json:"account_detail"`
	}
	getJSON(t, s.MonitorURL()+"/accountz", &az)
	if len(az.Accounts) != 1 || az.Accounts[0] != "$G" {
		t.Errorf("accountz %+v", az)
	}
	eventually(t, 5*time.Second, func() bool {
		getJSON(t, s.MonitorURL()+"/accountz?acc=$G", &az)
		return az.Detail != nil && az.Detail.Clients == 1 && az.Detail.Subs == 1
	}, "account detail")
	if body, status := get(t, s.MonitorURL()+"/accountz?acc=nope"); status != 400 || body != "Account nope does not exist" {
		t.Errorf("unknown account: %d %q", status, body)
	}
}

// TestMetrics scrapes /metrics and reads it with Prometheus's own parser.
func TestMetrics(t *testing.T) {
	s := monitored(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("m")
	for i := 0; i < 3; i++ {
		nc.Publish("m", []byte("abc"))
	}
	for i := 0; i < 3; i++ {
		sub.NextMsg(2 * time.Second)
	}
	body, status := get(t, s.MonitorURL()+"/metrics")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("prometheus parser: %v", err)
	}
	value := func(name string) float64 {
		f, ok := families[name]
		if !ok || len(f.Metric) == 0 {
			t.Fatalf("no metric %s", name)
		}
		m := f.Metric[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
		return -1
	}
	for name, want := range map[string]float64{
		"starling_connections": 1, "starling_subscriptions": 1, "starling_in_messages_total": 3,
		"starling_out_messages_total": 3, "starling_in_bytes_total": 9, "starling_slow_consumers_total": 0,
	} {
		if got := value(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if _, ok := families["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}
