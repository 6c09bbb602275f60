package raftlog

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/starling-mq/starling/internal/vfs"
)

// Errors besides raft's own (raft.ErrCompacted, raft.ErrUnavailable,
// raft.ErrSnapOutOfDate).
var (
	// ErrDamaged is returned for every read and write of a group whose
	// records failed their checksum: its log is not served.
	ErrDamaged = errors.New("raftlog: group log damaged")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("raftlog: closed")
	// ErrGap is returned for an append that would leave a hole in the log.
	ErrGap = errors.New("raftlog: entries do not follow the log")
	// ErrTooLarge is returned for an entry or snapshot that does not fit
	// in a record (Options.MaxRecordSize).
	ErrTooLarge = errors.New("raftlog: record too large")
	// ErrDuplicate is returned for a batch naming a group twice.
	ErrDuplicate = errors.New("raftlog: group twice in one batch")
)

// Options configures a Log. The zero value takes the defaults.
type Options struct {
	// SegmentSize is the size after which the next batch starts a new
	// segment file (a segment may exceed it by one batch).
	SegmentSize int64
	// MaxRecordSize bounds one record: an entry, a snapshot with its data,
	// a group's checkpoint. Recovery rejects longer length fields, so it
	// is also the largest allocation a damaged file can cause.
	MaxRecordSize int
	// CacheSize bounds the cache of recently saved entries, in bytes
	// (encoded size plus a fixed overhead each); negative disables it.
	CacheSize int
	// Logger receives recovery findings (truncated tails, damage).
	Logger *slog.Logger
}

const (
	defaultSegmentSize   = 64 << 20
	defaultMaxRecordSize = 16 << 20
	defaultCacheSize     = 4 << 20
	// entriesRecordTarget splits a long run of entries into records of
	// about this size, so no single read at recovery is huge.
	entriesRecordTarget = 1 << 20
)

func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = defaultSegmentSize
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = defaultMaxRecordSize
	}
	if o.CacheSize == 0 {
		o.CacheSize = defaultCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SegmentSize < 4096 || o.MaxRecordSize < 4096 || o.MaxRecordSize > 1<<30 {
		return o, fmt.Errorf("raftlog: segment size %d or record size %d out of range", o.SegmentSize, o.MaxRecordSize)
	}
	return o, nil
}

// entLoc is where one entry lives: segment, offset of its encoded form,
// and what is needed without reading it.
type entLoc struct {
	term uint64
	seg  uint64 // 0: a hole, only while replaying
	off  int64
	size uint32 // of the encoded entry, raft's size measure
	crc  uint32
}

// group is one Raft group's log as the Log knows it.
type group struct {
	hs      hardState
	hasHS   bool
	snap    snapState // conf and data owned
	hasSnap bool
	offset  mark     // entries offset.index+1 .. last are in ents
	ents    []entLoc // ents[i] is index offset.index+1+i
	damaged bool
}

func (g *group) last() uint64 { return g.offset.index + uint64(len(g.ents)) }

// segment is one file of the log.
type segment struct {
	seq  uint64
	f    vfs.File
	size int64
	live int // entries in it that some group still holds
}

// Log is the server's Raft log: one write-ahead log shared by every group.
// See the package documentation for the format and the rules.
type Log struct {
	fs   vfs.FS
	dir  string
	opts Options

	// writeMu serializes writers (Save, Compact, CreateSnapshot,
	// RemoveGroup, Close); it is taken before mu. A writer reads group
	// state without mu (only writers change it) and takes mu to change it.
	writeMu sync.Mutex
	buf     []byte // encoding scratch, under writeMu

	// mu guards everything below: what readers (the raft.Storage views)
	// look at. Reads of entries happen under it, so a segment is never
	// closed under a reader.
	mu         sync.Mutex
	groups     map[uint64]*group
	segs       map[uint64]*segment
	order      []uint64 // segment seqs, ascending; the last is active
	cache      *entryCache
	logDamaged bool  // records of unknown groups were lost
	err        error // sticky: a failed write or sync
	closed     bool
}

func segName(seq uint64) string { return fmt.Sprintf("%016x.log", seq) }

// Open opens (creating if needed) the log in dir and rebuilds every group
// from it. It always starts a new segment, so nothing is ever appended
// after what recovery read.
func Open(fs vfs.FS, dir string, opts Options) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := vfs.MkdirAllSynced(fs, dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{fs: fs, dir: dir, opts: opts, groups: map[uint64]*group{}, segs: map[uint64]*segment{},
		cache: newEntryCache(opts.CacheSize)}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.rotate(); err != nil {
		l.closeFiles()
		return nil, err
	}
	if err := l.active().f.Sync(); err != nil {
		l.closeFiles()
		return nil, err
	}
	l.mu.Lock()
	l.collectLocked()
	l.mu.Unlock()
	return l, nil
}

// Close closes the files. It does not sync: Save already did for what
// needs it. Calls after the first return nil.
func (l *Log) Close() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.closeFiles()
}

