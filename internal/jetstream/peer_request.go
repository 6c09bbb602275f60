package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/core"
)

// Requests from one server to another over the account's internal client,
// for what the JetStream API does not carry: a stream's catch-up pieces
// ($JSC.CATCHUP, replica_catchup.go) and reads of an origin for a copy
// elsewhere ($JSC.SOURCE, source_remote.go). An answer is a status byte,
// then the body or an error text.

const (
	peerOK  = 0
	peerErr = 1
)

// errStopped: the wait for an answer ended because the stream or the
// cluster stopped.
var errStopped = errors.New("stream no longer hosted")

// answerPeer sends body, or err's text when err is set, to reply.
func (m *jsAccount) answerPeer(reply string, body []byte, err error) {
	var out []byte
	if err != nil {
		out = append([]byte{peerErr}, err.Error()...)
	} else {
		out = append([]byte{peerOK}, body...)
	}
	if _, err := m.api.Publish(reply, "", nil, out); err != nil {
		m.log.Debug("request from a peer not answered", "err", err)
	}
}

// servePeer answers a peer's request with what serve makes of its JSON
// body, on a goroutine of its own (the handler runs on the publisher's),
// and at most limit at a time per busy counter: past it the answer is
// "busy", and the peer asks elsewhere or later.
func servePeer[Req any](m *jsAccount, msg *core.Msg, busy *atomic.Int32, limit int32, serve func(Req) ([]byte, error)) {
	if len(msg.Reply) == 0 {
		return
	}
	reply := string(msg.Reply)
	var req Req
	if err := json.Unmarshal(msg.Data, &req); err != nil {
		m.answerPeer(reply, nil, err)
		return
	}
	if busy.Add(1) > limit {
		busy.Add(-1)
		m.answerPeer(reply, nil, errors.New("busy"))
		return
	}
	m.cl.wg.Add(1)
	go func() {
		defer m.cl.wg.Done()
		defer busy.Add(-1)
		b, err := serve(req)
		m.answerPeer(reply, b, err)
	}()
}

// peerAsker sends requests one at a time and takes their answers on an
// inbox of its own: each request names a reply subject of its own under
// it, so a late answer to an earlier request is dropped. One goroutine
// uses it.
type peerAsker struct {
	m       *jsAccount
	inbox   string
	replies chan []byte
	sub     *core.Subscription
	n       uint64 // requests sent
	want    atomic.Uint64
}

// newPeerAsker subscribes a new inbox; kind names it in the subject.
func (m *jsAccount) newPeerAsker(kind string) (*peerAsker, error) {
	a := &peerAsker{m: m, replies: make(chan []byte, 1)}
	a.inbox = "_INBOX.starling." + kind + "." + strconv.FormatUint(m.cl.node.ID, 16) + "." + strconv.FormatUint(m.nextPeerInbox.Add(1), 10)
	sub, err := m.api.Subscribe(a.inbox+".*", "", func(msg *core.Msg) {
		if n, err := strconv.ParseUint(string(msg.Subject[len(a.inbox)+1:]), 10, 64); err != nil || n != a.want.Load() {
			return
		}
		select {
		case a.replies <- append([]byte(nil), msg.Data...):
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	a.sub = sub
	return a, nil
}

func (a *peerAsker) close() { a.sub.Unsubscribe() }

// ask sends body to subject and returns the answer's body: an error when
// nobody takes the request, when the answer is an error or does not come
// within wait, and errStopped when stop (may be nil) or the cluster ends
// first.
func (a *peerAsker) ask(subject string, body []byte, wait time.Duration, stop <-chan struct{}) ([]byte, error) {
	a.n++
	a.want.Store(a.n)
	select {
	case <-a.replies: // a stale one
	default:
	}
	if ok, err := a.m.api.Publish(subject, a.inbox+"."+strconv.FormatUint(a.n, 10), nil, body); err != nil {
		return nil, err
	} else if !ok {
		return nil, errors.New("no server takes the request (not hosting it, electing, or unreachable)")
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case b := <-a.replies:
		switch {
		case len(b) == 0:
			return nil, errors.New("empty answer")
		case b[0] != peerOK:
			return nil, fmt.Errorf("refused: %s", b[1:])
		}
		return b[1:], nil
	case <-t.C:
		return nil, errors.New("no answer")
	case <-stop:
	case <-a.m.cl.done:
	}
	return nil, errStopped
}
