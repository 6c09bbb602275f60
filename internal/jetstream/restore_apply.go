package jetstream

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/snapshot"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
	"github.com/starling-mq/starling/internal/vfs"
)

// Turning an uploaded archive into a stream. The archive is read twice
// (snapshot.Scan checks it whole and collects what was deleted, then
// snapshot.Replay yields the messages), the store is filled away from the
// streams, and only a complete stream is moved into place and opened,
// under the admin lock and after checking again that its name and
// subjects are free. Any failure before that removes everything staged.

// maxRestoreSkips bounds the sequences a restore skips between messages
// (deleted messages of the backed-up stream). Skipping is cheap (about
// 150 ns each), so the bound only stops an archive that claims absurd
// sequence numbers from keeping a restore busy for hours.
const maxRestoreSkips = 1 << 28

// restoredConsumer is a consumer ready to start on the restored stream.
type restoredConsumer struct {
	cfg     jsapi.ConsumerConfig
	created time.Time
	state   *consumer.State
}

// persisted reports whether the consumer keeps files in the stream's
// directory (durable consumers of file streams).
func (c *restoredConsumer) persisted(storage jsapi.StorageType) bool {
	return c.cfg.Durable != "" && !c.cfg.MemoryStorage && storage != jsapi.MemoryStorage
}

// apply restores the stream from the staged upload.
func (j *restoreJob) apply() error {
	m, cfg := j.m, j.cfg
	man, err := snapshot.Scan(bufio.NewReaderSize(j.reader(), 256<<10), cfg.Name, snapshot.DefaultLimits)
	if err != nil {
		return err
	}
	for _, note := range man.Notes {
		m.log.Info("restore: "+note, "stream", cfg.Name)
	}
	cons, err := prepareConsumers(man.Consumers, cfg)
	if err != nil {
		return err
	}
	created := man.Stream.Created.UTC()
	if created.IsZero() {
		created = time.Now().UTC()
	}
	stage := filepath.Join(j.dir, "stream")
	st, err := m.openStoreIn(cfg, stage)
	if err != nil {
		return err
	}
	if err := j.fill(st, man); err != nil {
		st.Close()
		return err
	}
	if cfg.Storage == jsapi.MemoryStorage {
		return j.install(cfg, created, st, "", cons)
	}
	if err := st.Close(); err != nil {
		return err
	}
	if err := writeStaged(m.fs, stage, cfg, created, cons); err != nil {
		return err
	}
	if j.clustered {
		return j.installAssigned(cfg, created, stage, cons)
	}
	return j.install(cfg, created, nil, stage, cons)
}

// prepareConsumers checks every archived consumer against the stream
// before anything is created: one that this server refuses fails the
// restore, as in nats-server.
func prepareConsumers(archived []snapshot.Consumer, scfg jsapi.StreamConfig) ([]restoredConsumer, error) {
	if scfg.MaxConsumers > 0 && len(archived) > scfg.MaxConsumers {
		return nil, jsapi.NewError(jsapi.ErrMaximumConsumersLimit)
	}
	out := make([]restoredConsumer, 0, len(archived))
	for _, c := range archived {
		cfg, e := consumer.Normalize(restoredConfig(c.Meta.Config, c.Meta.Name), scfg, false)
		if e != nil {
			return nil, fmt.Errorf("consumer %q: %w", c.Meta.Name, e)
		}
		created := c.Meta.Created.UTC()
		if created.IsZero() {
			created = time.Now().UTC()
		}
		out = append(out, restoredConsumer{cfg: cfg, created: created, state: restoredState(c.State, cfg)})
	}
	return out, nil
}

// fill appends the archive's messages to st under their own sequences and
// times, skipping the sequences of deleted messages.
func (j *restoreJob) fill(st store.Store, man *snapshot.Manifest) error {
	memory := j.cfg.Storage == jsapi.MemoryStorage
	room := j.room()
	var used, skipped uint64
	next := uint64(1) // the sequence st gives the next message
	skipTo := func(target uint64) error {
		if target <= next {
			return nil
		}
		if st.State().Msgs == 0 {
			// Nothing stored yet: the store starts at target at once.
			_, err := st.Compact(target)
			next = target
			return err
		}
		if target-next > maxRestoreSkips-skipped {
			return fmt.Errorf("%w: more than %d deleted sequences between messages", snapshot.ErrCorrupt, maxRestoreSkips)
		}
		skipped += target - next
		for ; next < target; next++ {
			if _, err := st.Skip(); err != nil {
				return err
			}
			if next%(1<<16) == 0 && j.stopping() {
				return errShuttingDown
			}
		}
		return nil
	}
	err := snapshot.Replay(bufio.NewReaderSize(j.reader(), 256<<10), man, j.cfg.Name, func(rec *snapshot.Record) error {
		if err := skipTo(rec.Seq); err != nil {
			return err
		}
		subj, hdr, data := string(rec.Subject), rec.Header, rec.Data
		if memory {
			used += store.MemMsgSize(subj, hdr, data)
			// The memory store keeps what it is given; rec is the
			// reader's buffer.
			buf := make([]byte, len(hdr)+len(data))
			copy(buf, hdr)
			copy(buf[len(hdr):], data)
			hdr, data = buf[:len(hdr):len(hdr)], buf[len(hdr):]
		} else {
			used += store.FileMsgSize(subj, hdr, data)
		}
		if used > room {
			return jsapi.NewError(jsapi.ErrInsufficientResources)
		}
		if len(hdr) == 0 {
			hdr = nil
		}
		seq, err := st.Append(subj, hdr, data, rec.Time, messageTTL(hdr))
		if err != nil {
			return err
		}
		if seq != rec.Seq {
			return fmt.Errorf("store gave message %d sequence %d", rec.Seq, seq)
		}
		next = seq + 1
		return nil
	})
	if err != nil {
		return err
	}
	if err := skipTo(man.LastSeq + 1); err != nil {
		return err
	}
	return st.Sync()
}

