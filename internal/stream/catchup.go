package stream

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/starling-mq/starling/internal/store"
)

// Catching a replica up from a peer's store.
//
// A replica given a snapshot of its group (its log was compacted past
// what the replica had applied) must make its store what the snapshot
// names: every message up to the snapshot's last sequence. It asks a
// peer that applied at least as much for the range in pieces (a
// CatchUp each), applying one before asking for the next, so the fetch
// is bounded and paced by the fetcher. The peer's store may be ahead of
// the snapshot (later deletes), never behind; what it removed since, the
// entries after the snapshot remove too, so taking its state converges.
//
// Sequences the replica already had (up to had) come as runs of present
// sequences without their bytes: what the replica holds there and the
// peer does not was removed by an entry the compaction dropped, and is
// removed here. Sequences past had come as message entries, applied as
// the log's would be; a gap is skipped sequences, as ApplyEntry leaves.

// CatchUp is one piece of a stream's messages: it covers sequences From
// to Next-1 of the range asked for.
type CatchUp struct {
	From, Next uint64
	// First is the peer's first sequence: everything below it is gone.
	First uint64
	// Present lists runs [a, b] of stored sequences at or below had.
	Present [][2]uint64
	// Entries are message entries (EncodeEntry) past had, ascending.
	Entries [][]byte
}

// catchUpRuns bounds the sequences one piece walks through below had.
const catchUpRuns = 16384

// ServeCatchUp returns the piece of sequences from..to (to included) a
// replica that holds messages up to had needs, carrying at most about
// maxBytes of messages. A piece whose Next is past to is the last.
func (s *Stream) ServeCatchUp(from, to, had uint64, maxBytes int) (*CatchUp, error) {
	if from == 0 || from > to {
		return nil, fmt.Errorf("stream: catch-up range %d..%d", from, to)
	}
	c := &CatchUp{From: from, First: s.st.State().FirstSeq}
	seq, size, walked := from, 0, 0
	for seq <= to {
		m, err := s.st.LoadNext("", seq)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.Seq > to) {
			seq = to + 1
			break
		}
		if err != nil {
			return nil, err
		}
		if m.Seq <= had {
			if n := len(c.Present); n > 0 && c.Present[n-1][1]+1 == m.Seq {
				c.Present[n-1][1] = m.Seq
			} else {
				c.Present = append(c.Present, [2]uint64{m.Seq, m.Seq})
			}
			seq = m.Seq + 1
			if walked++; walked >= catchUpRuns {
				break
			}
			continue
		}
		id, _ := headerValue(m.Header, hdrMsgID)
		b := EncodeEntry(&Entry{Kind: EntryMsg, Seq: m.Seq, Time: m.Time, Subject: m.Subject,
			Header: m.Header, Data: m.Data, MsgID: id, TTL: m.TTL})
		c.Entries = append(c.Entries, b)
		seq = m.Seq + 1
		if size += len(b); size >= maxBytes {
			break
		}
	}
	c.Next = seq
	return c, nil
}

// ApplyCatchUp makes this replica's store match piece c of the range up
// to to, for a replica that held messages up to had when the fetch began.
// The last piece leaves the stream's last sequence at to. Nothing is
// republished: these messages were, when first stored.
func (s *Stream) ApplyCatchUp(c *CatchUp, had, to uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.quiet = true
	defer func() { s.quiet = false }()
	if c.First > 1 && s.st.State().FirstSeq < c.First && c.From <= had {
		e := Entry{Kind: EntryPurge, Seq: s.last, Purge: store.PurgeRequest{Seq: min(c.First, had+1)}}
		if _, err := s.applyOpLocked(&e); err != nil {
			return err
		}
	}
	if err := s.dropAbsentLocked(c, min(c.Next-1, had)); err != nil {
		return err
	}
	for _, b := range c.Entries {
		e, err := DecodeEntry(b)
		if err != nil {
			return err
		}
		if e.Kind != EntryMsg || e.Seq <= had || e.Seq > to {
			return fmt.Errorf("%w: catch-up entry %d outside %d..%d", ErrBadEntry, e.Seq, had+1, to)
		}
		if e.Seq <= s.last {
			continue // applied by an earlier attempt
		}
		if r := s.applyLocked(&e); r.err != nil {
			return r.err
		}
	}
	if c.Next > to && s.last < to {
		if r := s.applyLocked(&Entry{Kind: EntrySkip, Seq: to}); r.err != nil {
			return r.err
		}
	}
	s.syncLastLocked()
	return nil
}

