package filestore

import (
	"cmp"
	"math/bits"
	"slices"
	"sort"
	"unsafe"

	"github.com/starling-mq/starling/internal/subject"
)

// entry is the in-memory index entry of one sequence: 12 bytes, the whole
// per-message cost in RAM (payloads stay on disk).
type entry struct {
	off  uint32 // record offset in its segment; noOff when no record is there
	sid  uint32 // subject id; deadBit set once deleted (the record may remain)
	size uint32 // accounted size (store.FileMsgSize)
}

const (
	noOff   = ^uint32(0)
	deadBit = uint32(1) << 31
)

func (e *entry) live() bool    { return e.off != noOff && e.sid&deadBit == 0 }
func (e *entry) present() bool { return e.off != noOff }

// sparseEntry is an entry of a sparse index, used for sealed segments where
// most sequences are gone, so a few survivors of a long range cost only
// their own entries.
type sparseEntry struct {
	seq uint64
	entry
}

// segment is one log file and the index of the sequences whose records it
// holds.
type segment struct {
	id   uint64
	f    *rfile
	size int64 // bytes in the log, including the store's unwritten buffer
	// reserved: the active segment's blocks are reserved up to here
	// (Store.reserveLocked); 0 for the others.
	reserved int64

	// The index: either dense (dense[i] is sequence base+i) or sparse.
	base   uint64
	dense  []entry
	sparse []sparseEntry

	msgs  int    // live messages
	bytes uint64 // their accounted bytes
	dead  int    // deleted messages whose records are still in the file

	// A sealed segment's summary, kept while its index (dense or sparse)
	// is dropped to save memory and rebuilt from the file on demand
	// (lazy.go). The active segment's index is always loaded.
	lo, hi uint64      // sealed only: first and last sequence with a record here (0 when none)
	live   []uint64    // sealed only: bit i is set when sequence lo+i is live
	subs   []subjCount // sealed only: live messages per subject id, by id
	loaded bool        // the index (dense or sparse) is in memory

	sealed  bool
	top     uint64   // sealed only: the last sequence handed out before the next segment
	delOffs []uint32 // offsets of delete records, read when compacting
	maxTomb uint64   // highest sequence a delete record here names

	queued     bool     // waiting for maintenance
	compacting bool     // a rewrite is in progress
	erased     []uint64 // erased while compacting: redo in the new file
	removed    bool     // gone from the store's list
}

func (g *segment) n() int {
	if g.sparse != nil {
		return len(g.sparse)
	}
	return len(g.dense)
}

func (g *segment) seqAt(i int) uint64 {
	if g.sparse != nil {
		return g.sparse[i].seq
	}
	return g.base + uint64(i)
}

func (g *segment) at(i int) *entry {
	if g.sparse != nil {
		return &g.sparse[i].entry
	}
	return &g.dense[i]
}

// search returns the first position whose sequence is >= seq.
func (g *segment) search(seq uint64) int {
	if g.sparse != nil {
		return sort.Search(len(g.sparse), func(i int) bool { return g.sparse[i].seq >= seq })
	}
	if seq <= g.base {
		return 0
	}
	return int(min(seq-g.base, uint64(len(g.dense))))
}

// find returns the entry of seq, or nil.
func (g *segment) find(seq uint64) *entry {
	i := g.search(seq)
	if i < g.n() && g.seqAt(i) == seq {
		return g.at(i)
	}
	return nil
}

// firstSeq and lastSeq bound the sequences with a record here (0 when
// none). A sealed segment answers from its summary, loaded or not.
func (g *segment) firstSeq() uint64 {
	if g.sealed {
		return g.lo
	}
	if g.n() == 0 {
		return 0
	}
	return g.seqAt(0)
}

func (g *segment) lastSeq() uint64 {
	if g.sealed {
		return g.hi
	}
	if g.n() == 0 {
		return 0
	}
	return g.seqAt(g.n() - 1)
}

// empty reports whether no sequence has a record here.
func (g *segment) empty() bool { return g.lastSeq() == 0 }

// add indexes seq, which must be above every sequence indexed so far; the
// dense index fills the gap with empty entries.
func (g *segment) add(seq uint64, e entry) {
	if g.sparse != nil {
		g.sparse = append(g.sparse, sparseEntry{seq, e})
		return
	}
	if len(g.dense) == 0 {
		g.base = seq
	}
	for g.base+uint64(len(g.dense)) < seq {
		g.dense = append(g.dense, entry{off: noOff})
	}
	g.dense = append(g.dense, e)
}

// seal freezes the segment: its summary is built and its index packed to
// exact size.
func (g *segment) seal() {
	g.sealed = true
	g.compactIndex()
}

