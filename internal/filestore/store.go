package filestore

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

var _ store.Store = (*Store)(nil)

// Defaults for Config's zero values.
const (
	DefaultSegmentSize = 8 << 20
	DefaultCacheBytes  = 4 << 20
	DefaultBufferSize  = 1 << 20

	DefaultCheckpointInterval = 15 * time.Second

	minSegmentSize = 512
	maxSegmentSize = 1 << 30 // offsets are uint32: a segment plus one maxRecord stays below 4 GiB
)

// Config configures a file store. The zero value is a durable store with
// default sizes.
type Config struct {
	// SyncInterval 0 means sync always: Durable acknowledges only after
	// fdatasync. Above 0, Durable acknowledges once the data is written to
	// the operating system (it survives the process being killed, not a
	// power loss) and the log is synced every SyncInterval.
	SyncInterval time.Duration
	// SegmentSize is the size at which the log moves to a new segment file.
	SegmentSize int64
	// CacheBytes bounds the cache of recently read blocks when Cache is
	// nil; negative disables it.
	CacheBytes int64
	// Cache is the read cache shared by the server's stores; nil gives the
	// store one of its own of CacheBytes.
	Cache *BlockCache
	// IndexBytes bounds the memory of the per-message indexes kept for
	// sealed segments (lazy.go); 0 means DefaultIndexBytes. One segment's
	// index is kept whatever the bound.
	IndexBytes int64
	// CheckpointInterval is how often, at most, the index checkpoint is
	// written while the store is open (checkpoint.go); it is also written
	// at Close. 0 means DefaultCheckpointInterval; negative means only at
	// Close.
	CheckpointInterval time.Duration
	// BufferSize bounds the bytes Append buffers before writing them to
	// the operating system itself instead of waiting for the syncer.
	BufferSize int
	// Compression is "" (or "none") or "s2", for message payloads.
	Compression string
	Logger      *slog.Logger
	// Replica marks the store of one replica of a replicated stream, whose
	// durable copy is the Raft log until the store syncs: a tail lost
	// with unsynced writes is refilled from the log at restart, so
	// recovery neither reports it lost nor moves the last sequence past
	// what the store holds (the high-water mark and its reservation
	// guard stores whose own log is the only copy).
	Replica bool
	// BootID identifies the machine's boot (see highwater.go); empty means
	// the running machine's. Tests set it to model a reboot.
	BootID string
	// Handles is the cache of open files shared by the server's stores
	// (see handles.go); nil gives the store one of its own with
	// DefaultMaxOpenFiles.
	Handles *Handles
	// Workers runs the background work of the server's stores (see
	// workers.go); nil gives the store a pool of its own.
	Workers *Workers
}

