package jetstream

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
)

// Mirrors and sources whose origin is on another server of the cluster.
//
// In a cluster a stream and its origin are placed independently, so the
// origin's messages may be on other servers. The server that answers for
// the origin (its leader, or its one server) serves reads of it on
// $JSC.SOURCE.<stream> in the account: a request names where to read
// from, a filter and how much, and the reply carries the messages as the
// log's message entries with the origin's last sequence. A copier whose
// origin is not hosted here reads through such requests (remoteOrigin),
// a batch at a time, polling when it is idle, so a copy lags its origin
// by at most about one poll (sourcePoll).

const (
	sourcePrefix = "$JSC.SOURCE."
	sourceBatch  = 256 << 10 // bytes of messages per reply
	sourceWait   = 2 * time.Second
	// sourceServing bounds the reads one stream serves at once.
	sourceServing = 4
)

// origin is what a copier reads: a store here, or a stream elsewhere.
type origin interface {
	LoadNext(filter string, seq uint64) (*store.Msg, error)
	LastSeq() uint64
	SeqAtTime(ts int64) uint64
}

// localOrigin reads a store of this server.
type localOrigin struct{ st store.Store }

func (o localOrigin) LoadNext(filter string, seq uint64) (*store.Msg, error) {
	return o.st.LoadNext(filter, seq)
}
func (o localOrigin) LastSeq() uint64           { return o.st.State().LastSeq }
func (o localOrigin) SeqAtTime(ts int64) uint64 { return store.SeqAtTime(o.st, ts) }

// sourceRequest asks for the origin's messages from From (or from the
// first at or after StartTime, unix ns, when From is 0).
type sourceRequest struct {
	From      uint64 `json:"from"`
	StartTime int64  `json:"start_time,omitempty"`
	Filter    string `json:"filter,omitempty"`
}

// An answer's body (peer_request.go) is the origin's last sequence (8
// bytes) and a stream.CatchUp holding the entries.

// sourceHandler serves reads of e's stream for copiers elsewhere.
func (m *jsAccount) sourceHandler(e *entry) core.MsgHandler {
	var busy atomic.Int32
	return func(msg *core.Msg) {
		servePeer(m, msg, &busy, sourceServing, func(req sourceRequest) ([]byte, error) { return readSource(e.s.Store(), req) })
	}
}

// readSource reads one answer's worth of messages.
func readSource(st store.Store, req sourceRequest) ([]byte, error) {
	from := req.From
	if from == 0 {
		from = 1
		if req.StartTime > 0 {
			from = store.SeqAtTime(st, req.StartTime)
		}
	}
	filter := req.Filter
	if filter == "" {
		filter = ">"
	}
	c := &stream.CatchUp{From: from, Next: from}
	size := 0
	for size < sourceBatch {
		msg, err := st.LoadNext(filter, c.Next)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		b := stream.EncodeEntry(&stream.Entry{Kind: stream.EntryMsg, Seq: msg.Seq, Time: msg.Time,
			Subject: msg.Subject, Header: msg.Header, Data: msg.Data, TTL: msg.TTL})
		c.Entries = append(c.Entries, b)
		c.Next = msg.Seq + 1
		size += len(b)
	}
	b, err := c.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return append(binary.LittleEndian.AppendUint64(nil, st.State().LastSeq), b...), nil
}

// remoteOrigin reads a stream another server answers for, a batch at a
// time. It is used by one copier goroutine only.
type remoteOrigin struct {
	name  string
	asker *peerAsker
	quit  <-chan struct{} // the copier's: a read in flight ends with it

	buf  []*store.Msg // read ahead, ascending
	last uint64
}

func (m *jsAccount) newRemoteOrigin(name string, quit <-chan struct{}) (*remoteOrigin, error) {
	asker, err := m.newPeerAsker("source")
	if err != nil {
		return nil, err
	}
	return &remoteOrigin{name: name, asker: asker, quit: quit}, nil
}

func (o *remoteOrigin) close() { o.asker.close() }

// LoadNext returns the first message at or after seq matching filter
// (the copier's own filter, which the reads carry), store.ErrNotFound when
// the origin has none yet or cannot be reached.
func (o *remoteOrigin) LoadNext(filter string, seq uint64) (*store.Msg, error) {
	for len(o.buf) > 0 && o.buf[0].Seq < seq {
		o.buf = o.buf[1:]
	}
	if len(o.buf) == 0 {
		if err := o.fetch(sourceRequest{From: seq, Filter: filter}); err != nil {
			return nil, store.ErrNotFound
		}
		if len(o.buf) == 0 {
			return nil, store.ErrNotFound
		}
	}
	// Kept until a later read asks past it: a message the copier could
	// not store is asked for again.
	return o.buf[0], nil
}

func (o *remoteOrigin) LastSeq() uint64 { return o.last }

// SeqAtTime reads the first batch from ts on, whose first sequence is
// the answer (the batch is kept for the reads that follow).
func (o *remoteOrigin) SeqAtTime(ts int64) uint64 {
	o.buf = nil
	if err := o.fetch(sourceRequest{StartTime: ts}); err != nil || len(o.buf) == 0 {
		return 0
	}
	return o.buf[0].Seq
}

// fetch asks for one batch and keeps it in buf.
func (o *remoteOrigin) fetch(req sourceRequest) error {
	body, _ := json.Marshal(req)
	b, err := o.asker.ask(sourcePrefix+o.name, body, sourceWait, o.quit)
	if err != nil {
		return err
	}
	if len(b) < 8 {
		return errors.New("short source read")
	}
	var c stream.CatchUp
	if err := c.UnmarshalBinary(b[8:]); err != nil {
		return err
	}
	o.last = binary.LittleEndian.Uint64(b)
	o.buf = o.buf[:0]
	for _, eb := range c.Entries {
		e, err := stream.DecodeEntry(eb)
		if err != nil {
			return err
		}
		o.buf = append(o.buf, &store.Msg{Seq: e.Seq, Time: e.Time, Subject: e.Subject,
			Header: append([]byte(nil), e.Header...), Data: append([]byte(nil), e.Data...), TTL: e.TTL})
	}
	return nil
}
