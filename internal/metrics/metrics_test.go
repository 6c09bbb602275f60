package metrics

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/subject"
)

// fakeSource is a server frozen at fixed values.
type fakeSource struct {
	id, name string
	opts     core.Options
	stats    core.ServerStats
	sublist  subject.Stats
	conns    []core.ConnInfo
	routes   []core.RouteSnapshot
}

func (f *fakeSource) ID() string                       { return f.id }
func (f *fakeSource) Name() string                     { return f.name }
func (f *fakeSource) Options() core.Options            { return f.opts }
func (f *fakeSource) Stats() core.ServerStats          { return f.stats }
func (f *fakeSource) SublistStats() subject.Stats      { return f.sublist }
func (f *fakeSource) Connections(bool) []core.ConnInfo { return f.conns }
func (f *fakeSource) Routes() []core.RouteSnapshot     { return f.routes }

var testStart = time.Unix(1_700_000_000, 500_000_000)

func newFake() *fakeSource {
	return &fakeSource{
		id:   "NSRVID",
		name: "alpha",
		opts: core.Options{MaxPayload: 1 << 20, MaxConnections: 1000, MaxPending: 64 << 20},
		stats: core.ServerStats{
			Start:            testStart,
			Connections:      3,
			TotalConnections: 17,
			Subscriptions:    42,
			InMsgs:           100,
			InBytes:          2000,
			OutMsgs:          300,
			OutBytes:         6000,
			SlowConsumers:    2,
		},
		sublist: subject.Stats{Matches: 1000, CacheHitRate: 0.75, Inserts: 50, Removes: 8, Cached: 12},
		conns:   []core.ConnInfo{{PendingBytes: 10}, {PendingBytes: 4096}, {PendingBytes: 0}},
		routes:  []core.RouteSnapshot{{RemoteID: "NPEER", RemoteName: "beta", InMsgs: 5, OutMsgs: 6, Pending: 7}},
	}
}

// fakeHandler serves src with the clock pinned 90 seconds after testStart.
func fakeHandler(src Source) http.Handler {
	now := func() time.Time { return testStart.Add(90 * time.Second) }
	return handlerFor(newRegistry(newServerCollector(src, now), newRouteCollector(src)))
}

// scrape fetches h's metrics as the Prometheus text format and parses them.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// value returns the single unlabelled sample of a family.
func value(t *testing.T, f *dto.MetricFamily) float64 {
	t.Helper()
	if len(f.Metric) != 1 {
		t.Fatalf("%s: %d samples, want 1", f.GetName(), len(f.Metric))
	}
	m := f.Metric[0]
	switch f.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s: unexpected type %v", f.GetName(), f.GetType())
	return 0
}

func TestServerMetrics(t *testing.T) {
	fams := scrape(t, fakeHandler(newFake()))
	const (
		counter = dto.MetricType_COUNTER
		gauge   = dto.MetricType_GAUGE
	)
	tests := []struct {
		name string
		typ  dto.MetricType
		want float64
	}{
		{"starling_start_time_seconds", gauge, 1_700_000_000.5},
		{"starling_uptime_seconds", gauge, 90},
		{"starling_connections", gauge, 3},
		{"starling_connections_accepted_total", counter, 17},
		{"starling_subscriptions", gauge, 42},
		{"starling_in_messages_total", counter, 100},
		{"starling_in_bytes_total", counter, 2000},
		{"starling_out_messages_total", counter, 300},
		{"starling_out_bytes_total", counter, 6000},
		{"starling_slow_consumers_total", counter, 2},
		{"starling_pending_bytes", gauge, 4106},
		{"starling_pending_bytes_max", gauge, 4096},
		{"starling_config_max_payload_bytes", gauge, 1 << 20},
		{"starling_config_max_connections", gauge, 1000},
		{"starling_config_max_pending_bytes", gauge, 64 << 20},
		{"starling_sublist_matches_total", counter, 1000},
		{"starling_sublist_cache_hit_ratio", gauge, 0.75},
		{"starling_sublist_inserts_total", counter, 50},
		{"starling_sublist_removes_total", counter, 8},
		{"starling_sublist_cache_entries", gauge, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := fams[tt.name]
			if !ok {
				t.Fatalf("missing")
			}
			if f.GetType() != tt.typ {
				t.Errorf("type %v, want %v", f.GetType(), tt.typ)
			}
			if f.GetHelp() == "" {
				t.Errorf("no HELP text")
			}
			if got := value(t, f); got != tt.want {
				t.Errorf("value %v, want %v", got, tt.want)
			}
		})
	}

	// Every starling_ family is in the table, so a new metric cannot ship
	// without a test of its type and value.
	covered := map[string]bool{"starling_server_info": true} // TestServerInfo
	for name := range routeFamilies {
		covered[name] = true // TestRouteMetrics
	}
	for _, tt := range tests {
		covered[tt.name] = true
	}
	for name := range fams {
		if strings.HasPrefix(name, "starling_") && !covered[name] {
			t.Errorf("%s is not covered by this test", name)
		}
	}
}