func (c *Config) validate() error {
	if c.SyncInterval < 0 {
		return fmt.Errorf("filestore: negative sync interval %v", c.SyncInterval)
	}
	if c.SegmentSize == 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.SegmentSize < minSegmentSize || c.SegmentSize > maxSegmentSize {
		return fmt.Errorf("filestore: segment size %d outside [%d, %d]", c.SegmentSize, minSegmentSize, maxSegmentSize)
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.IndexBytes <= 0 {
		c.IndexBytes = DefaultIndexBytes
	}
	if c.BufferSize <= 0 {
		c.BufferSize = DefaultBufferSize
	}
	switch c.Compression {
	case "", "none", "s2":
	default:
		return fmt.Errorf("filestore: unknown compression %q", c.Compression)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BootID == "" {
		c.BootID = machineBoot()
	}
	if c.Handles == nil {
		c.Handles, _ = NewHandles(DefaultMaxOpenFiles)
	}
	if c.Workers == nil {
		c.Workers = NewWorkers(DefaultWorkers)
	}
	return nil
}

// Store is a file store for one stream. See the package documentation for
// the format.
//
// Lock order: syncMu, then mu, then the cache's lock. syncMu serialises
// sync cycles and the operations that remove or replace files (purge,
// compact, segment rewrites), so a sync never races a file's removal. mu
// guards all state below; it is held for writes to the operating system
// (a memory copy) but never across fsync, and callbacks run with neither
// lock held.
type Store struct {
	fs     vfs.FS
	dir    string
	cfg    Config
	log    *slog.Logger
	cache  *BlockCache
	cstats cacheStats

	syncMu sync.Mutex
	mu     sync.Mutex
	closed bool
	err    error // first write or sync failure: the store is then read-only

	segs    []*segment // log order; the last is the active one
	idxLRU  []*segment // sealed segments with a loaded index, least recently used first
	idxUsed bool       // an index in idxLRU was used since the last idle check
	active  *segment
	held    *rfile // the active file, held open while records are buffered for it
	heldHW  *rfile // the high-water file, held with it
	nextID  uint64
	buf     []byte // records not yet written to the active file
	flushed int64  // active file bytes written to the OS (buf starts here)

	msgs       uint64
	bytes      uint64
	first      uint64 // first live sequence when !firstStale and msgs > 0
	firstStale bool
	last       uint64
	lastTime   int64
	floor      uint64 // every sequence below is gone (Compact, purge)
	firstTS    int64  // time of message firstTSSeq, cached for State
	firstTSSeq uint64
	subj       subjects

	lost      []uint64 // corrupt records, sorted
	lostBytes uint64
	missing   spans    // sequences found missing at open (segments or tail gone)
	lostView  []uint64 // State's list of both, built on demand, shared

	// Durability.
	written   uint64 // highest sequence written to the OS
	synced    uint64 // highest sequence on stable storage
	marked    uint64 // highest sequence a high-water slot names
	marks     *markWriter
	unsynced  bool // the active file has writes not yet synced
	dirty     []*rfile
	dirSync   bool // a segment file was created since the last sync
	waiters   []waiter
	maintQ    []*segment
	quit      chan struct{} // closed by Close: background work stops
	storeWork               // background work (workers.go)
	syncs     atomic.Uint64
	compacts  atomic.Uint64

	// Index checkpoints (checkpoint.go) and counters for tests.
	ckLast      ckPrint       // guarded by syncMu
	ckTimer     *time.Timer   // the index timer (guarded by mu)
	ckAt        time.Time     // last periodic checkpoint (maintenance lane only)
	idleAt      time.Time     // last idle drop (maintenance lane only)
	checkpoints atomic.Uint64 // checkpoints written
	scanned     atomic.Uint64 // records read by the open's scan
	reread      atomic.Uint64 // records read to rebuild dropped indexes
}

// waiter is a Durable callback; err is its outcome once resolved.
type waiter struct {
	seq uint64
	fn  func(error)
	err error
}

// Open opens the store in dir, creating it if needed, and recovers its
// contents from the log.
func Open(fsys vfs.FS, dir string, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Cache == nil {
		cfg.Cache = NewBlockCache(cfg.CacheBytes)
	}
	s := &Store{
		fs:     fsys,
		dir:    dir,
		cfg:    cfg,
		log:    cfg.Logger.With("dir", dir),
		cache:  cfg.Cache,
		subj:   newSubjects(),
		nextID: 1,
		quit:   make(chan struct{}),
	}
	s.initLanes()
	if err := vfs.MkdirAllSynced(fsys, dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.start()
	s.startIndexTimer()
	return s, nil
}

func (s *Store) segPath(id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x.seg", id))
}

// segFile names segment id's file, not yet open.
func (s *Store) segFile(id uint64) *rfile {
	return newRfile(s.cfg.Handles, s.fs, s.segPath(id))
}

// holdLocked keeps the active file and the high-water file open until the
// records about to be buffered are written out and their group commit is
// done, so an append is refused (not the store failed) when no descriptor
// is free.
func (s *Store) holdLocked() error {
	if s.held == nil {
		if err := s.active.f.hold(); err != nil {
			return err
		}
		s.held = s.active.f
		// The syncer's next commit ends the hold: make sure there is one
		// even if nobody waits for durability (a write-out, not a sync:
		// durability stays what Durable and the interval ask for).
		s.schedule(workFlush)
	}
	if s.heldHW == nil && s.marks != nil {
		if err := s.marks.f.hold(); err != nil {
			return err
		}
		s.heldHW = s.marks.f
	}
	return nil
}

// takeHoldLocked makes f, a new active file held since its creation, the
// held one.
func (s *Store) takeHoldLocked(f *rfile) {
	if s.held != nil {
		s.held.unhold()
	}
	s.held = f
}

// unholdLocked lets the cache close the files once nothing is buffered.
func (s *Store) unholdLocked() {
	if len(s.buf) > 0 {
		return
	}
	if s.held != nil {
		s.held.unhold()
		s.held = nil
	}
	if s.heldHW != nil {
		s.heldHW.unhold()
		s.heldHW = nil
	}
}

// transient reports an error that refuses one operation without failing
// the store.
func transient(err error) bool { return errors.Is(err, ErrTooManyOpenFiles) }

// Syncs returns how many times the log was synced (for monitoring and
// for checking that appenders share syncs).
func (s *Store) Syncs() uint64 { return s.syncs.Load() }

// Stats is a snapshot of the store's internals for monitoring.
type Stats struct {
	Segments    int
	Syncs       uint64
	Compactions uint64
	CacheHits   uint64
	CacheMisses uint64
	Err         error // the failure that stopped writes, if any
}

// Stats returns internal counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Segments:    len(s.segs),
		Syncs:       s.syncs.Load(),
		Compactions: s.compacts.Load(),
		CacheHits:   s.cstats.hits.Load(),
		CacheMisses: s.cstats.miss.Load(),
		Err:         s.err,
	}
}

// Lost returns the messages found corrupt or missing (also in
// State().Lost).
func (s *Store) Lost() store.LostData {
	s.mu.Lock()
	defer s.mu.Unlock()
	ld := s.lostLocked()
	ld.Msgs = slices.Clone(ld.Msgs)
	return ld
}

// maxLostListed bounds the sequences State lists as lost, so a lost
// segment of tiny messages cannot make a stream info reply too large; the
// log names every lost range.
const maxLostListed = 10_000

func (s *Store) lostLocked() store.LostData {
	if len(s.lost) == 0 && len(s.missing) == 0 {
		return store.LostData{}
	}
	if s.lostView == nil {
		s.lostView = mergeLost(s.lost, s.missing, maxLostListed)
	}
	return store.LostData{Msgs: s.lostView, Bytes: s.lostBytes}
}

// mergeLost lists the sequences of corrupt and missing, ascending, at most
// limit (> 0) of them.
func mergeLost(corrupt []uint64, missing spans, limit int) []uint64 {
	var out []uint64
	room := func(seq uint64) bool { // adds seq; false once the list is full
		if n := len(out); n == 0 || out[n-1] != seq {
			out = append(out, seq)
		}
		return len(out) < limit
	}
	i := 0
	for _, r := range missing {
		for seq := r.lo; ; seq++ {
			for ; i < len(corrupt) && corrupt[i] <= seq; i++ {
				if !room(corrupt[i]) {
					return out
				}
			}
			if !room(seq) {
				return out
			}
			if seq == r.hi {
				break // r.hi may be the largest uint64
			}
		}
	}
	for ; i < len(corrupt); i++ {
		if !room(corrupt[i]) {
			return out
		}
	}
	return out
}

// usableLocked returns why the store cannot be written, if it cannot.
func (s *Store) usableLocked() error {
	if s.closed {
		return store.ErrClosed
	}
	return s.err
}

// failLocked stops writes after a write or sync error. Later appends get
// the same error; nothing is acknowledged after it.
func (s *Store) failLocked(err error) {
	if s.err != nil {
		return
	}
	if isNoSpace(err) {
		err = fmt.Errorf("%w: %w", store.ErrFull, err)
	}
	s.err = err
	s.log.Error("filestore: write failed, store is now read-only", "err", err)
}

func (s *Store) compress(data []byte) ([]byte, byte) {
	if s.cfg.Compression != "s2" || len(data) < 64 {
		return data, 0
	}
	enc := s2.Encode(nil, data)
	if len(enc) >= len(data) {
		return data, 0
	}
	return enc, flagS2
}

var errTooLarge = errors.New("filestore: message too large")

// Append implements store.Store.
func (s *Store) Append(subj string, hdr, data []byte, ts int64, ttl int64) (uint64, error) {
	return s.add(0, subj, hdr, data, ts, ttl)
}

// AppendAt implements store.Store.
func (s *Store) AppendAt(seq uint64, subj string, hdr, data []byte, ts int64, ttl int64) error {
	if seq == 0 {
		return fmt.Errorf("%w: 0", store.ErrSeqNotAfterLast)
	}
	_, err := s.add(seq, subj, hdr, data, ts, ttl)
	return err
}

// add stores a message under at, or under the next sequence when at is 0.
func (s *Store) add(at uint64, subj string, hdr, data []byte, ts int64, ttl int64) (uint64, error) {
	if len(subj) > 0xFFFF || len(subj)+len(hdr)+len(data)+64 > maxRecord {
		return 0, errTooLarge
	}
	stored, flags := s.compress(data) // outside the lock: it is pure CPU
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return 0, err
	}
	seq := s.last + 1
	if at != 0 {
		if at < seq {
			return 0, fmt.Errorf("%w: %d, last %d", store.ErrSeqNotAfterLast, at, s.last)
		}
		seq = at
	}
	if err := s.holdLocked(); err != nil {
		return 0, err
	}
	size := msgSize(len(subj), len(hdr), len(stored), ttl)
	gap := seq > s.last+1
	room := size
	if gap {
		room += metaRecordSize
	}
	if err := s.roomLocked(room, seq); err != nil {
		if !transient(err) {
			s.failLocked(err)
		}
		return 0, err
	}
	if gap {
		// One meta record vouches for the skipped sequences, where Skip
		// writes a record per sequence: the log then reads as if each had
		// been skipped, and recovery expects the message as the next one.
		s.last = seq - 1
		s.writeMetaLocked()
	}
	g := s.active
	off := g.size
	s.buf = appendMsg(s.buf, flags, seq, ts, ttl, subj, hdr, stored)
	g.size += int64(size)
	acct := store.FileMsgSize(subj, hdr, data)
	sid := s.subj.add(subj, seq)
	g.add(seq, entry{off: uint32(off), sid: sid, size: uint32(acct)})
	g.msgs++
	g.bytes += acct
	s.msgs++
	s.bytes += acct
	if s.msgs == 1 {
		s.first, s.firstStale = seq, false
	}
	s.last, s.lastTime = seq, ts
	if err := s.maybeFlushLocked(); err != nil {
		return 0, err
	}
	return seq, nil
}

