package jetstream

import (
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Advisories, metric events and API audit events all leave through one
// bounded queue drained by one goroutine of their own. So sending one
// never blocks the caller (an API worker, a consumer holding its lock, a
// stream), and a subscriber's handler never runs on the caller's
// goroutine: a stream that captures $JS.EVENT.> ingests advisories on the
// advisor's goroutine, not inside the code that raised them. When the
// queue is full the event is dropped and counted (/jsz
// advisories_dropped, metric starling_jetstream_advisories_dropped_total).
//
// Events are encoded when raised (what they describe may change later)
// and only if someone subscribes to their subject, as nats-server does.

const (
	advisoryQueueLen   = 8192
	advisoryQueueBytes = 32 << 20 // audit events carry whole API responses
	advisoryWarnEvery  = 10 * time.Second
)

// eventPublisher is what the advisor needs of its core.InternalClient.
type eventPublisher interface {
	Publish(subject, reply string, hdr, data []byte) (bool, error)
	HasInterest(subject string) bool
	Close()
}

type advisor struct {
	pub      eventPublisher
	log      *slog.Logger
	ch       chan advisoryMsg
	maxBytes int64
	bytes    atomic.Int64 // encoded bytes queued
	sent     atomic.Uint64
	dropped  atomic.Uint64
	lastWarn atomic.Int64 // unix nanos of the last drop warning
}

type advisoryMsg struct {
	subject string
	body    []byte
}

func newAdvisor(pub eventPublisher, log *slog.Logger) *advisor {
	return newAdvisorSized(pub, log, advisoryQueueLen, advisoryQueueBytes)
}

// newAdvisorSized is newAdvisor with a queue of n events and maxBytes.
func newAdvisorSized(pub eventPublisher, log *slog.Logger, n int, maxBytes int64) *advisor {
	return &advisor{pub: pub, log: log, ch: make(chan advisoryMsg, n), maxBytes: maxBytes}
}

// interested reports whether anyone subscribes to subject.
func (a *advisor) interested(subject string) bool { return a.pub.HasInterest(subject) }

// send queues ev for subject when someone listens. It never blocks.
func (a *advisor) send(subject string, ev any) {
	if !a.interested(subject) {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("advisory not encoded", "subject", subject, "err", err)
		return
	}
	n := int64(len(b))
	if a.bytes.Add(n) > a.maxBytes {
		a.bytes.Add(-n)
		a.drop(subject)
		return
	}
	select {
	case a.ch <- advisoryMsg{subject, b}:
	default:
		a.bytes.Add(-n)
		a.drop(subject)
	}
}

func (a *advisor) drop(subject string) {
	a.dropped.Add(1)
	now := time.Now().UnixNano()
	last := a.lastWarn.Load()
	if now-last >= int64(advisoryWarnEvery) && a.lastWarn.CompareAndSwap(last, now) {
		a.log.Warn("JetStream advisory queue full, advisories dropped", "subject", subject, "dropped_total", a.dropped.Load())
	}
}

// run publishes queued events until quit closes, then those still queued.
func (a *advisor) run(quit <-chan struct{}) {
	for {
		select {
		case msg := <-a.ch:
			a.publish(msg)
		case <-quit:
			for {
				select {
				case msg := <-a.ch:
					a.publish(msg)
				default:
					return
				}
			}
		}
	}
}

func (a *advisor) publish(msg advisoryMsg) {
	a.bytes.Add(-int64(len(msg.body)))
	if _, err := a.pub.Publish(msg.subject, "", nil, msg.body); err != nil {
		a.log.Debug("advisory not sent", "subject", msg.subject, "err", err)
		return
	}
	a.sent.Add(1)
}

// advise sends an advisory or metric event on subject. It is the one way
// JetStream code publishes events: safe to call under any lock, never
// blocks, drops (and counts) when the queue is full. Other files of this
// package (snapshot and restore advisories, consumer advisories) call it
// with an event built on advisoryEvent.
func (m *jsAccount) advise(subject string, ev any) {
	if m.adv != nil {
		m.adv.send(subject, ev)
	}
}

// adviseWanted reports whether an event on subject would be sent, so an
// expensive event (the audit) is built only when someone listens.
func (m *jsAccount) adviseWanted(subject string) bool {
	return m.adv != nil && m.adv.interested(subject)
}

// advisoryEvent starts an event of type typ: a fresh ID, the time now.
func advisoryEvent(typ string) jsapi.TypedEvent {
	return jsapi.TypedEvent{Type: typ, ID: nuidish(), Time: time.Now().UTC()}
}

// adviseStream reports a stream created (jsapi.AdvisoryCreate), updated
// (ActionModify) or deleted (ActionDelete).
func (m *jsAccount) adviseStream(action, name string) {
	var prefix string
	switch action {
	case jsapi.AdvisoryCreate:
		prefix = jsapi.AdvisoryStreamCreated
	case jsapi.AdvisoryModify:
		prefix = jsapi.AdvisoryStreamUpdated
	case jsapi.AdvisoryDelete:
		prefix = jsapi.AdvisoryStreamDeleted
	default:
		return
	}
	m.advise(prefix+"."+name, &jsapi.StreamActionAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeStreamAction), Stream: name, Action: action, Domain: m.cfg.Domain,
	})
}

