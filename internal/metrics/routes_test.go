package metrics

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	dto "github.com/prometheus/client_model/go"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/options"
)

// routeFamilies are the route metrics, by type; TestServerMetrics leaves
// them to the tests here.
var routeFamilies = map[string]dto.MetricType{
	"starling_routes":                   dto.MetricType_GAUGE,
	"starling_route_in_messages_total":  dto.MetricType_COUNTER,
	"starling_route_out_messages_total": dto.MetricType_COUNTER,
	"starling_route_in_bytes_total":     dto.MetricType_COUNTER,
	"starling_route_out_bytes_total":    dto.MetricType_COUNTER,
	"starling_route_pending_bytes":      dto.MetricType_GAUGE,
	"starling_route_reconnects_total":   dto.MetricType_COUNTER,
}

// perRoute reads a labelled family as "remote_id/remote_name" -> value.
func perRoute(t *testing.T, f *dto.MetricFamily) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		l := labels(m)
		if len(l) != 2 {
			t.Errorf("%s: labels %v, want remote_id and remote_name", f.GetName(), l)
		}
		v := m.GetCounter().GetValue()
		if f.GetType() == dto.MetricType_GAUGE {
			v = m.GetGauge().GetValue()
		}
		out[l["remote_id"]+"/"+l["remote_name"]] = v
	}
	return out
}

func TestRouteMetrics(t *testing.T) {
	b := core.RouteSnapshot{RemoteID: "NB", RemoteName: "beta", InMsgs: 10, InBytes: 100, OutMsgs: 20, OutBytes: 200, Pending: 64, Reconnects: 1}
	c := core.RouteSnapshot{RemoteID: "NC", RemoteName: "gamma", InMsgs: 1, InBytes: 2, OutMsgs: 3, OutBytes: 4}
	// A second connection to beta, as pooled routes would have.
	b2 := core.RouteSnapshot{RemoteID: "NB", RemoteName: "beta", InMsgs: 5, InBytes: 50, OutMsgs: 6, OutBytes: 60, Pending: 1, Reconnects: 1}
	type perPeer = map[string]float64
	tests := []struct {
		name   string
		routes []core.RouteSnapshot
		count  float64
		want   map[string]perPeer // family -> peer -> value
	}{
		{
			name:  "no cluster",
			count: 0,
			want:  map[string]perPeer{"starling_route_in_messages_total": {}},
		},
		{
			name:   "two peers",
			routes: []core.RouteSnapshot{b, c},
			count:  2,
			want: map[string]perPeer{
				"starling_route_in_messages_total":  {"NB/beta": 10, "NC/gamma": 1},
				"starling_route_in_bytes_total":     {"NB/beta": 100, "NC/gamma": 2},
				"starling_route_out_messages_total": {"NB/beta": 20, "NC/gamma": 3},
				"starling_route_out_bytes_total":    {"NB/beta": 200, "NC/gamma": 4},
				"starling_route_pending_bytes":      {"NB/beta": 64, "NC/gamma": 0},
				"starling_route_reconnects_total":   {"NB/beta": 1, "NC/gamma": 0},
			},
		},
		{
			name:   "two connections to one peer are summed",
			routes: []core.RouteSnapshot{b, b2},
			count:  2,
			want: map[string]perPeer{
				"starling_route_in_messages_total":  {"NB/beta": 15},
				"starling_route_out_bytes_total":    {"NB/beta": 260},
				"starling_route_pending_bytes":      {"NB/beta": 65},
				"starling_route_reconnects_total":   {"NB/beta": 1},
				"starling_route_out_messages_total": {"NB/beta": 26},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFake()
			src.routes = tt.routes
			fams := scrape(t, fakeHandler(src))
			if f := fams["starling_routes"]; f == nil || value(t, f) != tt.count {
				t.Errorf("starling_routes = %v, want %v", f, tt.count)
			}
			for name, want := range tt.want {
				if got := perRoute(t, fams[name]); !maps.Equal(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			for name, typ := range routeFamilies {
				f := fams[name]
				if f == nil {
					if len(tt.routes) > 0 {
						t.Errorf("%s missing", name)
					}
					continue
				}
				if f.GetType() != typ || f.GetHelp() == "" {
					t.Errorf("%s: type %v (want %v), help %q", name, f.GetType(), typ, f.GetHelp())
				}
			}
		})
	}
}

// TestRouteMetricsRealCluster scrapes two clustered core servers after
// messages crossed the route, so the Source is checked against the real
// snapshot.
func TestRouteMetricsRealCluster(t *testing.T) {
	start := func(name string, routes ...*url.URL) *core.Server {
		t.Helper()
		s, err := core.New(core.Options{Host: "127.0.0.1", Port: core.RandomPort, ServerName: name,
			Cluster: options.ClusterOptions{Name: "metrics", Host: "127.0.0.1", Port: core.RandomPort, Routes: routes}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("shutdown %s: %v", name, err)
			}
		})
		return s
	}
	a := start("alpha")
	b := start("beta", &url.URL{Scheme: "nats-route", Host: a.ClusterAddr().String()})

	sub, err := nats.Connect(b.ClientURL(), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	got := make(chan struct{}, 1024)
	if _, err := sub.Subscribe("across", func(*nats.Msg) { got <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	pub, err := nats.Connect(a.ClientURL(), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// Publish until one message arrives: the interest crosses the route
	// on its own time. Then three more, which must all arrive.
	eventually(t, 10*time.Second, func() error {
		if err := pub.Publish("across", []byte("hello")); err != nil {
			return err
		}
		select {
		case <-got:
			return nil
		case <-time.After(50 * time.Millisecond):
			return fmt.Errorf("nothing crossed the route yet")
		}
	})
	for range 3 {
		if err := pub.Publish("across", []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("a message did not cross the route")
		}
	}

	ha, hb := NewHandler(a), NewHandler(b)
	eventually(t, 10*time.Second, func() error {
		fa, fb := scrape(t, ha), scrape(t, hb)
		for _, f := range []*dto.MetricFamily{fa["starling_routes"], fb["starling_routes"]} {
			if f == nil || value(t, f) != 1 {
				return fmt.Errorf("starling_routes = %v, want 1 on both", f)
			}
		}
		out := perRoute(t, fa["starling_route_out_messages_total"])
		in := perRoute(t, fb["starling_route_in_messages_total"])
		if k := b.ID() + "/beta"; out[k] < 4 {
			return fmt.Errorf("alpha's route out messages %v, want at least 4 for %s", out, k)
		}
		if k := a.ID() + "/alpha"; in[k] < 4 {
			return fmt.Errorf("beta's route in messages %v, want at least 4 for %s", in, k)
		}
		if keys := slices.Collect(maps.Keys(perRoute(t, fb["starling_route_out_bytes_total"]))); len(keys) != 1 {
			return fmt.Errorf("beta's route series %v, want one peer", keys)
		}
		return nil
	})
}
