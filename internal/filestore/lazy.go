package filestore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/klauspost/compress/s2"
)

// Sealed segments keep their per-message index (offset, subject id and
// size, 12 bytes a message) only while recently used: a bounded LRU of
// loaded indexes, Config.IndexBytes in all. An evicted segment keeps a
// summary — its sequence range, a bitmap of live sequences (one bit a
// sequence), its live count and bytes per subject id — which answers
// "is seq live", "what is the first live sequence", counts and "may a
// subject be here" without its file. Anything else (an offset to read, a
// subject to match) rebuilds the index by scanning the file, verifying
// every record as recovery does; the bitmap, not the file, says which
// records are live, since deletes live in later segments.
//
// The summary is the truth for a sealed segment: removeLocked updates it
// whether or not the index is loaded, so an index dropped and rebuilt
// between two operations loses nothing. An *entry is valid until the next
// index load; callers use it at once.

// errIndexRead fails an operation that needed a segment's index when the
// segment could not be read.
var errIndexRead = errors.New("filestore: cannot read segment to rebuild its index")

// DefaultIndexBytes is Config.IndexBytes' default.
const DefaultIndexBytes = 4 << 20

// indexLocked makes g's index available, reading g's file if it was
// dropped, and reports whether it could (a read failure is logged; the
// segment then reads as holding nothing this time).
func (s *Store) indexLocked(g *segment) bool {
	if !g.loaded {
		if err := s.loadIndexLocked(g); err != nil {
			s.log.Error("filestore: cannot read segment to rebuild its index", "segment", g.id, "err", err)
			return false
		}
	}
	if g.sealed {
		s.touchLocked(g)
		s.idxUsed = true
	}
	return true
}

// idleDropInterval is how long the loaded indexes of sealed segments stay
// in memory unused: an idle stream keeps only its summaries.
const idleDropInterval = 30 * time.Second

// dropIdleLocked drops every loaded index of a sealed segment, and the
// segment's cached blocks, unless an index was used since the last call.
func (s *Store) dropIdleLocked() {
	if s.idxUsed {
		s.idxUsed = false
		return
	}
	for _, g := range s.idxLRU {
		g.drop()
		s.cache.drop(g.f, 0, -1)
	}
	s.idxLRU = nil
}

// touchLocked marks g's loaded index most recently used and drops the
// least recently used others while the loaded indexes exceed their bound.
func (s *Store) touchLocked(g *segment) {
	if n := len(s.idxLRU); n > 0 && s.idxLRU[n-1] == g {
		return
	}
	if i := slices.Index(s.idxLRU, g); i >= 0 {
		s.idxLRU = slices.Delete(s.idxLRU, i, i+1)
	}
	s.idxLRU = append(s.idxLRU, g)
	var total int64
	for _, o := range s.idxLRU {
		total += o.indexBytes()
	}
	for len(s.idxLRU) > 1 && (total > s.cfg.IndexBytes || s.idxLRU[0].removed) {
		o := s.idxLRU[0]
		s.idxLRU = s.idxLRU[1:]
		total -= o.indexBytes()
		o.drop()
	}
}