func TestServerInfo(t *testing.T) {
	fams := scrape(t, fakeHandler(newFake()))
	f := fams["starling_server_info"]
	if f == nil || f.GetType() != dto.MetricType_GAUGE || value(t, f) != 1 {
		t.Fatalf("starling_server_info = %v, want a gauge of 1", f)
	}
	want := map[string]string{"server_id": "NSRVID", "server_name": "alpha", "version": core.Version}
	if got := labels(f.Metric[0]); !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// A server that has not started yet, with no clients, must still scrape
// cleanly: no start time to report, and zero pending.
func TestIdleServer(t *testing.T) {
	src := &fakeSource{id: "N", name: "idle"}
	fams := scrape(t, fakeHandler(src))
	for _, name := range []string{"starling_start_time_seconds", "starling_uptime_seconds"} {
		if _, ok := fams[name]; ok {
			t.Errorf("%s reported before start", name)
		}
	}
	for _, name := range []string{"starling_pending_bytes", "starling_pending_bytes_max", "starling_connections"} {
		if f := fams[name]; f == nil || value(t, f) != 0 {
			t.Errorf("%s = %v, want 0", name, f)
		}
	}
}

func TestRuntimeCollectors(t *testing.T) {
	fams := scrape(t, NewHandler(newFake()))
	for _, name := range []string{
		"go_goroutines", "go_memstats_heap_inuse_bytes", "go_info",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds",
		"promhttp_metric_handler_requests_total",
	} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

// openMetrics scrapes h asking for OpenMetrics, as Prometheus does first.
func openMetrics(t *testing.T, h http.Handler) (*httptest.ResponseRecorder, expfmt.Format) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	format := expfmt.ResponseFormat(rec.Header())
	if rec.Code != http.StatusOK || format.FormatType() != expfmt.TypeOpenMetrics {
		t.Fatalf("status %d, content type %q; want OpenMetrics", rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec, format
}

// Our families must be valid OpenMetrics. The classic text format tolerates
// a gauge x next to a counter x_total; OpenMetrics names both family x, so
// the strict decode below fails on such a clash. Only the server collector
// is checked: client_golang's Go collector has exactly that clash
// (go_memstats_alloc_bytes, prometheus/client_golang#829), which Prometheus
// ingests anyway.
func TestOpenMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newServerCollector(newFake(), time.Now))
	rec, format := openMetrics(t, handlerFor(reg))
	dec := expfmt.NewDecoder(rec.Body, format)
	names := map[string]bool{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode OpenMetrics: %v", err)
		}
		if names[mf.GetName()] {
			t.Errorf("family %s appears twice", mf.GetName())
		}
		names[mf.GetName()] = true
	}
	if !names["starling_connections"] || !names["starling_connections_accepted_total"] {
		t.Errorf("families %v lack starling_connections{,_accepted_total}", slices.Sorted(maps.Keys(names)))
	}
}

// The full handler negotiates OpenMetrics too, and finishes the exposition.
func TestOpenMetricsNegotiated(t *testing.T) {
	rec, _ := openMetrics(t, NewHandler(newFake()))
	body := rec.Body.String()
	if !strings.Contains(body, "\n# TYPE starling_in_messages counter\n") || !strings.HasSuffix(body, "# EOF\n") {
		t.Errorf("OpenMetrics body lacks starling_in_messages or # EOF:\n%s", body)
	}
}

// Two servers embedded in one process each get their own registry: neither
// handler panics on registration, and each reports its own server.
func TestTwoHandlers(t *testing.T) {
	a, b := newFake(), newFake()
	b.id, b.name = "NOTHER", "beta"
	b.stats.InMsgs = 7
	ha, hb := NewHandler(a), NewHandler(b)
	for _, tt := range []struct {
		h    http.Handler
		name string
		in   float64
	}{{ha, "alpha", 100}, {hb, "beta", 7}, {ha, "alpha", 100}} {
		fams := scrape(t, tt.h)
		if got := labels(fams["starling_server_info"].Metric[0])["server_name"]; got != tt.name {
			t.Errorf("server_name %q, want %q", got, tt.name)
		}
		if got := value(t, fams["starling_in_messages_total"]); got != tt.in {
			t.Errorf("%s in messages %v, want %v", tt.name, got, tt.in)
		}
	}
}
