package jetstream

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/vfs"
)

// $JS.API.STREAM.RESTORE.<stream> takes a backup back, as nats-server
// does: the response names a subject; the client sends the archive there
// in chunks, each a request answered with an empty message once stored,
// then an empty chunk, answered with the stream's info (a stream create
// response) or the error. The upload is staged in a file under the store
// directory and only then turned into a stream (restore_apply.go), so a
// broken upload or archive leaves nothing behind.

const (
	// restoreStall ends a restore whose client stopped sending.
	restoreStall = 5 * time.Second
	// restoreQueue chunks wait between the subscription and the restore
	// goroutine; a client waits for each ack, so one is the norm.
	restoreQueue = 8
	// stagingDir, under the store directory, holds uploads and streams
	// being restored; it is emptied at start.
	stagingDir = ".restore"
)

// restoreJob is one restore in progress.
type restoreJob struct {
	m        *jsAccount
	cfg      jsapi.StreamConfig
	dir      string // staging directory of this restore
	file     vfs.File
	subject  string // where the chunks come
	sub      *core.Subscription
	chunks   chan restoreChunk
	overflow chan string // reply of a chunk that found the queue full
	start    time.Time
	total    int64
	client   *jsapi.ClientInfo // who asked, for the advisories
	// clustered: the meta leader restores, and the stream is installed
	// through the meta group (restore_cluster.go).
	clustered bool
}

type restoreChunk struct {
	reply string
	data  []byte
}

func (m *jsAccount) streamRestore(r *request) any { return m.beginRestore(r, false) }

// beginRestore checks a restore request and starts receiving the archive;
// clustered, on the meta leader, the stream must be free in the meta
// group's state and placeable (restore_cluster.go).
func (m *jsAccount) beginRestore(r *request, clustered bool) any {
	resp := &jsapi.StreamRestoreResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeRestoreResponse}}
	if emptyRequest(r.data) {
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	var req jsapi.StreamRestoreRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	if req.Config.Name == "" {
		req.Config.Name = streamName(r.subject)
	}
	switch {
	case streamName(r.subject) != req.Config.Name:
		resp.Error = jsapi.NewError(jsapi.ErrStreamMismatch)
		return resp
	case strings.ContainsAny(req.Config.Name, `\/`):
		resp.Error = jsapi.NewError(jsapi.ErrStreamNameContainsPathSeparators)
		return resp
	}
	// Under adminMu, as for a create: the checks look at other streams
	// (origins, cycles). Install checks the name and overlaps again.
	m.adminMu.Lock()
	cfg, e := m.checkConfig(req.Config, false)
	m.adminMu.Unlock()
	if e != nil {
		resp.Error = e
		return resp
	}
	if clustered {
		e = m.restorable(cfg)
	} else if m.lookup(cfg.Name) != nil {
		e = jsapi.NewError(jsapi.ErrStreamNameExistRestoreFailed)
	}
	if e == nil {
		e = m.reserve(&cfg, true)
	}
	if e == nil && m.overlaps(&cfg, "") {
		e = jsapi.NewError(jsapi.ErrStreamSubjectOverlap)
	}
	if e != nil {
		resp.Error = e
		return resp
	}
	if err := m.backups.begin(true, m.backupKey(cfg.Name)); err != nil {
		resp.Error = m.failed(jsapi.ErrStreamRestore, err)
		return resp
	}
	j, e := m.newRestore(cfg, m.clientInfo(r.client))
	if e != nil {
		m.backups.end(true, m.backupKey(cfg.Name))
		resp.Error = e
		return resp
	}
	j.clustered = clustered
	m.log.Info("restore started", "stream", cfg.Name)
	m.advise(jsapi.AdvisoryRestoreCreate+"."+cfg.Name, &jsapi.RestoreCreateAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeRestoreCreate), Stream: cfg.Name, Client: j.client, Domain: m.cfg.Domain,
	})
	m.wg.Add(1)
	go j.run()
	resp.DeliverSubject = j.subject
	return resp
}

