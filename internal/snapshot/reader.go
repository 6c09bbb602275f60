package snapshot

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/s2"
)

// Limits bound what reading an archive may hold in memory.
type Limits struct {
	MaxMetaLen      int64 // meta.inf and meta.sum files
	MaxStateLen     int64 // a consumer's o.dat
	MaxIndexLen     int64 // msgs/index.db, msgs/<n>.idx
	MaxDeletedPages int   // pages of the deleted set (SeqSet)
	MaxConsumers    int
}

// DefaultLimits are generous for real streams and keep a hostile archive
// to a few hundred MiB of memory at most.
var DefaultLimits = Limits{
	MaxMetaLen:      1 << 20,
	MaxStateLen:     64 << 20,
	MaxIndexLen:     256 << 20,
	MaxDeletedPages: 1 << 18, // 64 MiB of bitmaps, 512M dense deletes
	MaxConsumers:    100_000,
}

// Manifest is everything an archive holds except the messages, read by
// Scan; Replay then walks the messages with it.
type Manifest struct {
	Stream    StreamMeta
	Consumers []Consumer // by name
	// Deleted are sequences an archive says were removed although a
	// block may still hold a record for them.
	Deleted *SeqSet
	// Blocks are the block numbers in archive order; BlockFirst is the
	// first live sequence of a block as its index says (earlier records
	// of the block were removed).
	Blocks     []uint32
	BlockFirst map[uint32]uint64
	// LastSeq is the highest sequence the archive accounts for (messages,
	// erased records, tombstones, indexes); 0 for an archive of a stream
	// that never stored anything.
	LastSeq uint64
	// Records counts the message records seen (before deletes).
	Records uint64
	// Notes report what a reader may want to log: an index that did not
	// match the blocks, and so on.
	Notes []string
}

// Consumer is one consumer of an archive.
type Consumer struct {
	Meta  *ConsumerMeta
	State *ConsumerState // nil when the archive has none
}

type consumerFiles struct {
	meta, sum, state []byte
}

// scanState is Scan's work in progress.
type scanState struct {
	lim       Limits
	m         *Manifest
	meta, sum []byte
	index     []byte
	consumers map[string]*consumerFiles
	lastRec   uint64 // highest live or erased record
	lastSums  map[uint32][checksumLen]byte
	rec       Record
}

// Scan reads a whole archive (s2-compressed tar) and returns its manifest,
// checking every record's checksum on the way. stream is the name the
// archive must be for.
func Scan(r io.Reader, stream string, lim Limits) (*Manifest, error) {
	s := &scanState{
		lim:       lim,
		m:         &Manifest{Deleted: NewSeqSet(lim.MaxDeletedPages), BlockFirst: map[uint32]uint64{}},
		consumers: map[string]*consumerFiles{},
		lastSums:  map[uint32][checksumLen]byte{},
	}
	src := &sourceReader{r: r}
	tr, err := openArchive(src)
	if err != nil {
		return nil, err
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, src.blame(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, corrupt("%q is not a regular file", hdr.Name)
		}
		if err := s.entry(hdr.Name, tr, stream); err != nil {
			return nil, fmt.Errorf("%s: %w", hdr.Name, src.blame(err))
		}
	}
	return s.finish(stream)
}

// newFormatMagic starts the archives nats-server 2.15 and later write
// (natscli saves them as stream.arc.s2) instead of a tar.
const newFormatMagic = "NATSARC1"

// ErrNewFormat is returned for an archive in nats-server 2.15's format.
var ErrNewFormat = fmt.Errorf("%w: the archive is in the format of nats-server 2.15 and later (stream.arc.s2), which this server does not read; copy such a stream with a mirror or a source instead", ErrUnsupported)

// openArchive opens the tar inside the S2 stream.
func openArchive(src *sourceReader) (*tar.Reader, error) {
	br := bufio.NewReader(s2.NewReader(src))
	if magic, err := br.Peek(len(newFormatMagic)); err == nil && string(magic) == newFormatMagic {
		return nil, ErrNewFormat
	} else if err != nil && err != io.EOF {
		return nil, src.blame(err)
	}
	return tar.NewReader(br), nil
}

// sourceReader remembers the errors of the archive's own reader, so a
// failure to read (I/O, a shutdown) is reported as itself and everything
// else the tar and S2 layers complain about as corruption.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

