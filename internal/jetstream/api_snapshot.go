package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/snapshot"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/subject"
)

// $JS.API.STREAM.SNAPSHOT.<stream> streams a backup of the stream to the
// request's deliver subject, as nats-server does: the response (the
// configuration and state) first, then the archive (package snapshot) in
// chunks, each with a reply subject the receiver answers to open the
// window, then an empty message whose status header says how it ended.
// One goroutine writes the archive into a pipe, another cuts it into
// chunks and sends them, so neither holds more than a chunk.

const (
	defaultSnapshotChunk  = 128 << 10
	defaultSnapshotWindow = 8 << 20
	minSnapshotChunk      = 1 << 10
	maxSnapshotChunk      = 1 << 20
	maxSnapshotWindow     = 32 << 20
	// snapshotAckTimeout ends a snapshot whose receiver stopped
	// answering chunks; snapshotInterestWait is how long the deliver
	// subject may take to get a subscriber.
	snapshotAckTimeout   = 5 * time.Second
	snapshotInterestWait = 2 * time.Second
	snapshotPoll         = 100 * time.Millisecond
	// maxBackups bounds the snapshots and restores running at once.
	maxBackups = 16
)

var (
	errSnapshotInProgress = errors.New("snapshot in progress")
	errTooManyBackups     = errors.New("too many snapshots and restores in progress")
	errNoInterest         = errors.New("no interest")
	errNoFlowResponse     = errors.New("no flow response")
	errShuttingDown       = errors.New("server shutting down")
)

// backupState tracks the snapshots and restores in progress.
type backupState struct {
	mu        sync.Mutex
	snapshots map[string]bool // stream names
	restores  map[string]bool
}

// begin reserves name in set (snapshots or restores), within the
// server-wide bound.
func (b *backupState) begin(restore bool, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.snapshots == nil {
		b.snapshots, b.restores = map[string]bool{}, map[string]bool{}
	}
	set := b.snapshots
	if restore {
		set = b.restores
	}
	switch {
	case set[name] && restore:
		return jsapi.NewError(jsapi.ErrStreamNameExistRestoreFailed)
	case set[name]:
		return errSnapshotInProgress
	case len(b.snapshots)+len(b.restores) >= maxBackups:
		return errTooManyBackups
	}
	set[name] = true
	return nil
}

func (b *backupState) end(restore bool, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if restore {
		delete(b.restores, name)
	} else {
		delete(b.snapshots, name)
	}
}

// emptyRequest is nats-server's test for a request without a body: none,
// or a JSON object without fields.
func emptyRequest(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return true
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return false
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

func (m *jsAccount) streamSnapshot(r *request) any {
	resp := &jsapi.StreamSnapshotResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeSnapshotResponse}}
	if emptyRequest(r.data) {
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	var req jsapi.StreamSnapshotRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	if !subject.ValidLiteral(req.DeliverSubject) {
		resp.Error = jsapi.NewError(jsapi.ErrSnapshotDeliverSubjectInvalid)
		return resp
	}
	name := ent.s.Name()
	if err := m.backups.begin(false, m.backupKey(name)); err != nil {
		resp.Error = m.failed(jsapi.ErrStreamSnapshot, err)
		return resp
	}
	// The check of every message and the transfer take long: they run on
	// their own goroutine, which sends the response.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var once sync.Once
		release := func() { once.Do(func() { m.backups.end(false, m.backupKey(name)) }) }
		defer release()
		m.runSnapshot(ent, &req, r, release)
	}()
	return nil
}

// streamCopy is what a snapshot captured at its start: the messages up
// to state.LastSeq, and the consumers as they were then.
type streamCopy struct {
	ent       *entry
	cfg       jsapi.StreamConfig
	created   time.Time
	state     jsapi.StreamState
	consumers []consumerCopy
}

type consumerCopy struct {
	name    string
	cfg     jsapi.ConsumerConfig
	created time.Time
	state   consumer.State
}

