package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/starling-mq/starling/internal/jetstream"
)

// JetStreamSource reports JetStream's state at scrape time, or nil when
// JetStream is off (then no JetStream series are exported).
type JetStreamSource func() *jetstream.JSInfo

// jsCollector exports JetStream totals, per-account usage and per-stream
// gauges (labelled by account too: two accounts may each have a stream of
// the same name). Streams and accounts are created deliberately by
// operators, so these labels stay bounded.
type jsCollector struct {
	src JetStreamSource

	streams, messages, bytes, lost *prometheus.Desc
	apiTotal, apiErrors            *prometheus.Desc
	advDropped, rpDropped          *prometheus.Desc
	ingestDropped, inboundDropped  *prometheus.Desc
	streamMsgs, streamBytes        *prometheus.Desc
	streamFirst, streamLast        *prometheus.Desc
	streamLost, streamDeleted      *prometheus.Desc
	accountBytes, accountStreams   *prometheus.Desc
	leaderChanges, replAcks        *prometheus.Desc
	replAckSecs, replicaLag        *prometheus.Desc
}

// NewJetStreamCollector returns the JetStream collector reading src.
func NewJetStreamCollector(src JetStreamSource) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &jsCollector{
		src:            src,
		streams:        d("jetstream_streams", "Streams defined."),
		messages:       d("jetstream_messages", "Messages stored in all streams."),
		bytes:          d("jetstream_bytes", "Bytes stored, by storage type (file or memory).", "storage"),
		lost:           d("jetstream_lost_messages", "Messages found corrupt on disk in all streams; they are never served."),
		apiTotal:       d("jetstream_api_requests_total", "JetStream API requests served."),
		apiErrors:      d("jetstream_api_errors_total", "JetStream API requests answered with an error."),
		advDropped:     d("jetstream_advisories_dropped_total", "Advisories and audit events dropped because their queue was full."),
		rpDropped:      d("jetstream_republish_dropped_total", "Messages not republished because a stream's republish queue was full."),
		ingestDropped:  d("jetstream_ingest_dropped_total", "In-process publishes dropped because a stream's ingest queue was full (answered 429)."),
		inboundDropped: d("jetstream_consumer_inbound_dropped_total", "Acks, pull requests and flow-control replies dropped because the consumers' queues stayed full."),
		streamMsgs:     d("stream_messages", "Messages stored in the stream.", "account", "stream"),
		streamBytes:    d("stream_bytes", "Bytes stored in the stream.", "account", "stream"),
		streamFirst:    d("stream_first_seq", "First sequence in the stream.", "account", "stream"),
		streamLast:     d("stream_last_seq", "Last sequence in the stream.", "account", "stream"),
		streamLost:     d("stream_lost_messages", "Messages of the stream found corrupt; never served.", "account", "stream"),
		streamDeleted:  d("stream_deleted_messages", "Interior deleted sequences of the stream.", "account", "stream"),
		accountBytes:   d("account_jetstream_bytes", "Bytes stored by the account's streams, by storage type (file or memory).", "account", "storage"),
		accountStreams: d("account_jetstream_streams", "Streams of the account.", "account"),
		leaderChanges:  d("jetstream_leader_changes_total", "Raft leaderships (meta group and streams) this server gained or lost."),
		replAcks:       d("jetstream_replicated_acks_total", "Publishes to replicated streams this server acknowledged as their leader."),
		replAckSecs:    d("jetstream_replicated_ack_seconds_total", "Time from proposal to acknowledgement of those publishes, summed (divide by the acks for the mean commit latency)."),
		replicaLag:     d("stream_replica_lag", "Entries a replica is behind the stream's leader, as the leader sees it.", "account", "stream", "replica"),
	}
}

func (c *jsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streams, c.messages, c.bytes, c.lost, c.apiTotal, c.apiErrors, c.advDropped, c.rpDropped, c.ingestDropped, c.inboundDropped,
		c.streamMsgs, c.streamBytes, c.streamFirst, c.streamLast, c.streamLost, c.streamDeleted, c.accountBytes, c.accountStreams,
		c.leaderChanges, c.replAcks, c.replAckSecs, c.replicaLag} {
		ch <- d
	}
}

func (c *jsCollector) Collect(ch chan<- prometheus.Metric) {
	info := c.src()
	if info == nil {
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(c.streams, float64(info.Streams))
	g(c.messages, float64(info.Messages))
	g(c.bytes, float64(info.Store), "file")
	g(c.bytes, float64(info.Memory), "memory")
	g(c.lost, float64(info.LostMessages))
	ch <- prometheus.MustNewConstMetric(c.apiTotal, prometheus.CounterValue, float64(info.API.Total))
	ch <- prometheus.MustNewConstMetric(c.apiErrors, prometheus.CounterValue, float64(info.API.Errors))
	ch <- prometheus.MustNewConstMetric(c.advDropped, prometheus.CounterValue, float64(info.AdvisoriesDropped))
	ch <- prometheus.MustNewConstMetric(c.rpDropped, prometheus.CounterValue, float64(info.RepublishDropped))
	ch <- prometheus.MustNewConstMetric(c.ingestDropped, prometheus.CounterValue, float64(info.IngestDropped))
	ch <- prometheus.MustNewConstMetric(c.inboundDropped, prometheus.CounterValue, float64(info.ConsumerInboundDropped))
	if info.Meta != nil {
		ch <- prometheus.MustNewConstMetric(c.leaderChanges, prometheus.CounterValue, float64(info.LeaderChanges))
		ch <- prometheus.MustNewConstMetric(c.replAcks, prometheus.CounterValue, float64(info.ReplicatedAcks))
		ch <- prometheus.MustNewConstMetric(c.replAckSecs, prometheus.CounterValue, info.ReplicatedAckSecs)
	}
	for _, a := range info.AccountDetails {
		g(c.accountBytes, float64(a.Store), a.Name, "file")
		g(c.accountBytes, float64(a.Memory), a.Name, "memory")
		g(c.accountStreams, float64(len(a.Streams)), a.Name)
		for _, s := range a.Streams {
			g(c.streamMsgs, float64(s.State.Msgs), a.Name, s.Name)
			g(c.streamBytes, float64(s.State.Bytes), a.Name, s.Name)
			g(c.streamFirst, float64(s.State.FirstSeq), a.Name, s.Name)
			g(c.streamLast, float64(s.State.LastSeq), a.Name, s.Name)
			lost := 0
			if s.State.Lost != nil {
				lost = len(s.State.Lost.Msgs)
			}
			g(c.streamLost, float64(lost), a.Name, s.Name)
			g(c.streamDeleted, float64(s.State.NumDeleted), a.Name, s.Name)
			if s.Cluster != nil && s.Cluster.Leader != "" {
				for _, r := range s.Cluster.Replicas {
					g(c.replicaLag, float64(r.Lag), a.Name, s.Name, r.Name)
				}
			}
		}
	}
}
