package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The checkpoint ("index") saves the summaries of the sealed segments
// (lazy.go) and the subject index, so that an open reads only the log
// written after it: the segment that was active when it was written and
// any newer one. It is written at a clean close and, at most once per
// Config.CheckpointInterval, when everything the store holds in memory is
// on stable storage (the write buffer empty and every segment synced), so
// it never runs ahead of the log.
//
// It is never trusted over the log. At open it is used only if its
// checksum verifies and every sealed segment it names exists with the
// recorded size, modification time and last bytes, and no other segment
// older than its active one does; otherwise it is ignored (and logged) and
// the whole log is scanned. Everything after it is scanned and verified as
// usual, delete records included, so deletes since the checkpoint apply.
// Each record is still verified whenever it is read, and a segment whose
// index is rebuilt is verified record by record then.
//
// Layout (little endian): magic "SCK1", then the fields of ckState in
// order (see encode), then the CRC-32C of everything before it.

const (
	checkpointFile  = "index"
	checkpointMagic = "SCK1"
	// tailBytes is how much of a segment's end the checkpoint checks.
	tailBytes = 64
	// maxCheckpoint bounds what a damaged file can make open allocate.
	maxCheckpoint = 1 << 30
)

var errBadCheckpoint = errors.New("filestore: bad checkpoint")

// ckSegment is one sealed segment in a checkpoint.
type ckSegment struct {
	id, lo, hi, top, maxTomb uint64
	size, mtime              int64
	tail                     uint32
	msgs, dead               uint64
	bytes                    uint64
	delOffs                  []uint32
	subs                     []subjCount
	live                     []uint64
}

// ckSubject is one slot of the subject table ("" for a free one).
type ckSubject struct {
	name                  string
	msgs, first, last     uint64
	firstStale, lastStale bool
}

// ckState is what a checkpoint holds.
type ckState struct {
	nextID, floor, last uint64 // last: the last sequence before the active segment
	lastTime            int64
	active              uint64 // the active segment's id: it and newer ones are scanned
	lostBytes           uint64
	lost                []uint64 // corrupt records: reported for as long as they are on disk
	subjects            []ckSubject
	segs                []ckSegment
}

// enc is a little-endian appender.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

// dec is a little-endian reader that records the first short read.
type dec struct {
	b   []byte
	bad bool
}

func (d *dec) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8() uint8 {
	if b := d.take(1); len(b) == 1 {
		return b[0]
	}
	return 0
}

