package sysacct

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/core"
)

// Bounds and timings.
const (
	maxQueuedRequests = 256
	maxQueuedEvents   = 4096
	// DefaultStatszInterval is the most time between two STATSZ events;
	// the first goes out after firstStatsz and the gap doubles up to it,
	// as nats-server does.
	DefaultStatszInterval = 10 * time.Second
	firstStatsz           = 250 * time.Millisecond
	// shutdownWait bounds how long Shutdown waits for its event to leave.
	shutdownWait = 2 * time.Second
)

var (
	errNoReporter    = errors.New("monitoring data not available")
	errNoReload      = errors.New("configuration reload not available: the server runs without a configuration file")
	errRequesterGone = errors.New("requesting client not found")
	errKickNoClient  = errors.New("no such client or leafnode id") // nats-server's words
)

// Config configures the services.
type Config struct {
	Reporter Reporter     // the monitoring data; nil until set (SetReporter)
	Reload   func() error // RELOAD's action; nil answers an error
	// Host, Domain and JetStream describe the server in every message.
	Host      string
	Domain    string
	JetStream bool
	// StatszInterval is the most time between STATSZ events (default 10s).
	StatszInterval time.Duration
	Logger         *slog.Logger
}

// publisher sends a message in the system account.
type publisher interface {
	Publish(subj, reply string, hdr, data []byte) (bool, error)
}

// Service runs the system account's requests and events.
type Service struct {
	srv     Server
	cfg     Config
	log     *slog.Logger
	sysName string
	pub     publisher
	rep     atomic.Pointer[reporterBox]

	importsMu sync.Mutex
	imported  map[*core.Account]bool // accounts given the system imports

	reqs chan *job
	evs  chan outEvent
	quit chan struct{}
	wg   sync.WaitGroup
	stop sync.Once
	// closed: SHUTDOWN is sent, nothing follows it.
	closed atomic.Bool

	reqDrops, evDrops atomic.Uint64
	closeFn           func() // undoes Start's hooks and subscriptions
}

type reporterBox struct{ Reporter }

// outEvent is an event waiting for the sender: build makes its subject
// and body with the server block it is given; done, when set, is closed
// once it is published.
type outEvent struct {
	build func(si *ServerInfo) (string, any)
	done  chan struct{}
	last  bool // SHUTDOWN: nothing is sent after it
}

func newService(srv Server, sysName string, pub publisher, cfg Config) *Service {
	if cfg.StatszInterval <= 0 {
		cfg.StatszInterval = DefaultStatszInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{srv: srv, cfg: cfg, log: cfg.Logger.With("component", "sysacct"), sysName: sysName, pub: pub,
		reqs: make(chan *job, maxQueuedRequests), evs: make(chan outEvent, maxQueuedEvents), quit: make(chan struct{})}
	s.SetReporter(cfg.Reporter)
	return s
}

// SetReporter sets (or replaces) the source of monitoring data.
func (s *Service) SetReporter(r Reporter) {
	if r == nil {
		s.rep.Store(nil)
		return
	}
	s.rep.Store(&reporterBox{r})
}

func (s *Service) reporter() Reporter {
	if b := s.rep.Load(); b != nil {
		return b.Reporter
	}
	return nil
}

// Dropped reports how many requests and events were dropped because
// their queue was full.
func (s *Service) Dropped() (requests, events uint64) {
	return s.reqDrops.Load(), s.evDrops.Load()
}

// run starts the worker and the sender.
func (s *Service) run() {
	s.wg.Add(2)
	go s.work()
	go s.send()
}

// Stop ends the goroutines; queued work is dropped.
func (s *Service) Stop() {
	if s == nil {
		return
	}
	s.stop.Do(func() {
		if s.closeFn != nil {
			s.closeFn()
		}
		close(s.quit)
	})
	s.wg.Wait()
}

func (s *Service) work() {
	defer s.wg.Done()
	for {
		select {
		case j := <-s.reqs:
			s.serve(j)
		case <-s.quit:
			return
		}
	}
}

func (s *Service) serve(j *job) {
	reply, send := s.answer(j)
	if !send {
		return
	}
	s.publish(j.reply, reply)
}

func (s *Service) send() {
	defer s.wg.Done()
	gap := min(firstStatsz, s.cfg.StatszInterval)
	t := time.NewTimer(gap)
	defer t.Stop()
	ended := false // SHUTDOWN went out
	for {
		select {
		case ev := <-s.evs:
			if !ended {
				subj, body := ev.build(s.serverInfo())
				s.publish(subj, body)
				ended = ev.last
			}
			if ev.done != nil {
				close(ev.done)
			}
		case <-t.C:
			s.sendStatsz()
			gap = min(2*gap, s.cfg.StatszInterval)
			t.Reset(gap)
		case <-s.quit:
			return
		}
	}
}

func (s *Service) sendStatsz() {
	if s.closed.Load() || s.reporter() == nil {
		return
	}
	stats, err := s.report("STATSZ", "", nil)
	if err != nil {
		s.log.Debug("statsz not sent", "err", err)
		return
	}
	s.publish(fmt.Sprintf(statszFmt, s.srv.ID()), &statszMsg{Server: s.serverInfo(), Stats: stats})
}

func (s *Service) publish(subj string, v any) {
	if subj == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("system message not encoded", "subject", subj, "err", err)
		return
	}
	if _, err := s.pub.Publish(subj, "", nil, b); err != nil {
		s.log.Debug("system message not sent", "subject", subj, "err", err)
	}
}

