package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/starling-mq/starling/internal/core"
)

// AccountSource is what the account collector reads; *core.Server
// satisfies it.
type AccountSource interface {
	AllAccountStats() []core.AccountStats
}

var _ AccountSource = (*core.Server)(nil)

// accountCollector reports each account's connections, subscriptions and
// traffic, labelled by account. Accounts are made by the operator's
// configuration, so the label stays bounded. The message counters are
// summed at scrape time from the connections' own counters (and the
// totals of the account's closed connections): nothing is counted per
// account on the message path.
type accountCollector struct {
	src AccountSource

	connections, subscriptions *prometheus.Desc
	inMsgs, outMsgs            *prometheus.Desc
	inBytes, outBytes          *prometheus.Desc
}

// NewAccountCollector returns a collector of src's per-account figures.
func NewAccountCollector(src AccountSource) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_account_"+name, help, []string{"account"}, nil)
	}
	return &accountCollector{
		src:           src,
		connections:   d("connections", "Client connections of the account currently open."),
		subscriptions: d("subscriptions", "Subscriptions in the account, its imports' included."),
		inMsgs:        d("in_messages_total", "Messages received from the account's clients."),
		outMsgs:       d("out_messages_total", "Messages delivered to the account's clients."),
		inBytes:       d("in_bytes_total", "Message bytes received from the account's clients."),
		outBytes:      d("out_bytes_total", "Message bytes delivered to the account's clients."),
	}
}

func (c *accountCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connections, c.subscriptions, c.inMsgs, c.outMsgs, c.inBytes, c.outBytes} {
		ch <- d
	}
}

func (c *accountCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.src.AllAccountStats() {
		emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, t, v, st.Name)
		}
		emit(c.connections, prometheus.GaugeValue, float64(st.Conns))
		emit(c.subscriptions, prometheus.GaugeValue, float64(st.Subscriptions))
		emit(c.inMsgs, prometheus.CounterValue, float64(st.InMsgs))
		emit(c.outMsgs, prometheus.CounterValue, float64(st.OutMsgs))
		emit(c.inBytes, prometheus.CounterValue, float64(st.InBytes))
		emit(c.outBytes, prometheus.CounterValue, float64(st.OutBytes))
	}
}