// compactIndex rebuilds the summary of a loaded segment from its index and
// packs the index (see pack).
func (g *segment) compactIndex() {
	g.lo, g.hi, g.live, g.subs = 0, 0, nil, nil
	counts := map[uint32]uint32{}
	for i := range g.n() {
		e := g.at(i)
		if !e.present() {
			continue
		}
		seq := g.seqAt(i)
		if g.lo == 0 {
			g.lo = seq
			g.live = make([]uint64, (g.lastPresent()-seq)/64+1)
		}
		g.hi = seq
		if e.live() {
			counts[e.sid]++
			off := seq - g.lo
			g.live[off/64] |= 1 << (off % 64)
		}
	}
	g.subs = make([]subjCount, 0, len(counts))
	for sid, n := range counts {
		g.subs = append(g.subs, subjCount{sid, n})
	}
	slices.SortFunc(g.subs, func(a, b subjCount) int { return cmp.Compare(a.sid, b.sid) })
	g.pack()
}

// lastPresent is the last sequence of the loaded index with a record.
func (g *segment) lastPresent() uint64 {
	for i := g.n() - 1; i >= 0; i-- {
		if g.at(i).present() {
			return g.seqAt(i)
		}
	}
	return 0
}

// pack drops entries without a record and picks the smaller index form,
// at exact capacity: sparse when fewer than a third of the sequence range
// has records (a sparse entry costs twice a dense one), dense otherwise.
func (g *segment) pack() {
	present := 0
	for i := range g.n() {
		if g.at(i).present() {
			present++
		}
	}
	g.loaded = true
	if present == 0 {
		g.dense, g.sparse = nil, nil
		return
	}
	lo, hi := uint64(0), g.lastPresent()
	for i := range g.n() {
		if g.at(i).present() {
			lo = g.seqAt(i)
			break
		}
	}
	span := hi - lo + 1
	if uint64(present)*3 < span {
		sp := make([]sparseEntry, 0, present)
		for i := range g.n() {
			if e := g.at(i); e.present() {
				sp = append(sp, sparseEntry{g.seqAt(i), *e})
			}
		}
		g.dense, g.sparse = nil, sp
		return
	}
	d := make([]entry, span)
	for i := range d {
		d[i].off = noOff
	}
	for i := range g.n() {
		if e := g.at(i); e.present() {
			d[g.seqAt(i)-lo] = *e
		}
	}
	g.base, g.dense, g.sparse = lo, d, nil
}

// subjCount is how many live messages of one subject a sealed segment
// holds.
type subjCount struct {
	sid uint32
	n   uint32
}

// subIndex returns the position of sid in g.subs.
func (g *segment) subIndex(sid uint32) (int, bool) {
	return slices.BinarySearchFunc(g.subs, sid, func(c subjCount, sid uint32) int { return cmp.Compare(c.sid, sid) })
}

// isLive reports whether seq is live in a sealed segment (from the
// summary: no load needed).
func (g *segment) isLive(seq uint64) bool {
	if seq < g.lo || seq > g.hi || g.lo == 0 {
		return false
	}
	off := seq - g.lo
	return g.live[off/64]&(1<<(off%64)) != 0
}

// kill records in a sealed segment's summary that the live message seq
// of subject sid was removed.
func (g *segment) kill(seq uint64, sid uint32) {
	off := seq - g.lo
	g.live[off/64] &^= 1 << (off % 64)
	if i, ok := g.subIndex(sid); ok {
		if g.subs[i].n--; g.subs[i].n == 0 {
			g.subs = slices.Delete(g.subs, i, i+1)
		}
	}
}

// nextLive returns the first live sequence at or after from in a sealed
// segment, or 0.
func (g *segment) nextLive(from uint64) uint64 {
	if g.lo == 0 || from > g.hi {
		return 0
	}
	from = max(from, g.lo)
	off := from - g.lo
	w := off / 64
	word := g.live[w] &^ (1<<(off%64) - 1)
	for {
		if word != 0 {
			return g.lo + w*64 + uint64(bits.TrailingZeros64(word))
		}
		if w++; w >= uint64(len(g.live)) {
			return 0
		}
		word = g.live[w]
	}
}

// countLive returns how many sequences at or after from are live in a
// sealed segment.
func (g *segment) countLive(from uint64) uint64 {
	if g.lo == 0 || from > g.hi {
		return 0
	}
	from = max(from, g.lo)
	off := from - g.lo
	w := off / 64
	n := bits.OnesCount64(g.live[w] &^ (1<<(off%64) - 1))
	for _, x := range g.live[w+1:] {
		n += bits.OnesCount64(x)
	}
	return uint64(n)
}

