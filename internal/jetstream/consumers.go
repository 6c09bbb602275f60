package jetstream

import (
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/vfs"
)

// Durable consumers keep their configuration in
// <stream dir>/consumers/<name>/meta and their delivery state in
// .../state, both checksummed and replaced atomically. State is written by
// one flusher every stateFlush when it changed, and at shutdown, so after
// a crash at most that much ack progress is lost: those messages are
// delivered again (at least once), never skipped.

const stateFile = "state"

// stateFlush is how often changed consumer state is written.
const stateFlush = 200 * time.Millisecond

func (m *jsAccount) flushConsumers() {
	defer m.wg.Done()
	t := time.NewTicker(stateFlush)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
			for _, e := range m.sortedStreams() {
				m.saveConsumerStates(e)
			}
		}
	}
}

// saveConsumerState writes one consumer's state if it changed (before an
// AckSync is confirmed).
func (m *jsAccount) saveConsumerState(e *entry, c *consumer.Consumer) {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	st, dirty := c.Snapshot()
	if !dirty {
		return
	}
	body, err := json.Marshal(st)
	if err == nil {
		err = vfs.WriteFileAtomic(m.fs, filepath.Join(m.consumerDir(e, c.Name()), stateFile), sealBody(body))
	}
	if err != nil {
		m.log.Error("consumer state not saved", "stream", e.s.Name(), "consumer", c.Name(), "err", err)
	}
}

// saveConsumerStates writes the state of e's durable consumers that
// changed. It runs every stateFlush and looks only at the consumers that
// keep state on disk, so a stream with 100,000 idle ephemeral consumers
// costs nothing here.
func (m *jsAccount) saveConsumerStates(e *entry) {
	if e.storage == jsapi.MemoryStorage { // memory streams keep nothing on disk
		return
	}
	for _, c := range e.persistentConsumers() {
		m.saveConsumerState(e, c)
	}
}

// persistentConsumers lists e's consumers that keep state on disk.
func (e *entry) persistentConsumers() []*consumer.Consumer {
	e.conMu.Lock()
	defer e.conMu.Unlock()
	out := make([]*consumer.Consumer, 0, len(e.persisting))
	for _, c := range e.persisting {
		out = append(out, c)
	}
	return out
}

// trackPersistingLocked notes a newly registered consumer that keeps
// state on disk (with conMu held, as it joins e.consumers).
func (e *entry) trackPersistingLocked(name string, c *consumer.Consumer) {
	if !c.Persists() {
		delete(e.persisting, name) // it may replace one that did
		return
	}
	if e.persisting == nil {
		e.persisting = map[string]*consumer.Consumer{}
	}
	e.persisting[name] = c
}

// stopConsumers stops every consumer of e, saving durable state first.
func (m *jsAccount) stopConsumers(e *entry) {
	m.saveConsumerStates(e)
	e.conMu.Lock()
	list := e.consumers
	e.consumers, e.persisting = nil, nil
	e.conMu.Unlock()
	for _, c := range list {
		c.Stop()
	}
	m.saveConsumerStatesOf(e, list)
}

// saveConsumerStatesOf saves what changed while the consumers stopped.
func (m *jsAccount) saveConsumerStatesOf(e *entry, list map[string]*consumer.Consumer) {
	if e.storage == jsapi.MemoryStorage || len(list) == 0 {
		return
	}
	if _, err := m.fs.Stat(m.streamDir(e.s.Name())); err != nil {
		return // the stream is being deleted
	}
	for name, c := range list {
		cfg := c.Config()
		if cfg.Durable == "" || cfg.MemoryStorage {
			continue
		}
		st, dirty := c.Snapshot()
		if !dirty {
			continue
		}
		if body, err := json.Marshal(st); err == nil {
			_ = vfs.WriteFileAtomic(m.fs, filepath.Join(m.consumerDir(e, name), stateFile), sealBody(body))
		}
	}
}

// recoverConsumers restarts e's durable consumers from disk.
func (m *jsAccount) recoverConsumers(e *entry) {
	dir := filepath.Join(m.streamDir(e.s.Name()), consumersDir)
	ents, err := m.fs.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		cdir := filepath.Join(dir, de.Name())
		b, err := vfs.ReadFile(m.fs, filepath.Join(cdir, metaFile))
		if err != nil {
			continue
		}
		body, err := unsealBody(b)
		var meta consumerMeta
		if err == nil {
			err = json.Unmarshal(body, &meta)
		}
		if err != nil {
			m.log.Error("consumer not recovered", "dir", cdir, "err", errConsumerMeta)
			continue
		}
		var state *consumer.State
		if sb, err := vfs.ReadFile(m.fs, filepath.Join(cdir, stateFile)); err == nil {
			if body, err := unsealBody(sb); err == nil {
				var st consumer.State
				if json.Unmarshal(body, &st) == nil {
					state = &st
				}
			} else {
				// A damaged state starts over from the ack floor we cannot
				// know: redeliver from the configured start.
				m.log.Warn("consumer state damaged; redelivering from the start", "consumer", meta.Config.Name)
			}
		}
		m.startConsumer(e, meta.Config, meta.Created, state)
	}
}

// nuidish is a random 22-character event ID.
func nuidish() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [22]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