// Skip implements store.Store.
func (s *Store) Skip() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return 0, err
	}
	if err := s.holdLocked(); err != nil {
		return 0, err
	}
	seq := s.last + 1
	r := record{typ: recSkip, seq: seq}
	if err := s.roomLocked(r.size(), seq); err != nil {
		if !transient(err) {
			s.failLocked(err)
		}
		return 0, err
	}
	s.appendRecordLocked(&r)
	s.last = seq
	return seq, s.maybeFlushLocked()
}

// appendRecordLocked buffers a record in the active segment and returns
// its offset.
func (s *Store) appendRecordLocked(r *record) int64 {
	off := s.active.size
	s.buf = appendRecord(s.buf, r)
	s.active.size += int64(r.size())
	if r.typ == recDelete {
		s.active.delOffs = append(s.active.delOffs, uint32(off))
	}
	return off
}

// maybeFlushLocked writes the buffer out once it is over its bound, so a
// burst of appends with nobody waiting does not grow memory.
func (s *Store) maybeFlushLocked() error {
	if len(s.buf) < s.cfg.BufferSize {
		return nil
	}
	if err := s.flushLocked(); err != nil {
		s.failLocked(err)
		return err
	}
	return nil
}

// flushLocked writes the buffered records to the active file.
func (s *Store) flushLocked() error {
	if len(s.buf) == 0 {
		return nil
	}
	s.reserveLocked(s.flushed + int64(len(s.buf)))
	if _, err := s.active.f.WriteAt(s.buf, s.flushed); err != nil {
		return err
	}
	s.flushed += int64(len(s.buf))
	s.unsynced = true
	s.written = s.last
	if cap(s.buf) > 4*s.cfg.BufferSize {
		s.buf = nil // a huge message passed through: do not keep its buffer
	} else {
		s.buf = s.buf[:0]
	}
	return nil
}