// dropAbsentLocked removes the messages from c.From to upTo that the
// peer's runs do not list.
func (s *Stream) dropAbsentLocked(c *CatchUp, upTo uint64) error {
	seq, runs := c.From, c.Present
	for seq <= upTo {
		m, err := s.st.LoadNext("", seq)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.Seq > upTo) {
			return nil
		}
		if err != nil {
			return err
		}
		seq = m.Seq + 1
		for len(runs) > 0 && runs[0][1] < m.Seq {
			runs = runs[1:]
		}
		if len(runs) > 0 && runs[0][0] <= m.Seq {
			continue
		}
		if _, err := s.st.Delete(m.Seq, false); err != nil && !errors.Is(err, store.ErrNotFound) {
			return storeFailed(err)
		}
	}
	return nil
}

// SyncStore makes everything applied so far durable in the store.
func (s *Stream) SyncStore() error { return s.st.Sync() }

// LastSeq is the last sequence applied.
func (s *Stream) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// The wire form of a CatchUp, integers little endian: from, next, first
// (8 bytes each); the count of runs (4) and each run's two ends (8 each);
// the count of entries (4) and each entry's length (4) and bytes.

// MarshalBinary encodes c.
func (c *CatchUp) MarshalBinary() ([]byte, error) {
	n := 24 + 4 + 16*len(c.Present) + 4
	for _, e := range c.Entries {
		n += 4 + len(e)
	}
	b := make([]byte, 0, n)
	b = binary.LittleEndian.AppendUint64(b, c.From)
	b = binary.LittleEndian.AppendUint64(b, c.Next)
	b = binary.LittleEndian.AppendUint64(b, c.First)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Present)))
	for _, r := range c.Present {
		b = binary.LittleEndian.AppendUint64(b, r[0])
		b = binary.LittleEndian.AppendUint64(b, r[1])
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Entries)))
	for _, e := range c.Entries {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

var errBadCatchUp = errors.New("stream: malformed catch-up piece")

// UnmarshalBinary decodes what MarshalBinary encoded, checking every
// length against what is there; entries alias b.
func (c *CatchUp) UnmarshalBinary(b []byte) error {
	if len(b) < 28 {
		return errBadCatchUp
	}
	*c = CatchUp{From: binary.LittleEndian.Uint64(b), Next: binary.LittleEndian.Uint64(b[8:]),
		First: binary.LittleEndian.Uint64(b[16:])}
	nr := uint64(binary.LittleEndian.Uint32(b[24:]))
	b = b[28:]
	if nr > uint64(len(b))/16 {
		return errBadCatchUp
	}
	var prev uint64
	for i := range nr {
		r := [2]uint64{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
		if r[0] > r[1] || r[0] < c.From || (i > 0 && r[0] <= prev) {
			return errBadCatchUp
		}
		prev = r[1]
		c.Present = append(c.Present, r)
		b = b[16:]
	}
	if len(b) < 4 {
		return errBadCatchUp
	}
	ne := uint64(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if ne > uint64(len(b))/4 {
		return errBadCatchUp
	}
	for range ne {
		if len(b) < 4 {
			return errBadCatchUp
		}
		n := uint64(binary.LittleEndian.Uint32(b))
		if n > uint64(len(b)-4) {
			return errBadCatchUp
		}
		c.Entries = append(c.Entries, b[4:4+n])
		b = b[4+n:]
	}
	if len(b) != 0 || c.Next < c.From {
		return errBadCatchUp
	}
	return nil
}