func (l *Log) closeFiles() error {
	var errs []error
	for _, s := range l.segs {
		if s.f != nil {
			errs = append(errs, s.f.Close())
			s.f = nil
		}
	}
	return errors.Join(errs...)
}

func (l *Log) active() *segment { return l.segs[l.order[len(l.order)-1]] }

// Groups lists the groups the log holds, ascending.
func (l *Log) Groups() []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]uint64, 0, len(l.groups))
	for id := range l.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// check returns why writes are refused, if they are. writeMu held.
func (l *Log) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.err
}

// fail records a write failure: after it the files are in an unknown state
// (a failed fsync may have dropped dirty pages), so every later write is
// refused and the server must reopen the log.
func (l *Log) fail(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = fmt.Errorf("raftlog: log failed, reopen needed: %w", err)
	}
	return l.err
}

// Damaged reports whether the log as a whole is refused: records whose
// group could not be read were lost (a damaged record header makes the
// rest of its segment unreadable), so no group may be served from it,
// now or after a restart. Only a new log in another directory helps.
func (l *Log) Damaged() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logDamaged
}

// isDamaged says whether g may not be served. mu held.
func (l *Log) isDamaged(g *group) bool { return l.logDamaged || (g != nil && g.damaged) }

// addLive, dropLive keep each segment's count of live entries. mu held.
func (l *Log) addLive(locs []entLoc) {
	for _, e := range locs {
		if s := l.segs[e.seg]; s != nil {
			s.live++
		}
	}
}

func (l *Log) dropLive(locs []entLoc) {
	for _, e := range locs {
		if s := l.segs[e.seg]; s != nil {
			s.live--
		}
	}
}

// truncateFrom drops entries from index on. mu held.
func (l *Log) truncateFrom(g *group, index uint64) {
	if index > g.last() {
		return
	}
	keep := index - g.offset.index - 1
	l.dropLive(g.ents[keep:])
	g.ents = g.ents[:keep:keep]
}

// compactTo drops entries up to m.index; m beyond the log empties it.
// mu held.
func (l *Log) compactTo(g *group, m mark) {
	if m.index <= g.offset.index {
		return
	}
	if m.index >= g.last() {
		l.dropLive(g.ents)
		g.ents = nil
	} else {
		n := m.index - g.offset.index
		l.dropLive(g.ents[:n])
		// Copied so the dropped prefix's memory is released.
		g.ents = slices.Clone(g.ents[n:])
	}
	g.offset = m
}

// appendLocs appends entries first.. to g, replacing a conflicting suffix
// and skipping what is compacted, as raft's MemoryStorage.Append does.
// mu held.
func (l *Log) appendLocs(g *group, first uint64, locs []entLoc) {
	if first <= g.offset.index {
		skip := g.offset.index + 1 - first
		if skip >= uint64(len(locs)) {
			return
		}
		locs, first = locs[skip:], g.offset.index+1
	}
	l.truncateFrom(g, first)
	for g.last()+1 < first { // only while replaying: a hole
		g.ents = append(g.ents, entLoc{})
	}
	g.ents = append(g.ents, locs...)
	l.addLive(locs)
}

// applySnap is raft's ApplySnapshot: the log restarts after the snapshot.
// mu held.
func (l *Log) applySnap(g *group, s snapState) {
	l.dropLive(g.ents)
	g.ents = nil
	g.offset = mark{s.index, s.term}
	g.snap, g.hasSnap = s, true
}

// collectLocked deletes the segments no group needs: every one but the
// active whose entries are all dead. Their other records (hard states,
// snapshots, marks) are superseded by the checkpoint that opens every
// later segment. Only called right after a sync, so every record that
// killed those entries is durable. mu held.
func (l *Log) collectLocked() {
	keep := l.order[:0]
	act := l.order[len(l.order)-1]
	for _, seq := range l.order {
		s := l.segs[seq]
		if seq == act || s.live > 0 {
			keep = append(keep, seq)
			continue
		}
		if s.f != nil {
			_ = s.f.Close()
			s.f = nil
		}
		// A removal that fails or is not made durable is harmless: the
		// file's records are all superseded, so replaying it changes
		// nothing. It is retried at the next collection.
		if err := l.fs.Remove(l.segPath(seq)); err != nil {
			l.opts.Logger.Warn("raftlog: removing a dead segment", "segment", segName(seq), "err", err)
			keep = append(keep, seq)
			continue
		}
		delete(l.segs, seq)
	}
	l.order = keep
}

// Stats is a snapshot of the log's size, for metrics and tests.
type Stats struct {
	Groups   int   // groups held
	Damaged  int   // of which refused
	Segments int   // segment files
	Bytes    int64 // in the segment files
	Entries  int   // live entries, all groups
	Cached   int   // bytes in the cache of recent entries
}

// Stats returns the log's current numbers.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := Stats{Groups: len(l.groups), Segments: len(l.order)}
	for _, g := range l.groups {
		if l.isDamaged(g) {
			st.Damaged++
		}
		st.Entries += len(g.ents)
	}
	for _, s := range l.segs {
		st.Bytes += s.size
	}
	if l.cache != nil {
		st.Cached = l.cache.size
	}
	return st
}