// runSnapshot takes the snapshot; release frees the stream for the next
// one, which happens before the receiver hears the end.
func (m *jsAccount) runSnapshot(ent *entry, req *jsapi.StreamSnapshotRequest, r *request, release func()) {
	start := time.Now().UTC()
	name := ent.s.Name()
	client := m.clientInfo(r.client)
	resp := &jsapi.StreamSnapshotResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeSnapshotResponse}}
	if req.CheckMsgs {
		if err := checkMessages(ent.s.Store()); err != nil {
			m.log.Warn("snapshot refused", "stream", name, "err", err)
			resp.Error = m.failed(jsapi.ErrStreamSnapshot, err)
			release()
			m.respond(r, resp)
			return
		}
	}
	sc := captureStream(ent, !req.NoConsumers)
	resp.Config, resp.State = &sc.cfg, &sc.state
	m.respond(r, resp)
	m.log.Info("snapshot started", "stream", name, "deliver", req.DeliverSubject)
	m.advise(jsapi.AdvisorySnapshotCreate+"."+name, &jsapi.SnapshotCreateAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeSnapshotCreate), Stream: name, State: sc.state, Client: client, Domain: m.cfg.Domain,
	})
	err := m.sendSnapshot(sc, req, release)
	end := time.Now().UTC()
	adv := &jsapi.SnapshotCompleteAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeSnapshotComplete), Stream: name, Start: start, End: end, Client: client, Domain: m.cfg.Domain,
	}
	if err != nil {
		adv.Error = jsapi.PathFree(err).Error()
		m.log.Warn("snapshot failed", "stream", name, "after", end.Sub(start), "err", err)
	} else {
		m.log.Info("snapshot completed", "stream", name, "bytes", sc.state.Bytes, "took", end.Sub(start))
	}
	m.advise(jsapi.AdvisorySnapshotComplete+"."+name, adv)
}

// respond answers API request r from outside the workers, audited as
// the workers' answers are.
func (m *jsAccount) respond(r *request, resp any) {
	if e, ok := resp.(interface{ APIError() *jsapi.ApiError }); ok && e.APIError() != nil {
		m.apiErrors.Add(1)
	}
	if b := m.sendJSON(r.reply, resp); b != nil {
		m.audit(r, b)
	}
}

// sendJSON publishes resp on reply and returns what it sent.
func (m *jsAccount) sendJSON(reply string, resp any) []byte {
	b, err := json.Marshal(resp)
	if err != nil {
		m.log.Error("API response not encoded", "err", err)
		return nil
	}
	if _, err := m.api.Publish(reply, "", nil, b); err != nil {
		m.log.Debug("API response not sent", "err", err)
	}
	return b
}

// checkMessages reads every message, so damaged ones are found (and
// counted as lost by the store) before a snapshot starts.
func checkMessages(st store.Store) error {
	state := st.State()
	for seq := state.FirstSeq; seq <= state.LastSeq && seq > 0; {
		msg, err := st.LoadNext(">", seq)
		if err != nil {
			break
		}
		seq = msg.Seq + 1
	}
	if lost := len(st.State().Lost.Msgs); lost > 0 {
		return fmt.Errorf("snapshot check detected %d bad messages", lost)
	}
	return nil
}

func captureStream(ent *entry, withConsumers bool) *streamCopy {
	info := ent.info(false, "")
	sc := &streamCopy{ent: ent, cfg: info.Config, created: info.Created, state: info.State}
	if !withConsumers {
		return sc
	}
	for _, c := range ent.sortedConsumers() {
		sc.consumers = append(sc.consumers, consumerCopy{name: c.Name(), cfg: c.Config(), created: c.Created(), state: c.State()})
	}
	return sc
}

