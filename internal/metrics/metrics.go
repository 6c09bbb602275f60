// Package metrics exposes a server's counters in the Prometheus exposition
// format (and OpenMetrics, when a scraper asks for it).
//
// Everything is read from the server at scrape time through Source: there is
// no background goroutine and nothing is added to the message path. Each
// handler owns a private registry rather than the global one, so several
// servers embedded in one process, and parallel tests, never collide.
//
// Later subsystems (JetStream streams and consumers) are expected to add their
// own Collector next to the server one, registered on the same registry by
// NewHandler. Their labels must stay bounded: per-stream and per-consumer
// labels are acceptable because operators create those deliberately, while
// per-connection or per-subject labels are not, because clients create them.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/subject"
)

// Source is what the collector reads from a server; *core.Server satisfies
// it. It is an interface so tests can scrape a fake.
type Source interface {
	ID() string
	Name() string
	Options() core.Options
	Stats() core.ServerStats
	SublistStats() subject.Stats
	Connections(withSubs bool) []core.ConnInfo
	Routes() []core.RouteSnapshot
}

var _ Source = (*core.Server)(nil)

// Bounds on the HTTP handler. A scrape walks every connection, so a burst of
// concurrent scrapes must not multiply that work without limit.
const (
	maxScrapesInFlight = 4
	scrapeTimeout      = 10 * time.Second
)

// NewHandler returns an http.Handler serving src's metrics together with
// the Go runtime and process metrics, all from a registry private to this
// handler.
func NewHandler(src Source) http.Handler {
	return handlerFor(NewRegistry(src))
}

// HandlerFor serves the metrics of a registry made by NewRegistry, after
// the caller registered collectors of its own on it.
func HandlerFor(reg *prometheus.Registry) http.Handler { return handlerFor(reg) }

func handlerFor(reg *prometheus.Registry) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A failing collector (process metrics are unavailable on some
		// platforms) should cost its own series, not the whole scrape.
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            reg,
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             scrapeTimeout,
		EnableOpenMetrics:   true,
	})
	return promhttp.InstrumentMetricHandler(reg, h)
}

// NewRegistry returns a fresh registry holding the server, route, Go
// runtime and process collectors, for callers that serve or push metrics
// themselves.
func NewRegistry(src Source) *prometheus.Registry {
	return newRegistry(newServerCollector(src, time.Now), newRouteCollector(src))
}

func newRegistry(own ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(own...)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// NewCollector returns a Collector for src's server metrics only, for
// callers adding them to a registry of their own.
func NewCollector(src Source) prometheus.Collector {
	return newServerCollector(src, time.Now)
}
