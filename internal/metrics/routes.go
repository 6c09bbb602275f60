package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/starling-mq/starling/internal/core"
)

// routeCollector exports the cluster's routes from one Routes() snapshot
// per scrape. A route is labelled by its peer's server ID and name: routes
// are configured or gossiped by operators, one per peer, so the label set
// stays bounded by the cluster's size. A restarted peer has a new ID and
// so starts new series; its old ones end with the old route.
type routeCollector struct {
	src Source

	routes              *prometheus.Desc
	inMsgs, outMsgs     *prometheus.Desc
	inBytes, outBytes   *prometheus.Desc
	pending, reconnects *prometheus.Desc
}

// routeLabels name the peer of a route, as /routez does.
var routeLabels = []string{"remote_id", "remote_name"}

func newRouteCollector(src Source) *routeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &routeCollector{
		src:        src,
		routes:     d("routes", "Routes to other servers of the cluster currently up."),
		inMsgs:     d("route_in_messages_total", "Messages received from the peer on this route since it came up (/routez in_msgs).", routeLabels...),
		outMsgs:    d("route_out_messages_total", "Messages sent to the peer on this route since it came up (/routez out_msgs).", routeLabels...),
		inBytes:    d("route_in_bytes_total", "Message bytes, headers and payload, received from the peer on this route (/routez in_bytes).", routeLabels...),
		outBytes:   d("route_out_bytes_total", "Message bytes, headers and payload, sent to the peer on this route (/routez out_bytes).", routeLabels...),
		pending:    d("route_pending_bytes", "Outbound bytes buffered for the route and not yet written (/routez pending_size).", routeLabels...),
		reconnects: d("route_reconnects_total", "Routes to this peer that came up after the first one, since this server started.", routeLabels...),
	}
}

func (c *routeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.routes, c.inMsgs, c.outMsgs, c.inBytes, c.outBytes, c.pending, c.reconnects} {
		ch <- d
	}
}

// Collect reports every route up at the time of the snapshot. The
// per-route counters start again from zero on a new route to the same
// peer, which Prometheus' rate() reads as a counter reset. starling_routes
// counts connections; the labelled series count peers.
func (c *routeCollector) Collect(ch chan<- prometheus.Metric) {
	routes := c.src.Routes()
	ch <- prometheus.MustNewConstMetric(c.routes, prometheus.GaugeValue, float64(len(routes)))
	for _, r := range byPeer(routes) {
		m := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, t, v, r.RemoteID, r.RemoteName)
		}
		m(c.inMsgs, prometheus.CounterValue, float64(r.InMsgs))
		m(c.outMsgs, prometheus.CounterValue, float64(r.OutMsgs))
		m(c.inBytes, prometheus.CounterValue, float64(r.InBytes))
		m(c.outBytes, prometheus.CounterValue, float64(r.OutBytes))
		m(c.pending, prometheus.GaugeValue, float64(r.Pending))
		m(c.reconnects, prometheus.CounterValue, float64(r.Reconnects))
	}
}

// byPeer sums the routes to the same peer into one entry, in the order
// peers first appear. Core keeps one route per peer today; with pooled
// routes there would be several, and two series with the same labels
// would fail the scrape.
func byPeer(routes []core.RouteSnapshot) []core.RouteSnapshot {
	out := make([]core.RouteSnapshot, 0, len(routes))
	at := make(map[[2]string]int, len(routes))
	for _, r := range routes {
		k := [2]string{r.RemoteID, r.RemoteName}
		i, seen := at[k]
		if !seen {
			at[k] = len(out)
			out = append(out, core.RouteSnapshot{RemoteID: r.RemoteID, RemoteName: r.RemoteName})
			i = len(out) - 1
		}
		p := &out[i]
		p.InMsgs += r.InMsgs
		p.OutMsgs += r.OutMsgs
		p.InBytes += r.InBytes
		p.OutBytes += r.OutBytes
		p.Pending += r.Pending
		p.Reconnects = max(p.Reconnects, r.Reconnects) // per peer already
	}
	return out
}