// Blocks of a busy active segment are reserved ahead of its writes
// (vfs.Preallocate), reserveStep at a time once it holds reserveAfter
// bytes: appending into reserved blocks makes each sync journal less
// metadata (on ext4 it halved an append-and-fdatasync's CPU and latency).
// A small or idle stream reserves nothing, so 10,000 of them cost no disk;
// a sealed segment keeps at most one step it did not fill.
const (
	reserveAfter = 64 << 10
	reserveStep  = 512 << 10
)

// reserveLocked reserves the active segment's blocks past end when the
// last reservation does not cover it.
func (s *Store) reserveLocked(end int64) {
	g := s.active
	if end < reserveAfter || end <= g.reserved {
		return
	}
	g.reserved = min(end+reserveStep, max(s.cfg.SegmentSize, end))
	g.f.preallocate(g.reserved)
}

// roomLocked makes the active segment ready for a record of size bytes
// carrying seq: it moves to a new segment when this one is full, or when
// seq jumped far past its last sequence (a dense index would waste memory
// on the gap).
func (s *Store) roomLocked(size int, seq uint64) error {
	g := s.active
	full := g.size+int64(size) > s.cfg.SegmentSize && g.size > int64(metaRecordSize)
	gap := g.n() > 0 && seq > g.lastSeq()+1024
	if !full && !gap {
		return nil
	}
	return s.rollLocked()
}