// reader reads the staged upload from its start until the server shuts
// down, so a long restore does not hold a shutdown up.
func (j *restoreJob) reader() io.Reader {
	return &quitReader{r: io.NewSectionReader(j.file, 0, j.total), quit: j.m.quit}
}

type quitReader struct {
	r    io.Reader
	quit <-chan struct{}
}

func (q *quitReader) Read(p []byte) (int, error) {
	select {
	case <-q.quit:
		return 0, errShuttingDown
	default:
		return q.r.Read(p)
	}
}

func (j *restoreJob) stopping() bool {
	select {
	case <-j.m.quit:
		return true
	default:
		return false
	}
}

// room is how many bytes of the stream's storage type the server's
// JetStream limit leaves.
func (j *restoreJob) room() uint64 {
	limit := j.m.cfg.MaxStore
	if j.cfg.Storage == jsapi.MemoryStorage {
		limit = j.m.cfg.MaxMemory
	}
	if limit <= 0 {
		return math.MaxUint64
	}
	mem, file := j.m.usage()
	used := file
	if j.cfg.Storage == jsapi.MemoryStorage {
		used = mem
	}
	return uint64(limit) - min(used, uint64(limit))
}

// messageTTL is a message's per-message TTL from its Nats-TTL header.
func messageTTL(hdr []byte) int64 {
	if len(hdr) == 0 {
		return 0
	}
	v, ok := proto.HeaderValue(hdr, jsapi.HdrTTL)
	if !ok {
		return 0
	}
	secs, err := stream.ParseTTL(v)
	if err != nil || secs <= 0 {
		return 0
	}
	return secs * int64(time.Second)
}

// writeStaged writes the stream's and its durable consumers' metadata
// into the staged stream directory, in the layout openStream recovers.
func writeStaged(fsys vfs.FS, dir string, cfg jsapi.StreamConfig, created time.Time, cons []restoredConsumer) error {
	for i := range cons {
		c := &cons[i]
		if !c.persisted(cfg.Storage) {
			continue
		}
		cdir := filepath.Join(dir, consumersDir, c.cfg.Name)
		if err := vfs.MkdirAllSynced(fsys, cdir, 0o700); err != nil {
			return err
		}
		meta, err := encodeConsumerMeta(c.cfg, c.created)
		if err != nil {
			return err
		}
		if err := vfs.WriteFileAtomic(fsys, filepath.Join(cdir, metaFile), meta); err != nil {
			return err
		}
		if c.state == nil {
			continue
		}
		state, err := sealedState(c.state)
		if err != nil {
			return err
		}
		if err := vfs.WriteFileAtomic(fsys, filepath.Join(cdir, stateFile), state); err != nil {
			return err
		}
	}
	meta, err := encodeMeta(&streamMeta{Config: cfg, Created: created})
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, metaFile), meta)
}

// install makes the restored stream live: a memory stream over st, a
// file stream by moving the staged directory into place. Consumers that
// keep no files start here; durable ones were recovered from theirs.
func (j *restoreJob) install(cfg jsapi.StreamConfig, created time.Time, st store.Store, stage string, cons []restoredConsumer) error {
	m := j.m
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	fail := func(err error) error {
		if st != nil {
			st.Close()
		}
		return err
	}
	switch {
	case m.lookup(cfg.Name) != nil:
		return fail(jsapi.NewError(jsapi.ErrStreamNameExistRestoreFailed))
	case m.overlaps(&cfg, ""):
		return fail(jsapi.NewError(jsapi.ErrStreamSubjectOverlap))
	case j.stopping():
		return fail(errShuttingDown)
	}
	var ent *entry
	var err error
	if st != nil {
		ent, err = m.openStreamOn(cfg, created, st)
	} else {
		final := m.streamDir(cfg.Name)
		if err := m.clearStreamDir(final); err != nil {
			return err
		}
		if err := m.fs.Rename(stage, final); err != nil {
			return err
		}
		if err := m.fs.SyncDir(filepath.Dir(final)); err != nil {
			m.fs.RemoveAll(final)
			return err
		}
		if ent, err = m.openStream(cfg, created); err != nil {
			m.fs.RemoveAll(final)
		}
	}
	if err != nil {
		return err
	}
	for i := range cons {
		if c := &cons[i]; !c.persisted(cfg.Storage) {
			m.startConsumer(ent, c.cfg, c.created, c.state)
		}
	}
	if m.isClosed() {
		// Shutdown began meanwhile and may have missed the new stream.
		m.stopConsumers(ent)
		ent.stopSources()
		ent.close()
		return errShuttingDown
	}
	return nil
}

// clearStreamDir makes room for a restored stream at dir. A directory
// without metadata is what a create that crashed half-way leaves, and
// goes; one with metadata is a stream that could not be recovered at
// start, which is never deleted behind the operator's back.
func (m *jsAccount) clearStreamDir(dir string) error {
	_, err := m.fs.Stat(filepath.Join(dir, metaFile))
	switch {
	case err == nil:
		return fmt.Errorf("the directory of a stream of that name exists but was not recovered at start (%s); move it away first", dir)
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	return m.fs.RemoveAll(dir)
}

func (m *jsAccount) isClosed() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.closed
}

// encodeConsumerMeta is a durable consumer's meta file, as
// persistConsumer writes it.
func encodeConsumerMeta(cfg jsapi.ConsumerConfig, created time.Time) ([]byte, error) {
	body, err := json.Marshal(consumerMeta{Config: cfg, Created: created})
	if err != nil {
		return nil, err
	}
	return sealBody(body), nil
}