func (s *sourceReader) blame(err error) error {
	switch {
	case s.err != nil:
		return s.err
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnsupported):
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func (s *scanState) entry(name string, r io.Reader, stream string) error {
	switch {
	case name == metaFile:
		if err := readSmall(r, s.lim.MaxMetaLen, &s.meta); err != nil {
			return err
		}
		// Checked at once: the blocks' checksums are keyed by the name,
		// so an archive of another stream would otherwise fail as corrupt.
		return checkStreamName(s.meta, stream)
	case name == sumFile:
		return readSmall(r, s.lim.MaxMetaLen, &s.sum)
	case name == indexFile:
		return readSmall(r, s.lim.MaxIndexLen, &s.index)
	case name == errorsFile:
		var b []byte
		if err := readSmall(r, s.lim.MaxMetaLen, &b); err != nil {
			return err
		}
		return fmt.Errorf("%w: the server failed while taking this snapshot: %s", ErrCorrupt, b)
	case strings.HasPrefix(name, msgsDir) && strings.HasSuffix(name, blockSuffix):
		n, err := blockNumber(name, blockSuffix)
		if err != nil {
			return err
		}
		return s.block(r, stream, n)
	case strings.HasPrefix(name, msgsDir) && strings.HasSuffix(name, idxSuffix):
		n, err := blockNumber(name, idxSuffix)
		if err != nil {
			return err
		}
		var b []byte
		if err := readSmall(r, s.lim.MaxIndexLen, &b); err != nil {
			return err
		}
		bi, err := DecodeBlockIndex(b, s.m.Deleted)
		if err != nil {
			return err
		}
		s.applyBlockInfo(n, bi)
		return nil
	case strings.HasPrefix(name, consumersDir):
		return s.consumerFile(name, r)
	}
	return nil // other files (2.9's per-subject .fss) are derived data
}

func blockNumber(name, suffix string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, msgsDir), suffix), 10, 32)
	if err != nil || n == 0 {
		return 0, corrupt("bad block file name")
	}
	return uint32(n), nil
}

// readSmall reads a whole member of at most limit bytes into *dst.
func readSmall(r io.Reader, limit int64, dst *[]byte) error {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err // blamed by the caller
	}
	if int64(len(b)) > limit {
		return corrupt("larger than %d bytes", limit)
	}
	*dst = b
	return nil
}