// adviseStreamLeader reports this server leading stream name. A single
// server leads every stream from the moment it is created or recovered,
// so this is sent once then.
func (m *jsAccount) adviseStreamLeader(name string) {
	subj := jsapi.AdvisoryStreamLeaderElected + "." + name
	if !m.adviseWanted(subj) {
		return
	}
	m.advise(subj, &jsapi.StreamLeaderElectedAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeStreamLeaderElected),
		Stream:     name,
		Leader:     m.srv.Name(),
		Replicas:   m.selfPeers(),
		Domain:     m.cfg.Domain,
	})
}

// adviseConsumerLeader is adviseStreamLeader for a consumer.
func (m *jsAccount) adviseConsumerLeader(stream, consumer string) {
	subj := jsapi.AdvisoryConsumerLeaderElected + "." + stream + "." + consumer
	if !m.adviseWanted(subj) {
		return
	}
	m.advise(subj, &jsapi.ConsumerLeaderElectedAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeConsumerLeaderElected),
		Stream:     stream,
		Consumer:   consumer,
		Leader:     m.srv.Name(),
		Replicas:   m.selfPeers(),
		Domain:     m.cfg.Domain,
	})
}

// selfPeers is the replica list of a group of one: this server, current.
func (m *jsAccount) selfPeers() []*jsapi.PeerInfo {
	return []*jsapi.PeerInfo{{Name: m.srv.Name(), Current: true, Peer: peerID(m.srv.Name())}}
}

// peerID is a short stable ID for a server name, like the 8-character
// peer IDs clustered servers report.
func peerID(name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(name))
	var b [8]byte
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b[:])
}

// audit reports an API request served and its response, when someone
// subscribes to $JS.EVENT.ADVISORY.API.
func (m *jsAccount) audit(r *request, response []byte) {
	if !m.adviseWanted(jsapi.AdvisoryAPI) {
		return
	}
	m.advise(jsapi.AdvisoryAPI, &jsapi.APIAudit{
		TypedEvent: advisoryEvent(jsapi.TypeAPIAudit),
		Server:     m.srv.Name(),
		Client:     m.clientInfo(r.client),
		Subject:    r.subject,
		Request:    string(r.data),
		Response:   string(response),
		Domain:     m.cfg.Domain,
	})
}

// clientInfo describes the connection cid for an event, nil for an
// in-process requester. A connection gone since its request is named by
// its ID only.
func (m *jsAccount) clientInfo(cid uint64) *jsapi.ClientInfo {
	if cid == 0 {
		return nil
	}
	ci := &jsapi.ClientInfo{ID: cid, Account: m.name, Server: m.srv.Name(), Kind: "Client", ClientType: "nats"}
	if c, ok := m.srv.Connection(cid); ok {
		start := c.Start.UTC()
		ci.Start = &start
		ci.Host, ci.User, ci.Name, ci.Lang, ci.Version, ci.RTT = c.IP, c.User, c.Name, c.Lang, c.Version, c.RTT
	}
	return ci
}

// advisoryStats counts events sent and dropped because the queue was full.
func (m *jsAccount) advisoryStats() (sent, dropped uint64) {
	if m.adv == nil {
		return 0, 0
	}
	return m.adv.sent.Load(), m.adv.dropped.Load()
}
