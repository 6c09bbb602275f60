package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starling-mq/starling/internal/core"
)

const namespace = "starling"

// serverCollector turns one snapshot of a server into const metrics on each
// scrape. Holding no state of its own means a scrape can never observe a
// half-updated value left by a previous one.
type serverCollector struct {
	src Source
	now func() time.Time // injected so tests can pin uptime

	info          *prometheus.Desc
	startTime     *prometheus.Desc
	uptime        *prometheus.Desc
	connections   *prometheus.Desc
	accepted      *prometheus.Desc
	subscriptions *prometheus.Desc
	inMsgs        *prometheus.Desc
	outMsgs       *prometheus.Desc
	inBytes       *prometheus.Desc
	outBytes      *prometheus.Desc
	slowConsumers *prometheus.Desc
	pendingBytes  *prometheus.Desc
	pendingMax    *prometheus.Desc
	maxPayload    *prometheus.Desc
	maxConns      *prometheus.Desc
	maxPending    *prometheus.Desc
	matches       *prometheus.Desc
	hitRatio      *prometheus.Desc
	inserts       *prometheus.Desc
	removes       *prometheus.Desc
	cacheEntries  *prometheus.Desc
}

func newServerCollector(src Source, now func() time.Time) *serverCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &serverCollector{
		src: src,
		now: now,

		info:      d("server_info", "Always 1; labels identify the server and its Starling release.", "server_id", "server_name", "version"),
		startTime: d("start_time_seconds", "When the server started, in seconds since the Unix epoch."),
		uptime:    d("uptime_seconds", "Seconds since the server started."),

		connections:   d("connections", "Client connections currently open."),
		accepted:      d("connections_accepted_total", "Client connections accepted since the server started."),
		subscriptions: d("subscriptions", "Client subscriptions currently registered."),
		inMsgs:        d("in_messages_total", "Messages received from clients (NATS in_msgs)."),
		outMsgs:       d("out_messages_total", "Messages delivered to clients (NATS out_msgs)."),
		inBytes:       d("in_bytes_total", "Message bytes received from clients, headers and payload (NATS in_bytes)."),
		outBytes:      d("out_bytes_total", "Message bytes delivered to clients, headers and payload (NATS out_bytes)."),
		slowConsumers: d("slow_consumers_total", "Clients disconnected for falling too far behind (NATS slow_consumers)."),

		pendingBytes: d("pending_bytes", "Outbound bytes buffered for all open client connections and not yet written."),
		pendingMax:   d("pending_bytes_max", "Largest outbound backlog buffered for a single open client connection, in bytes."),

		maxPayload: d("config_max_payload_bytes", "Configured largest message, headers and payload (max_payload)."),
		maxConns:   d("config_max_connections", "Configured limit on open client connections (max_connections)."),
		maxPending: d("config_max_pending_bytes", "Configured outbound backlog at which a client becomes a slow consumer (max_pending)."),

		matches:      d("sublist_matches_total", "Subject lookups made in the subscription index to route messages."),
		hitRatio:     d("sublist_cache_hit_ratio", "Fraction of subscription lookups answered from the match cache since start, 0 to 1."),
		inserts:      d("sublist_inserts_total", "Subscriptions added to the subscription index."),
		removes:      d("sublist_removes_total", "Subscriptions removed from the subscription index."),
		cacheEntries: d("sublist_cache_entries", "Subjects currently held in the subscription match cache."),
	}
}

// Describe sends every descriptor, which lets the registry reject name
// clashes at registration rather than at scrape time.
func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.info, c.startTime, c.uptime,
		c.connections, c.accepted, c.subscriptions,
		c.inMsgs, c.outMsgs, c.inBytes, c.outBytes, c.slowConsumers,
		c.pendingBytes, c.pendingMax,
		c.maxPayload, c.maxConns, c.maxPending,
		c.matches, c.hitRatio, c.inserts, c.removes, c.cacheEntries,
	} {
		ch <- d
	}
}

// Collect reads one snapshot of the server. The pending figures walk the
// open connections, which is O(connections) per scrape; that is the price of
// keeping the message path free of any metrics bookkeeping.
func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}

	gauge(c.info, 1, c.src.ID(), c.src.Name(), core.Version)

	st := c.src.Stats()
	if !st.Start.IsZero() {
		gauge(c.startTime, float64(st.Start.UnixNano())/1e9)
		gauge(c.uptime, c.now().Sub(st.Start).Seconds())
	}
	gauge(c.connections, float64(st.Connections))
	counter(c.accepted, float64(st.TotalConnections))
	gauge(c.subscriptions, float64(st.Subscriptions))
	counter(c.inMsgs, float64(st.InMsgs))
	counter(c.outMsgs, float64(st.OutMsgs))
	counter(c.inBytes, float64(st.InBytes))
	counter(c.outBytes, float64(st.OutBytes))
	counter(c.slowConsumers, float64(st.SlowConsumers))

	var sum, most int
	for _, ci := range c.src.Connections(false) {
		sum += ci.PendingBytes
		most = max(most, ci.PendingBytes)
	}
	gauge(c.pendingBytes, float64(sum))
	gauge(c.pendingMax, float64(most))

	opts := c.src.Options()
	gauge(c.maxPayload, float64(opts.MaxPayload))
	gauge(c.maxConns, float64(opts.MaxConnections))
	gauge(c.maxPending, float64(opts.MaxPending))

	sl := c.src.SublistStats()
	counter(c.matches, float64(sl.Matches))
	gauge(c.hitRatio, sl.CacheHitRate)
	counter(c.inserts, float64(sl.Inserts))
	counter(c.removes, float64(sl.Removes))
	gauge(c.cacheEntries, float64(sl.Cached))
}