// indexBytes is the memory the loaded index takes.
func (g *segment) indexBytes() int64 {
	return int64(cap(g.dense))*int64(unsafe.Sizeof(entry{})) + int64(cap(g.sparse))*int64(unsafe.Sizeof(sparseEntry{}))
}

// drop frees a sealed segment's index; its summary remains.
func (g *segment) drop() {
	g.dense, g.sparse, g.loaded = nil, nil, false
}

// mayHold reports whether the segment may hold a live message whose
// subject m matches. Only sealed segments keep a summary.
func (g *segment) mayHold(m *matcher) bool {
	if m.all || !g.sealed {
		return !m.none
	}
	if m.literal {
		_, ok := g.subIndex(m.sid)
		return ok
	}
	for _, c := range g.subs {
		if m.match(c.sid) {
			return true
		}
	}
	return false
}

// subjInfo is one subject's entry in the per-subject index. first and last
// are recomputed lazily after the message they name is deleted.
type subjInfo struct {
	name       string
	msgs       uint64
	first      uint64
	last       uint64
	firstStale bool
	lastStale  bool
}

// subjects maps subjects to small ids so the sequence index stores 4 bytes
// per message instead of a string.
type subjects struct {
	ids  map[string]uint32
	info []subjInfo
	free []uint32
}

func newSubjects() subjects {
	return subjects{ids: map[string]uint32{}}
}

// add counts a new message of subj at seq (above all others of subj) and
// returns the subject's id.
func (t *subjects) add(subj string, seq uint64) uint32 {
	if id, ok := t.ids[subj]; ok {
		t.count(id, seq)
		return id
	}
	return t.insert(subj, seq)
}

// addBytes is add for a subject read from disk; it allocates only for a
// subject not seen before.
func (t *subjects) addBytes(subj []byte, seq uint64) uint32 {
	if id, ok := t.ids[string(subj)]; ok {
		t.count(id, seq)
		return id
	}
	return t.insert(string(subj), seq)
}

func (t *subjects) count(id uint32, seq uint64) {
	in := &t.info[id]
	in.msgs++
	in.last, in.lastStale = seq, false
}

func (t *subjects) insert(name string, seq uint64) uint32 {
	in := subjInfo{name: name, msgs: 1, first: seq, last: seq}
	var id uint32
	if n := len(t.free); n > 0 {
		id, t.free = t.free[n-1], t.free[:n-1]
		t.info[id] = in
	} else {
		id = uint32(len(t.info))
		t.info = append(t.info, in)
	}
	t.ids[name] = id
	return id
}

// remove uncounts the message seq of subject id.
func (t *subjects) remove(id uint32, seq uint64) {
	in := &t.info[id]
	in.msgs--
	if in.msgs == 0 {
		delete(t.ids, in.name)
		t.info[id] = subjInfo{}
		t.free = append(t.free, id)
		return
	}
	if seq == in.first {
		in.firstStale = true
	}
	if seq == in.last {
		in.lastStale = true
	}
}

// matcher answers "does subject id match the filter" with a memo, so a
// wildcard filter is matched once per subject per call.
type matcher struct {
	all     bool // "" or ">"
	none    bool // a literal subject with no messages
	literal bool
	raw     bool // a bare scan: do not consult the subject's first and last
	sid     uint32
	filter  string
	t       *subjects
	memo    map[uint32]bool
}

func (t *subjects) matcher(filter string) *matcher {
	m := &matcher{filter: filter, t: t}
	switch {
	case filter == "" || filter == ">":
		m.all = true
	case !subject.HasWildcard(filter):
		m.literal = true
		id, ok := t.ids[filter]
		m.sid, m.none = id, !ok
	}
	return m
}

// sidMatcher matches one subject id by scanning, for recomputing that
// subject's first and last sequence.
func sidMatcher(sid uint32) *matcher {
	return &matcher{literal: true, raw: true, sid: sid}
}

func (m *matcher) match(sid uint32) bool {
	switch {
	case m.all:
		return true
	case m.literal:
		return !m.none && sid == m.sid
	}
	if v, ok := m.memo[sid]; ok {
		return v
	}
	if m.memo == nil {
		m.memo = make(map[uint32]bool)
	}
	v := subject.Matches(m.filter, m.t.info[sid].name)
	m.memo[sid] = v
	return v
}

// matchName matches a subject by name (for walking the subject index).
func (m *matcher) matchName(name string) bool {
	switch {
	case m.all:
		return true
	case m.literal:
		return name == m.filter
	}
	return subject.Matches(m.filter, name)
}
