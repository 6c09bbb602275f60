// Package monitor serves nats-server's HTTP monitoring endpoints (/varz,
// /connz, /subsz, /healthz) over a core server. Field names, value formats
// and query parameters follow nats-server so that existing dashboards and
// tools read them unchanged.
package monitor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jetstream"
	"github.com/starling-mq/starling/internal/metrics"
)

// Server is the monitoring HTTP listener.
type Server struct {
	core *core.Server
	log  *slog.Logger
	http *http.Server

	mu       sync.Mutex
	ln       net.Listener
	tlsLn    net.Listener
	reqStats map[string]uint64
	cpu      cpuSampler
	js       *jetstream.Manager // nil without JetStream
	heavy    *limiter           // turns for the expensive endpoints
}

// New returns a monitoring server for cs; Start listens on the options'
// HTTPHost:HTTPPort.
func New(cs *core.Server, log *slog.Logger) *Server {
	m := &Server{core: cs, log: log, reqStats: map[string]uint64{},
		heavy: newLimiter(DefaultMaxConcurrent, DefaultQueueWait)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", m.handleRoot)
	mux.HandleFunc("/varz", m.handleVarz)
	mux.HandleFunc("/connz", m.limited(m.handleConnz))
	mux.HandleFunc("/subsz", m.limited(m.handleSubsz))
	mux.HandleFunc("/subscriptionsz", m.limited(m.handleSubsz))
	mux.HandleFunc("/healthz", m.handleHealthz)
	mux.HandleFunc("/routez", m.handleRoutez)
	mux.HandleFunc("/accountz", m.handleAccountz)
	mux.HandleFunc("/accstatz", m.limited(m.handleAccountStatz))
	mux.HandleFunc("/jsz", m.limited(m.handleJsz))
	// Prometheus, built in: nats-server needs a separate exporter for this.
	reg := metrics.NewRegistry(cs)
	reg.MustRegister(metrics.NewAccountCollector(cs))
	reg.MustRegister(metrics.NewJetStreamCollector(func() *jetstream.JSInfo {
		if js := m.jetStream(); js != nil {
			return js.JSZ(cs.ID(), jetstream.JSZOptions{Streams: true})
		}
		return nil
	}))
	metricsHandler := metrics.HandlerFor(reg)
	mux.HandleFunc("/metrics", m.limited(func(w http.ResponseWriter, r *http.Request) {
		m.count("/metrics")
		metricsHandler.ServeHTTP(w, r)
	}))
	m.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
	return m
}

// Start listens and serves in the background: plain HTTP on HTTPPort and
// HTTPS on HTTPSPort, whichever are set.
func (m *Server) Start() error {
	opts := m.core.Options()
	if opts.HTTPPort != 0 {
		ln, err := listen(opts.HTTPHost, opts.HTTPPort)
		if err != nil {
			return fmt.Errorf("listen for monitoring: %w", err)
		}
		m.mu.Lock()
		m.ln = ln
		m.mu.Unlock()
		m.serve(ln, "http")
	}
	if opts.HTTPSPort != 0 {
		ln, err := listen(opts.HTTPHost, opts.HTTPSPort)
		if err != nil {
			return fmt.Errorf("listen for https monitoring: %w", err)
		}
		m.mu.Lock()
		m.tlsLn = ln
		m.mu.Unlock()
		// The TLS settings in force at each handshake, so a reload's new
		// certificates serve monitoring as they serve clients.
		live := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return m.core.Options().TLSConfig, nil
		}}
		m.serve(tls.NewListener(ln, live), "https")
	}
	return nil
}

func listen(host string, port int) (net.Listener, error) {
	if port == core.RandomPort {
		port = 0
	}
	return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

func (m *Server) serve(ln net.Listener, scheme string) {
	m.log.Info("monitoring listening", "addr", scheme+"://"+ln.Addr().String())
	go func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("monitoring server stopped", "err", err)
		}
	}()
}

// TLSAddr returns the HTTPS listener address, nil when there is none.
func (m *Server) TLSAddr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tlsLn == nil {
		return nil
	}
	return m.tlsLn.Addr()
}

// Addr returns the listener address, nil before Start.
func (m *Server) Addr() net.Addr {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln == nil {
		return nil
	}
	return m.ln.Addr()
}

// Shutdown stops the listener and waits for requests in flight.
func (m *Server) Shutdown(ctx context.Context) error {
	return m.http.Shutdown(ctx)
}

// count records a request for /varz's http_req_stats.
func (m *Server) count(path string) {
	m.mu.Lock()
	m.reqStats[path]++
	m.mu.Unlock()
}

func (m *Server) requestStats() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]uint64, len(m.reqStats))
	for k, v := range m.reqStats {
		out[k] = v
	}
	return out
}

// writeJSON sends v indented as nats-server does, wrapped for JSONP when a
// callback is given.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, r, http.StatusOK, body)
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	if cb := r.URL.Query().Get("callback"); cb != "" {
		h.Set("Content-Type", "application/javascript")
		body = append(append([]byte(cb+"("), body...), ')')
	} else {
		h.Set("Content-Type", "application/json")
		h.Set("Access-Control-Allow-Origin", "*")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// badRequest answers 400 with a plain-text message, as nats-server does.
func badRequest(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(msg))
}