// queueEvent hands an event to the sender, or counts it dropped.
func (s *Service) queueEvent(ev outEvent) bool {
	if s.closed.Load() {
		return false
	}
	select {
	case s.evs <- ev:
		return true
	default:
		s.evDrops.Add(1)
		return false
	}
}

// ClientEvent queues a client event (core.EventSink).
func (s *Service) ClientEvent(ev core.ClientEvent) {
	id := s.srv.ID()
	s.queueEvent(outEvent{build: func(si *ServerInfo) (string, any) { return clientEvent(ev, id, si) }})
}

// ServerLameDuck queues the LAMEDUCK event (core.EventSink).
func (s *Service) ServerLameDuck() {
	subj := fmt.Sprintf(lameDuckFmt, s.srv.ID())
	s.queueEvent(outEvent{build: func(si *ServerInfo) (string, any) { return subj, si }})
}

// ServerShutdown sends the SHUTDOWN event and waits, bounded, until it is
// published, so it is on the routes before they close (core.EventSink).
func (s *Service) ServerShutdown() {
	subj := fmt.Sprintf(shutdownFmt, s.srv.ID())
	done := make(chan struct{})
	if s.closed.Swap(true) {
		return
	}
	// Events that passed the closed check just before are dropped by the
	// sender once this one is out.
	select {
	case s.evs <- outEvent{build: func(si *ServerInfo) (string, any) { return subj, si }, done: done, last: true}:
	default:
		s.evDrops.Add(1)
		return
	}
	t := time.NewTimer(shutdownWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-s.quit:
	}
}

// handle is the in-process subscription handler: it runs on the
// publisher's goroutine, so it only parses the subject and queues.
func (s *Service) handle(m *core.Msg) {
	req, ok := parseRequest(string(m.Subject), s.srv.ID())
	if !ok || (s.reporter() == nil && needsReporter(req)) {
		m.Declined = true
		return
	}
	if len(m.Reply) == 0 {
		return
	}
	j := &job{req: req, reply: string(m.Reply), hdr: append([]byte(nil), m.Header...),
		body: append([]byte(nil), m.Data...), client: m.Client}
	select {
	case s.reqs <- j:
	default:
		s.reqDrops.Add(1)
	}
}

// needsReporter reports whether the answer comes from the monitoring data.
func needsReporter(r request) bool {
	switch r.kind {
	case "IDZ", "KICK", "LDM", "RELOAD":
		return false
	}
	return r.scope != scopeUser
}