var metaRecordSize = (&record{typ: recMeta}).size()

// rollLocked seals the active segment and starts a new one.
func (s *Store) rollLocked() error {
	if err := s.flushLocked(); err != nil {
		return err
	}
	g, err := s.newSegmentLocked()
	if err != nil {
		return err
	}
	old := s.active
	old.seal()
	s.touchLocked(old)
	old.top = s.last
	if s.unsynced {
		s.dirty = append(s.dirty, old.f.acquire())
	}
	s.takeHoldLocked(g.f)
	s.segs = append(s.segs, g)
	s.active, s.flushed, s.unsynced = g, 0, false
	s.writeMetaLocked()
	s.checkMaintLocked(old)
	return nil
}

// newSegmentLocked creates the next segment file, held open.
func (s *Store) newSegmentLocked() (*segment, error) {
	f, err := createRfile(s.cfg.Handles, s.fs, s.segPath(s.nextID))
	if err != nil {
		return nil, err
	}
	g := &segment{id: s.nextID, f: f, loaded: true}
	s.nextID++
	s.dirSync = true
	return g, nil
}

// writeMetaLocked records the floor and last sequence in the log.
func (s *Store) writeMetaLocked() {
	s.appendRecordLocked(&record{typ: recMeta, seq: s.floor, last: s.last, ts: s.lastTime})
}

// segFor returns the index of the segment that holds seq if any segment
// does: the first whose last sequence is at or past seq.
func (s *Store) segFor(seq uint64) int {
	return sort.Search(len(s.segs), func(i int) bool { return s.segHi(i) >= seq })
}

// segHi is the highest sequence a segment can hold: sequences are handed
// out in log order, so everything up to the next segment's first belongs
// to it or to an earlier one.
func (s *Store) segHi(i int) uint64 {
	if i == len(s.segs)-1 {
		return s.last
	}
	g := s.segs[i]
	if !g.empty() {
		return g.lastSeq()
	}
	// An empty segment (only meta or delete records) holds no sequence:
	// give it its predecessor's bound so the search stays monotonic.
	if i == 0 {
		return 0
	}
	return s.segHi(i - 1)
}