func (d *dec) u32() uint32 {
	if b := d.take(4); len(b) == 4 {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *dec) u64() uint64 {
	if b := d.take(8); len(b) == 8 {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a length and checks that at least n*each bytes follow, so a
// damaged length cannot allocate more than the file holds.
func (d *dec) count(each int) int {
	n := int(d.u32())
	if d.bad || n*each > len(d.b) {
		d.bad = true
		return 0
	}
	return n
}

func (c *ckState) encode() []byte {
	e := &enc{b: []byte(checkpointMagic)}
	e.u64(c.nextID)
	e.u64(c.floor)
	e.u64(c.last)
	e.u64(uint64(c.lastTime))
	e.u64(c.active)
	e.u64(c.lostBytes)
	e.u32(uint32(len(c.lost)))
	for _, q := range c.lost {
		e.u64(q)
	}
	e.u32(uint32(len(c.subjects)))
	for _, in := range c.subjects {
		e.u32(uint32(len(in.name)))
		e.b = append(e.b, in.name...)
		e.u64(in.msgs)
		e.u64(in.first)
		e.u64(in.last)
		var f uint8
		if in.firstStale {
			f |= 1
		}
		if in.lastStale {
			f |= 2
		}
		e.u8(f)
	}
	e.u32(uint32(len(c.segs)))
	for _, g := range c.segs {
		for _, v := range []uint64{g.id, g.lo, g.hi, g.top, g.maxTomb, uint64(g.size), uint64(g.mtime), g.msgs, g.dead, g.bytes} {
			e.u64(v)
		}
		e.u32(g.tail)
		e.u32(uint32(len(g.delOffs)))
		for _, o := range g.delOffs {
			e.u32(o)
		}
		e.u32(uint32(len(g.subs)))
		for _, sc := range g.subs {
			e.u32(sc.sid)
			e.u32(sc.n)
		}
		e.u32(uint32(len(g.live)))
		for _, w := range g.live {
			e.u64(w)
		}
	}
	return appendCRC(e.b)
}

func decodeCheckpoint(b []byte) (*ckState, error) {
	if len(b) < len(checkpointMagic)+crcSize || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return nil, errBadCheckpoint
	}
	body := b[:len(b)-crcSize]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[len(b)-crcSize:]) {
		return nil, errBadCheckpoint
	}
	d := &dec{b: body[len(checkpointMagic):]}
	c := &ckState{nextID: d.u64(), floor: d.u64(), last: d.u64(), lastTime: int64(d.u64()), active: d.u64(), lostBytes: d.u64()}
	c.lost = make([]uint64, d.count(8))
	for i := range c.lost {
		c.lost[i] = d.u64()
	}
	c.subjects = make([]ckSubject, d.count(29))
	for i := range c.subjects {
		name := string(d.take(int(d.u32())))
		in := ckSubject{name: name, msgs: d.u64(), first: d.u64(), last: d.u64()}
		f := d.u8()
		in.firstStale, in.lastStale = f&1 != 0, f&2 != 0
		c.subjects[i] = in
	}
	c.segs = make([]ckSegment, d.count(96))
	for i := range c.segs {
		g := &c.segs[i]
		g.id, g.lo, g.hi, g.top, g.maxTomb = d.u64(), d.u64(), d.u64(), d.u64(), d.u64()
		g.size, g.mtime = int64(d.u64()), int64(d.u64())
		g.msgs, g.dead, g.bytes = d.u64(), d.u64(), d.u64()
		g.tail = d.u32()
		g.delOffs = make([]uint32, d.count(4))
		for j := range g.delOffs {
			g.delOffs[j] = d.u32()
		}
		g.subs = make([]subjCount, d.count(8))
		for j := range g.subs {
			g.subs[j] = subjCount{d.u32(), d.u32()}
		}
		g.live = make([]uint64, d.count(8))
		for j := range g.live {
			g.live[j] = d.u64()
		}
	}
	if d.bad || len(d.b) != 0 {
		return nil, errBadCheckpoint
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check rejects a checkpoint whose parts do not fit together (it verified,
// so this means a bug or a hand-made file, but never trust it blindly).
func (c *ckState) check() error {
	var prev uint64
	per := make([]uint64, len(c.subjects))
	for _, g := range c.segs {
		if g.id <= prev || g.id >= c.active || (g.lo == 0) != (g.hi == 0) || g.lo > g.hi ||
			uint64(len(g.live)) != liveWords(g.lo, g.hi) || g.size < 0 || g.size > maxSegmentSize+maxRecord {
			return fmt.Errorf("%w: segment %d", errBadCheckpoint, g.id)
		}
		var n uint64
		for i, sc := range g.subs {
			if int(sc.sid) >= len(c.subjects) || sc.n == 0 || (i > 0 && sc.sid <= g.subs[i-1].sid) {
				return fmt.Errorf("%w: segment %d subjects", errBadCheckpoint, g.id)
			}
			n += uint64(sc.n)
			per[sc.sid] += uint64(sc.n)
		}
		if n != g.msgs || countBits(g.live) != g.msgs {
			return fmt.Errorf("%w: segment %d counts", errBadCheckpoint, g.id)
		}
		prev = g.id
	}
	for i, in := range c.subjects {
		if per[i] != in.msgs || (in.msgs == 0) != (in.name == "") {
			return fmt.Errorf("%w: subject counts", errBadCheckpoint)
		}
	}
	return nil
}

func liveWords(lo, hi uint64) uint64 {
	if lo == 0 {
		return 0
	}
	return (hi-lo)/64 + 1
}

func countBits(ws []uint64) uint64 {
	g := segment{lo: 1, hi: uint64(len(ws)) * 64, live: ws}
	if len(ws) == 0 {
		return 0
	}
	return g.countLive(1)
}

// tailSum is the checksum of the last bytes of a segment file of size.
func tailSum(f io.ReaderAt, size int64) (uint32, error) {
	n := min(size, tailBytes)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, size-n); err != nil {
		return 0, err
	}
	return crc32.Checksum(b, crcTable), nil
}

// checkpointLocked snapshots the index for a checkpoint, or returns nil
// when there is no sealed segment to save, or when log data was found
// missing at open: which of those losses an open must report again
// depends on what the scan sees (recover_side.go), so such a store is
// scanned in full until the losses are purged. The caller writes it only once
// everything written up to now is synced: it must never run ahead of the
// log.
func (s *Store) checkpointLocked() *ckState {
	if len(s.segs) < 2 || s.err != nil || len(s.missing) > 0 {
		return nil
	}
	sealed := s.segs[:len(s.segs)-1]
	c := &ckState{nextID: s.nextID, floor: s.floor, last: sealed[len(sealed)-1].top, lastTime: s.lastTime,
		active: s.active.id, lostBytes: s.lostBytes, lost: slices.Clone(s.lost)}
	c.subjects = make([]ckSubject, len(s.subj.info))
	for i, in := range s.subj.info {
		c.subjects[i] = ckSubject{name: in.name, msgs: in.msgs, first: in.first, last: in.last, firstStale: in.firstStale, lastStale: in.lastStale}
	}
	// The active segment is scanned again at open: take its messages out.
	g := s.active
	for i := range g.n() {
		if e := g.at(i); e.live() {
			in := &c.subjects[e.sid]
			in.msgs--
			in.firstStale, in.lastStale = true, true
			if in.msgs == 0 {
				*in = ckSubject{}
			}
		}
	}
	for _, g := range sealed {
		if !g.sealed || g.compacting {
			return nil
		}
		c.segs = append(c.segs, ckSegment{id: g.id, lo: g.lo, hi: g.hi, top: g.top, maxTomb: g.maxTomb, size: g.size,
			msgs: uint64(g.msgs), dead: uint64(g.dead), bytes: g.bytes,
			delOffs: slices.Clone(g.delOffs), subs: slices.Clone(g.subs), live: slices.Clone(g.live)})
	}
	return c
}

// writeCheckpoint stats the sealed segments of c and writes it durably
// (temporary file, sync, rename, directory sync). syncMu must be held.
func (s *Store) writeCheckpoint(c *ckState) error {
	for i := range c.segs {
		g := &c.segs[i]
		st, err := s.fs.Stat(s.segPath(g.id))
		if err != nil {
			return err
		}
		if st.Size() != g.size {
			return fmt.Errorf("segment %d is %d bytes, index says %d", g.id, st.Size(), g.size)
		}
		g.mtime = st.ModTime().UnixNano()
		f := s.segFile(g.id)
		g.tail, err = tailSum(f, g.size)
		f.release()
		if err != nil {
			return err
		}
	}
	path := filepath.Join(s.dir, checkpointFile)
	f, err := s.fs.Create(path + ".tmp")
	if err != nil {
		return err
	}
	_, err = f.WriteAt(c.encode(), 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.fs.Rename(path+".tmp", path)
	}
	if err == nil {
		err = s.fs.SyncDir(s.dir)
	}
	if err != nil {
		s.fs.Remove(path + ".tmp")
	}
	return err
}

// saveCheckpoint writes a checkpoint at Close, once everything is
// synced. syncMu must be held, and mu not.
func (s *Store) saveCheckpoint() {
	s.mu.Lock()
	c := s.checkpointLocked()
	s.mu.Unlock()
	if c == nil {
		// Nothing to save: an older checkpoint would only be found stale
		// (and warned about) at the next open.
		if err := s.fs.Remove(filepath.Join(s.dir, checkpointFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("filestore: stale checkpoint not removed", "err", err)
		}
		return
	}
	s.storeCheckpoint(c)
}

func (s *Store) storeCheckpoint(c *ckState) {
	if c == nil {
		return
	}
	if err := s.writeCheckpoint(c); err != nil {
		s.log.Warn("filestore: checkpoint not written; the next open scans more of the log", "err", err)
		return
	}
	s.checkpoints.Add(1)
}

// ckPrint is what a periodic checkpoint compares to skip when nothing it
// would save changed: appends to the active segment do not count (the
// next open scans that segment anyway).
type ckPrint struct {
	segs             int
	active           uint64
	sealedMsgs       uint64
	floor, compacts  uint64
	lost, lostRanges int
}

// periodicCheckpoint writes a checkpoint if the sealed segments changed
// since the last one: it takes the snapshot after writing the buffer out
// and syncs the log before writing the file, so the checkpoint never
// claims a delete (or a sealed segment) that is not on stable storage.
func (s *Store) periodicCheckpoint() {
	s.syncMu.Lock()
	s.mu.Lock()
	var p ckPrint
	if s.active != nil {
		p = ckPrint{len(s.segs), s.active.id, s.msgs - uint64(s.active.msgs), s.floor, s.compacts.Load(), len(s.lost), len(s.missing)}
	}
	if s.closed || s.err != nil || s.active == nil || p == s.ckLast || len(s.segs) < 2 || len(s.missing) > 0 {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return
	}
	if err := s.flushLocked(); err != nil {
		s.failLocked(err)
		s.mu.Unlock()
		s.syncMu.Unlock()
		return
	}
	c := s.checkpointLocked()
	s.mu.Unlock()
	ws, err := s.commit(true)
	if err == nil {
		s.storeCheckpoint(c)
		s.ckLast = p
	}
	s.syncMu.Unlock()
	fire(ws)
}

// readCheckpoint reads and validates dir's checkpoint against the segment
// files present (ids, sorted). It returns nil, with the reason for the
// log, when it cannot be used.
func (s *Store) readCheckpoint(ids []uint64) (*ckState, error) {
	path := filepath.Join(s.dir, checkpointFile)
	f, err := s.fs.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Size() > maxCheckpoint {
		err = errBadCheckpoint
	}
	var b []byte
	if err == nil {
		b = make([]byte, st.Size())
		_, err = f.ReadAt(b, 0)
	}
	f.Close()
	if err != nil {
		return nil, err
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, err
	}
	var older []uint64
	for _, id := range ids {
		if id < c.active {
			older = append(older, id)
		}
	}
	if len(older) != len(c.segs) {
		return nil, fmt.Errorf("%w: %d segments before the active one, checkpoint has %d", errBadCheckpoint, len(older), len(c.segs))
	}
	for i := range c.segs {
		g := &c.segs[i]
		if older[i] != g.id {
			return nil, fmt.Errorf("%w: segment %d not in the checkpoint", errBadCheckpoint, older[i])
		}
		if err := s.checkSegmentFile(g); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkSegmentFile compares a segment file with its checkpoint entry.
func (s *Store) checkSegmentFile(g *ckSegment) error {
	st, err := s.fs.Stat(s.segPath(g.id))
	if err != nil {
		return err
	}
	if st.Size() != g.size || st.ModTime().UnixNano() != g.mtime {
		return fmt.Errorf("%w: segment %d changed since (size %d, checkpoint %d)", errBadCheckpoint, g.id, st.Size(), g.size)
	}
	f := s.segFile(g.id)
	defer f.release()
	sum, err := tailSum(f, g.size)
	if err != nil {
		return err
	}
	if sum != g.tail {
		return fmt.Errorf("%w: segment %d's last bytes changed", errBadCheckpoint, g.id)
	}
	return nil
}

// installCheckpoint opens the sealed segments of c and restores the
// indexes from it; recovery then scans the segments from c.active on.
func (s *Store) installCheckpoint(rc *recovery, c *ckState) error {
	for _, cg := range c.segs {
		g := &segment{id: cg.id, f: s.segFile(cg.id), size: cg.size, lo: cg.lo, hi: cg.hi, top: cg.top, maxTomb: cg.maxTomb,
			msgs: int(cg.msgs), dead: int(cg.dead), bytes: cg.bytes, delOffs: cg.delOffs, subs: cg.subs, live: cg.live, sealed: true}
		s.segs = append(s.segs, g)
		s.msgs += cg.msgs
		s.bytes += cg.bytes
		s.nextID = cg.id + 1
		rc.prevID = cg.id
	}
	s.subj = newSubjects()
	s.subj.info = make([]subjInfo, len(c.subjects))
	for i, in := range c.subjects {
		s.subj.info[i] = subjInfo{name: in.name, msgs: in.msgs, first: in.first, last: in.last, firstStale: in.firstStale, lastStale: in.lastStale}
		if in.msgs == 0 {
			s.subj.info[i] = subjInfo{}
			s.subj.free = append(s.subj.free, uint32(i))
			continue
		}
		s.subj.ids[in.name] = uint32(i)
	}
	s.floor = max(s.floor, c.floor)
	s.last, s.lastTime = c.last, c.lastTime
	s.nextID = max(s.nextID, c.nextID)
	s.lost = c.lost
	s.lostBytes = c.lostBytes
	rc.lostB = c.lostBytes
	return nil
}

// indexPeriod is the index timer's period: it serves periodic checkpoints
// and the idle drop of loaded indexes (lazy.go).
func (s *Store) indexPeriod() time.Duration {
	if c := s.cfg.CheckpointInterval; c > 0 && c < idleDropInterval {
		return c
	}
	return idleDropInterval
}

// startIndexTimer starts the index timer; the work runs on the store's
// maintenance lane, so it never overlaps a segment rewrite.
func (s *Store) startIndexTimer() {
	s.mu.Lock()
	s.ckTimer = time.AfterFunc(s.indexPeriod(), s.onIndexTick)
	s.mu.Unlock()
}

// onIndexTick runs on the timer's goroutine for a moment: it asks for the
// index work and sets the next tick.
func (s *Store) onIndexTick() {
	s.schedule(workIndex)
	s.mu.Lock()
	if !s.closed {
		s.ckTimer.Reset(s.indexPeriod())
	}
	s.mu.Unlock()
}

func (s *Store) stopIndexTimer() {
	s.mu.Lock()
	if s.ckTimer != nil {
		s.ckTimer.Stop()
	}
	s.mu.Unlock()
}

// indexTick is the index's periodic work, on the maintenance lane: a
// checkpoint when its interval has passed, the idle drop when its has.
func (s *Store) indexTick() {
	now := time.Now()
	if c := s.cfg.CheckpointInterval; c > 0 && now.Sub(s.ckAt) >= c {
		s.ckAt = now
		s.periodicCheckpoint()
	}
	if now.Sub(s.idleAt) >= idleDropInterval {
		s.idleAt = now
		s.mu.Lock()
		s.dropIdleLocked()
		s.mu.Unlock()
	}
}