// sendSnapshot streams the archive of sc to the deliver subject within
// the flow-control window and ends with the status message.
func (m *jsAccount) sendSnapshot(sc *streamCopy, req *jsapi.StreamSnapshotRequest, release func()) error {
	chunkSize, window := snapshotWindow(req.ChunkSize, req.WindowSize)
	// One slot per chunk in flight: sending takes one, each ack gives one
	// back.
	slots := make(chan struct{}, window/chunkSize)
	for range cap(slots) {
		slots <- struct{}{}
	}
	ackPrefix := jsapi.SnapshotAckPrefix + sc.cfg.Name + "." + nuidish()
	sub, err := m.api.Subscribe(ackPrefix+".>", "", func(*core.Msg) {
		select {
		case slots <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	deliver := req.DeliverSubject
	if err := m.waitInterest(deliver); err != nil {
		return err
	}

	pr, pw := io.Pipe()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		pw.CloseWithError(writeArchive(pw, sc))
	}()
	// Unblocks the writer when sending stops early.
	defer pr.CloseWithError(errSnapshotAborted)

	buf := make([]byte, chunkSize)
	status, err := "204", error(nil)
	for index := 1; ; index++ {
		if err = m.waitSlot(slots, deliver); err != nil {
			status = snapshotStatus(err)
			break
		}
		n, rerr := io.ReadFull(pr, buf)
		if n > 0 {
			reply := ackPrefix + "." + strconv.Itoa(n) + "." + strconv.Itoa(index)
			if _, perr := m.api.Publish(deliver, reply, nil, buf[:n]); perr != nil {
				return perr
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break // the whole archive went out
		}
		if rerr != nil {
			err = rerr
			status = "500 " + statusText(rerr)
			break
		}
	}
	hdr := []byte("NATS/1.0 " + status + "\r\n\r\n")
	release()
	if _, perr := m.api.Publish(deliver, "", hdr, nil); perr != nil && err == nil {
		err = perr
	}
	return err
}

var errSnapshotAborted = errors.New("snapshot aborted")

// snapshotWindow applies the defaults and bounds nats-server applies to a
// requested chunk and window size.
func snapshotWindow(chunk, window int) (int, int) {
	if chunk <= 0 {
		chunk = defaultSnapshotChunk
	}
	if window <= 0 {
		window = defaultSnapshotWindow
	}
	chunk = min(max(chunk, minSnapshotChunk), maxSnapshotChunk)
	window = min(max(window, minSnapshotChunk), maxSnapshotWindow)
	return chunk, max(window, chunk)
}

// snapshotStatus is the final status for a snapshot cut short.
func snapshotStatus(err error) string {
	switch err {
	case errNoInterest:
		return "408 No Interest"
	case errNoFlowResponse:
		return "408 No Flow Response"
	}
	return "500 " + statusText(err)
}

// statusText makes err fit a status line.
func statusText(err error) string {
	s := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, jsapi.PathFree(err).Error())
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// waitInterest waits a little for a subscription on the deliver subject
// itself: clients subscribe after the response, and until then their
// request inbox (a wildcard) would swallow the chunks.
func (m *jsAccount) waitInterest(deliver string) error {
	if m.api.HasLiteralInterest(deliver) {
		return nil
	}
	deadline := time.NewTimer(snapshotInterestWait)
	defer deadline.Stop()
	tick := time.NewTicker(snapshotPoll / 10)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if m.api.HasLiteralInterest(deliver) {
				return nil
			}
		case <-deadline.C:
			// Perhaps a wildcard subscription receives it: go ahead if
			// anyone listens at all.
			if m.api.HasInterest(deliver) {
				return nil
			}
			return errNoInterest
		case <-m.quit:
			return errShuttingDown
		}
	}
}

// waitSlot waits for room in the window: an ack, while the receiver is
// still there, for at most snapshotAckTimeout.
func (m *jsAccount) waitSlot(slots chan struct{}, deliver string) error {
	select {
	case <-slots:
		return nil
	case <-m.quit:
		return errShuttingDown
	default:
	}
	deadline := time.NewTimer(snapshotAckTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(snapshotPoll)
	defer tick.Stop()
	for {
		select {
		case <-slots:
			return nil
		case <-tick.C:
			if !m.api.HasInterest(deliver) {
				return errNoInterest
			}
		case <-deadline.C:
			return errNoFlowResponse
		case <-m.quit:
			return errShuttingDown
		}
	}
}

// writeArchive writes sc's archive to w: the messages as the store holds
// them now, up to the last sequence captured, then the consumers as
// captured. A message deleted meanwhile is left out.
func writeArchive(w io.Writer, sc *streamCopy) (err error) {
	aw, err := snapshot.NewWriter(w, sc.cfg, sc.created)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, errSnapshotAborted) {
			// As nats-server: the archive says it is incomplete, so a
			// restore of whatever was saved refuses it.
			_ = aw.Fail(jsapi.PathFree(err).Error())
			_ = aw.Close()
		}
	}()
	st := sc.ent.s.Store()
	last := sc.state.LastSeq
	for seq := max(sc.state.FirstSeq, 1); seq <= last; {
		msg, lerr := st.LoadNext(">", seq)
		if errors.Is(lerr, store.ErrNotFound) {
			break
		}
		if lerr != nil {
			return fmt.Errorf("read message %d: %w", seq, lerr)
		}
		if msg.Seq > last {
			break
		}
		if err := aw.Append(msg.Seq, msg.Time, msg.Subject, msg.Header, msg.Data); err != nil {
			return err
		}
		seq = msg.Seq + 1
	}
	var lastTime int64
	if !sc.state.LastTime.IsZero() {
		lastTime = sc.state.LastTime.UnixNano()
	}
	if err := aw.EndMessages(last, lastTime); err != nil {
		return err
	}
	now := time.Now()
	for _, c := range sc.consumers {
		meta := &snapshot.ConsumerMeta{Created: c.created, Name: c.name, Config: c.cfg}
		if err := aw.AddConsumer(meta, archiveState(c.state, now), now); err != nil {
			return err
		}
	}
	return aw.Close()
}

// backupKey names a stream among every account's backups in progress.
func (m *jsAccount) backupKey(stream string) string { return m.name + "\x00" + stream }