// firstLocked returns the first sequence as State reports it.
func (s *Store) firstLocked() uint64 {
	if s.msgs == 0 {
		if s.last == 0 && s.floor == 0 {
			return 0
		}
		return max(s.last+1, s.floor)
	}
	if s.firstStale {
		s.first, s.firstStale = s.firstLiveLocked(s.first), false
	}
	return s.first
}

// State implements store.Store.
func (s *Store) State() store.State {
	s.mu.Lock()
	st := store.State{
		Msgs:        s.msgs,
		Bytes:       s.bytes,
		FirstSeq:    s.firstLocked(),
		LastSeq:     s.last,
		NumSubjects: len(s.subj.ids),
		Lost:        s.lostLocked(),
	}
	if s.lastTime != 0 {
		st.LastTime = time.Unix(0, s.lastTime).UTC()
	}
	if s.msgs > 0 {
		st.NumDeleted = int(st.LastSeq - st.FirstSeq + 1 - s.msgs)
	}
	ts, ok := s.firstTS, s.firstTSSeq == st.FirstSeq && s.msgs > 0
	var l loc
	if !ok && s.msgs > 0 {
		l = s.locateLocked(st.FirstSeq)
	}
	s.mu.Unlock()
	if !ok && l.ok {
		// The first message changed: read its time (outside the lock, like
		// any read) and remember it.
		if m, err := s.readLoc(&l); err == nil {
			ts, ok = m.Time, true
			s.mu.Lock()
			s.firstTS, s.firstTSSeq = ts, m.Seq
			s.mu.Unlock()
		}
	}
	if ok {
		st.FirstTime = time.Unix(0, ts).UTC()
	}
	return st
}

// Close implements store.Store: it syncs everything appended, stops the
// background work and closes the files.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	s.stopIndexTimer()
	s.stop()

	// syncMu is held to the end so a Sync or Purge that started before
	// Close finishes before the files are closed.
	s.syncMu.Lock()
	ws, err := s.commit(true)
	if err == nil {
		err = s.closeMarks()
	}
	if err == nil {
		s.saveCheckpoint()
	}
	s.mu.Lock()
	// Waiters for sequences never appended can no longer be served.
	for _, w := range s.waiters {
		w.err = store.ErrClosed
		ws = append(ws, w)
	}
	s.waiters = nil
	s.mu.Unlock()
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	s.syncMu.Unlock()
	fire(ws)
	return err
}

// closeMarks writes the last high-water slot of a clean close, synced:
// everything is synced, so nothing above the last sequence can have been
// acknowledged and the reservation comes down to it. syncMu must be held.
func (s *Store) closeMarks() error {
	w := s.marks
	if w == nil {
		return nil
	}
	s.mu.Lock()
	m := s.markLocked()
	s.mu.Unlock()
	m.reserved = m.last
	if err := w.write(m, true); err != nil {
		return fmt.Errorf("filestore: high-water file: %w", err)
	}
	return nil
}

func (s *Store) closeFiles() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.marks != nil {
		err = s.marks.close()
		s.marks = nil
	}
	s.buf = s.buf[:0] // unwritten only after a failure: nothing to keep
	s.unholdLocked()
	for _, f := range s.dirty {
		if e := f.release(); err == nil {
			err = e
		}
	}
	s.dirty = nil
	for _, g := range s.segs {
		if e := g.f.release(); err == nil {
			err = e
		}
		s.cache.drop(g.f, 0, -1)
	}
	s.segs = nil
	return err
}

// Destroy implements store.Store.
func (s *Store) Destroy() error {
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		s.log.Warn("filestore: close before destroy failed", "err", err)
	}
	if err := s.fs.RemoveAll(s.dir); err != nil {
		return err
	}
	return s.fs.SyncDir(filepath.Dir(s.dir))
}