// loadIndexLocked rebuilds a sealed segment's index from its file. A
// record the summary counts live that no longer verifies is lost, as when
// a read finds it corrupt.
func (s *Store) loadIndexLocked(g *segment) error {
	n := &segment{}
	found := make([]uint32, len(g.subs))
	var foundBytes uint64
	sc := &scanner{f: g.f, size: g.size}
	prev := uint64(0)
	for off := int64(0); off < sc.size; {
		b, err := sc.record(off)
		var r record
		if err == nil {
			r, _, err = decodeRecord(b)
		}
		if err != nil {
			if !isCorruption(err) {
				return err
			}
			next, err := sc.resync(off + 1)
			if err != nil {
				return err
			}
			if next < 0 {
				break
			}
			off = next
			continue
		}
		s.reread.Add(1)
		at := off
		off += int64(len(b))
		if r.typ != recMsg || r.seq < g.lo || r.seq > g.hi || r.seq <= prev {
			continue
		}
		prev = r.seq
		e := entry{off: uint32(at), sid: deadBit}
		if r.flags&flagErased == 0 && g.isLive(r.seq) {
			sid, ok := s.subj.ids[string(r.subj)]
			if i, in := g.subIndex(sid); ok && in {
				dl := len(r.data)
				if r.flags&flagS2 != 0 {
					dl, _ = s2.DecodedLen(r.data)
				}
				acct := fileMsgSize(len(r.subj), len(r.hdr), dl)
				e.sid, e.size = sid, uint32(acct)
				found[i]++
				foundBytes += acct
			}
		}
		n.add(r.seq, e)
	}
	n.pack()
	g.base, g.dense, g.sparse, g.loaded = n.base, n.dense, n.sparse, true
	s.settleMissingLocked(g, found, foundBytes)
	return nil
}

// settleMissingLocked takes out of the counts the live messages of g whose
// records the rebuilt index lacks (damaged since they were indexed). Which
// subject each had follows from the per-subject counts.
func (s *Store) settleMissingLocked(g *segment, found []uint32, foundBytes uint64) {
	var lost []uint64
	for seq := g.nextLive(g.lo); seq != 0; seq = g.nextLive(seq + 1) {
		if e := g.find(seq); e == nil || !e.live() {
			lost = append(lost, seq)
		}
	}
	if len(lost) == 0 {
		return
	}
	s.log.Error("filestore: messages missing or corrupt when re-reading their segment, not served",
		"segment", g.id, "count", len(lost), "first", lost[0])
	short := make([]uint32, len(g.subs))
	sids := make([]uint32, len(g.subs))
	for i, c := range g.subs {
		short[i], sids[i] = c.n-min(c.n, found[i]), c.sid
	}
	for _, seq := range lost {
		i := slices.IndexFunc(short, func(n uint32) bool { return n > 0 })
		sid := ^uint32(0)
		if i >= 0 {
			short[i]--
			sid = sids[i]
		}
		off := seq - g.lo
		g.live[off/64] &^= 1 << (off % 64)
		if sid != ^uint32(0) {
			g.kill(seq, sid)
			s.subj.remove(sid, seq)
		}
		g.msgs--
		s.msgs--
		if seq == s.first {
			s.firstStale = true
		}
		s.addLostLocked(seq)
	}
	if g.bytes > foundBytes {
		b := g.bytes - foundBytes
		g.bytes -= b
		s.bytes -= min(s.bytes, b)
		s.lostBytes += b
	}
	s.checkMaintLocked(g)
}

// firstLiveLocked returns the first live sequence at or after from, or 0,
// without loading an index.
func (s *Store) firstLiveLocked(from uint64) uint64 {
	for i := s.segFor(from); i < len(s.segs); i++ {
		g := s.segs[i]
		if g.msgs == 0 {
			continue
		}
		if g.sealed {
			if seq := g.nextLive(from); seq != 0 {
				return seq
			}
			continue
		}
		for j := g.search(from); j < g.n(); j++ {
			if g.at(j).live() {
				return g.seqAt(j)
			}
		}
	}
	return 0
}

// liveLocked reports whether seq is live in g.
func (s *Store) liveLocked(g *segment, seq uint64) bool {
	if g.sealed {
		return g.isLive(seq)
	}
	e := g.find(seq)
	return e != nil && e.live()
}

// indexStats is what IndexStats reports.
type indexStats struct {
	Loaded      int   // sealed segments whose index is in memory
	LoadedBytes int64 // the memory those take
}

func (s *Store) indexStatsLocked() indexStats {
	var st indexStats
	for _, g := range s.segs {
		if g.sealed && g.loaded {
			st.Loaded++
			st.LoadedBytes += g.indexBytes()
		}
	}
	return st
}

func (st indexStats) String() string {
	return fmt.Sprintf("%d loaded, %d bytes", st.Loaded, st.LoadedBytes)
}