// newRestore creates the staging file and the chunk subscription.
func (m *jsAccount) newRestore(cfg jsapi.StreamConfig, client *jsapi.ClientInfo) (*restoreJob, *jsapi.ApiError) {
	root := filepath.Join(Dir(m.cfg.StoreDir), stagingDir)
	dir := vfs.TempName(root, "restore-")
	if err := m.fs.MkdirAll(dir, 0o700); err != nil {
		m.log.Error("restore staging directory", "err", err)
		return nil, jsapi.NewError(jsapi.ErrTempStorageFailed)
	}
	f, err := m.fs.OpenFile(filepath.Join(dir, "upload.tar.s2"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		m.fs.RemoveAll(dir)
		m.log.Error("restore staging file", "err", err)
		return nil, jsapi.NewError(jsapi.ErrTempStorageFailed)
	}
	j := &restoreJob{
		m: m, cfg: cfg, dir: dir, file: f, start: time.Now().UTC(), client: client,
		chunks:   make(chan restoreChunk, restoreQueue),
		overflow: make(chan string, 1),
	}
	j.subject = jsapi.RestoreDeliverPrefix + cfg.Name + "." + nuidish()
	sub, err := m.api.Subscribe(j.subject, "", j.take)
	if err != nil {
		j.cleanup()
		return nil, jsapi.NewError(jsapi.ErrRestoreSubscribeFailed, j.subject, err)
	}
	j.sub = sub
	return j, nil
}

// take runs on the sending client's goroutine: it only queues the chunk
// (copied, the message is the client's read buffer) for run.
func (j *restoreJob) take(msg *core.Msg) {
	c := restoreChunk{reply: string(msg.Reply), data: bytes.Clone(msg.Data)}
	select {
	case j.chunks <- c:
	default:
		select {
		case j.overflow <- c.reply:
		default:
		}
	}
}

// run stores the chunks until the empty one ends the upload, then
// restores the stream and answers.
func (j *restoreJob) run() {
	m := j.m
	defer m.wg.Done()
	reply, err := j.receive()
	// Everything staged goes, and the name is free again, before the
	// client hears the outcome and perhaps tries again.
	j.cleanup()
	m.backups.end(true, m.backupKey(j.cfg.Name))
	if err != errAbandoned {
		j.finish(err, reply)
	}
}

// errAbandoned ends a restore that has no one to answer.
var errAbandoned = errors.New("restore abandoned")

// receive stores chunks until the upload ends and restores the stream;
// it returns the reply subject to report the outcome on, and the outcome.
func (j *restoreJob) receive() (string, error) {
	m := j.m
	stall := time.NewTimer(restoreStall)
	defer stall.Stop()
	for {
		select {
		case c := <-j.chunks:
			if c.reply == "" {
				// Nowhere to report to or flow-control through.
				m.log.Warn("restore abandoned: a chunk came without a reply subject", "stream", j.cfg.Name)
				return "", errAbandoned
			}
			if len(c.data) == 0 {
				return c.reply, j.apply()
			}
			if err := j.store(c.data); err != nil {
				return c.reply, err
			}
			if _, err := m.api.Publish(c.reply, "", nil, nil); err != nil {
				m.log.Debug("restore chunk ack not sent", "err", err)
			}
			stall.Reset(restoreStall)
		case reply := <-j.overflow:
			return reply, errors.New("restore chunks sent without waiting for their acknowledgements")
		case <-stall.C:
			m.log.Warn("restore abandoned: no data for "+restoreStall.String(), "stream", j.cfg.Name, "bytes", j.total)
			return "", errAbandoned
		case <-m.quit:
			m.log.Warn("restore abandoned: server shutting down", "stream", j.cfg.Name)
			return "", errAbandoned
		}
	}
}

// store appends a chunk to the staging file, within the server's limit.
func (j *restoreJob) store(data []byte) error {
	j.total += int64(len(data))
	// The upload is staged on disk whatever the stream's storage, so it
	// counts against the file store limit, as in nats-server.
	if err := j.m.resourcesExceeded(jsapi.FileStorage, uint64(j.total)); err != nil {
		return err
	}
	if _, err := j.file.Write(data); err != nil {
		j.m.log.Error("restore staging write", "stream", j.cfg.Name, "err", err)
		return fmt.Errorf("storage failure during restore: %w", err)
	}
	return nil
}

// finish reports the end of the restore: the advisory, and the answer
// to the last chunk (when there is a reply subject).
func (j *restoreJob) finish(err error, reply string) {
	m, name := j.m, j.cfg.Name
	end := time.Now().UTC()
	m.advise(jsapi.AdvisoryRestoreComplete+"."+name, &jsapi.RestoreCompleteAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeRestoreComplete), Stream: name, Start: j.start, End: end, Bytes: j.total, Client: j.client, Domain: m.cfg.Domain,
	})
	resp := &jsapi.StreamCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamCreateResponse}}
	if err != nil {
		resp.Error = m.failed(jsapi.ErrStreamRestore, err)
		m.log.Warn("restore failed", "stream", name, "bytes", j.total, "took", end.Sub(j.start), "err", err)
	} else if ent := m.lookup(name); ent != nil {
		resp.StreamInfo = ent.info(false, "")
		m.log.Info("restore completed", "stream", name, "bytes", j.total, "took", end.Sub(j.start))
	}
	if reply != "" {
		// The answer to the last chunk, not to an API request: counted
		// but not audited, as in nats-server.
		if resp.Error != nil {
			m.apiErrors.Add(1)
		}
		m.sendJSON(reply, resp)
	}
}

// cleanup drops the subscription and everything staged.
func (j *restoreJob) cleanup() {
	if j.sub != nil {
		j.sub.Unsubscribe()
	}
	if err := j.file.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		j.m.log.Debug("restore staging file close", "err", err)
	}
	if err := j.m.fs.RemoveAll(j.dir); err != nil {
		j.m.log.Error("restore staging not removed", "dir", j.dir, "err", err)
	}
}