func (s *scanState) block(r io.Reader, stream string, n uint32) error {
	if k := len(s.m.Blocks); k > 0 && n <= s.m.Blocks[k-1] {
		return corrupt("block %d after block %d", n, s.m.Blocks[k-1])
	}
	s.m.Blocks = append(s.m.Blocks, n)
	rr := NewRecordReader(r, stream, n)
	for {
		err := rr.Next(&s.rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rec := &s.rec
		s.see(rec.Seq)
		if rec.Tombstone {
			if err := s.m.Deleted.Add(rec.Seq); err != nil {
				return err
			}
			continue
		}
		if rec.Seq <= s.lastRec && rec.Seq != 0 {
			return corrupt("record %d after record %d", rec.Seq, s.lastRec)
		}
		s.lastRec = max(s.lastRec, rec.Seq)
		if rec.Erased || rec.Seq == 0 {
			continue
		}
		s.m.Records++
	}
	if rr.off > 0 {
		var sum [checksumLen]byte
		copy(sum[:], rr.sum)
		s.lastSums[n] = sum
	}
	return nil
}

// see widens the range of sequences the archive accounts for.
func (s *scanState) see(seq uint64) {
	s.m.LastSeq = max(s.m.LastSeq, seq)
}

func (s *scanState) applyBlockInfo(n uint32, bi BlockInfo) {
	if bi.First > 0 {
		s.m.BlockFirst[n] = bi.First
	}
	if bi.Last > 0 && bi.Last >= bi.First {
		s.see(bi.Last)
	}
}

func (s *scanState) consumerFile(name string, r io.Reader) error {
	rest := strings.TrimPrefix(name, consumersDir)
	dir, file, ok := strings.Cut(rest, "/")
	if !ok || dir == "" || strings.Contains(file, "/") {
		return nil
	}
	cf := s.consumers[dir]
	if cf == nil {
		if len(s.consumers) >= s.lim.MaxConsumers {
			return corrupt("more than %d consumers", s.lim.MaxConsumers)
		}
		cf = &consumerFiles{}
		s.consumers[dir] = cf
	}
	switch file {
	case metaFile:
		return readSmall(r, s.lim.MaxMetaLen, &cf.meta)
	case sumFile:
		return readSmall(r, s.lim.MaxMetaLen, &cf.sum)
	case stateFile:
		return readSmall(r, s.lim.MaxStateLen, &cf.state)
	}
	return nil
}

func (s *scanState) finish(stream string) (*Manifest, error) {
	if s.meta == nil {
		return nil, corrupt("no meta.inf: not a stream snapshot")
	}
	if err := checkStreamName(s.meta, stream); err != nil {
		return nil, err
	}
	meta, _ := DecodeStreamMeta(s.meta)
	if s.sum != nil {
		if err := checkSum("meta.inf", s.sum, metaSum(streamHash(stream), s.meta)); err != nil {
			return nil, err
		}
	}
	s.m.Stream = *meta
	if s.index != nil {
		if err := s.applyStreamIndex(stream); err != nil {
			return nil, fmt.Errorf("%s: %w", indexFile, err)
		}
	}
	if err := s.collectConsumers(stream); err != nil {
		return nil, err
	}
	return s.m, nil
}

func checkStreamName(metaInf []byte, stream string) error {
	meta, err := DecodeStreamMeta(metaInf)
	if err != nil {
		return err
	}
	if meta.Name != stream {
		return fmt.Errorf("%w: the archive holds stream %q, not %q (stream names can not be changed by a restore)", ErrCorrupt, meta.Name, stream)
	}
	return nil
}

func (s *scanState) applyStreamIndex(stream string) error {
	ix, err := DecodeStreamIndex(s.index, stream, s.m.Deleted)
	if err != nil {
		return err
	}
	for n, bi := range ix.Blocks {
		if bi.First > 0 {
			s.m.BlockFirst[n] = bi.First
		}
	}
	// The index is written after the blocks were copied: when the last
	// block's last record is the one it names, it describes exactly these
	// blocks and its last sequence holds; otherwise the stream moved on
	// meanwhile and only its deletes (which are final) are used.
	sum, ok := s.lastSums[ix.LastBlock]
	lastBlock := len(s.m.Blocks) == 0 || s.m.Blocks[len(s.m.Blocks)-1] == ix.LastBlock
	if ok && lastBlock && sum == ix.LastChecksum {
		s.see(ix.LastSeq)
	} else if ix.LastSeq > s.m.LastSeq {
		s.m.Notes = append(s.m.Notes, fmt.Sprintf("msgs/index.db is newer than the blocks (last sequence %d, blocks end at %d)", ix.LastSeq, s.m.LastSeq))
	}
	return nil
}

func (s *scanState) collectConsumers(stream string) error {
	names := make([]string, 0, len(s.consumers))
	for n := range s.consumers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, dir := range names {
		cf := s.consumers[dir]
		if cf.meta == nil || cf.sum == nil {
			return corrupt("consumer %q has no meta.inf or meta.sum", dir)
		}
		if err := checkSum("consumer "+strconv.Quote(dir)+" meta.inf", cf.sum, metaSum(consumerHash(stream, dir), cf.meta)); err != nil {
			return err
		}
		meta, err := DecodeConsumerMeta(cf.meta)
		if err != nil {
			return fmt.Errorf("consumer %q: %w", dir, err)
		}
		if meta.Name == "" {
			meta.Name = dir
		}
		c := Consumer{Meta: meta}
		if cf.state != nil {
			if c.State, err = DecodeConsumerState(cf.state); err != nil {
				return fmt.Errorf("consumer %q: %w", dir, err)
			}
		}
		s.m.Consumers = append(s.m.Consumers, c)
	}
	return nil
}

// Replay reads the archive again and calls fn for every message that is
// not deleted, in sequence order. rec's slices are valid only during the
// call. An error from fn stops the replay and is returned as is.
func Replay(r io.Reader, m *Manifest, stream string, fn func(rec *Record) error) error {
	src := &sourceReader{r: r}
	tr, err := openArchive(src)
	if err != nil {
		return err
	}
	var rec Record
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return src.blame(err)
		}
		if !strings.HasPrefix(hdr.Name, msgsDir) || !strings.HasSuffix(hdr.Name, blockSuffix) {
			continue
		}
		n, err := blockNumber(hdr.Name, blockSuffix)
		if err != nil {
			return err
		}
		first := m.BlockFirst[n]
		rr := NewRecordReader(tr, stream, n)
		for {
			err := rr.Next(&rec)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, src.blame(err))
			}
			if rec.Tombstone || rec.Erased || rec.Seq == 0 || rec.Seq < first || m.Deleted.Has(rec.Seq) {
				continue
			}
			if err := fn(&rec); err != nil {
				return err
			}
		}
	}
}
