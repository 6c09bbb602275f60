package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/starling-mq/starling/internal/vfs"
)

// The high-water file ("highwater") keeps what the log alone cannot prove
// once its tail is damaged or a segment file is gone: the highest sequence
// ever acknowledged, and a bound no acknowledged sequence can exceed.
//
// It holds two fixed-size slots, at offsets 0 and 512 (different disk
// sectors, so a torn write damages at most one); each write goes to the
// slot its generation picks and a reader takes the valid slot with the
// higher generation. A slot is overwritten in place after every group
// commit, without fsync: that costs one small write, and after a process
// crash the operating system still has it, so it names exactly the last
// acknowledged sequence. After a power loss it may be older than the log
// (never newer: it is written after the log sync it describes), so it is
// then a lower bound only.
//
// The reservation is what survives a power loss: a sequence above
// "reserved" is never acknowledged until a slot with a higher reservation
// (the sequence plus reserveAhead) is synced, which costs one fsync per
// reserveAhead sequences, not one per commit. At open, if the machine
// rebooted since the slot was written and the log shows damage (or the
// store acknowledged before syncing, with a sync interval), the store
// cannot know how far acknowledgements went, so it continues above the
// reservation: a gap of at most reserveAhead sequences, never a reused one.
//
// Slot layout (little endian), 128 bytes:
//
//	0   4   magic "SHW1"
//	4   8   generation
//	12  8   last: every sequence up to it was acknowledged (or durable)
//	20  8   last time, unix ns
//	28  8   reserved: no sequence above it was acknowledged
//	36  8   first live sequence (lost ranges never start below it)
//	44  8   floor: every sequence below it was purged
//	52  8   active segment id
//	60  1   boot id length (0..48)
//	61  48  boot id of the machine that wrote the slot
//	124 4   CRC-32C of bytes 0..123

const (
	markFile     = "highwater"
	markSlotSize = 128
	markSlotStep = 512
	markBootMax  = 48
	markMagic    = "SHW1"
	// reserveAhead is how far a synced reservation runs ahead of the
	// acknowledged sequences: the fsync cost is one per this many
	// sequences, and the largest gap a recovery can leave.
	reserveAhead = 1 << 16
)

// mark is one slot's content.
type mark struct {
	gen      uint64
	last     uint64
	lastTime int64
	reserved uint64
	first    uint64
	floor    uint64
	active   uint64
	boot     string
}

var errBadMark = errors.New("filestore: bad high-water slot")

// encode returns the slot bytes.
func (m *mark) encode() []byte { return m.appendTo(make([]byte, 0, markSlotSize)) }

// appendTo appends the slot bytes to b, which needs markSlotSize spare
// capacity.
func (m *mark) appendTo(b []byte) []byte {
	start := len(b)
	b = append(b, markMagic...)
	le := binary.LittleEndian
	for _, v := range []uint64{m.gen, m.last, uint64(m.lastTime), m.reserved, m.first, m.floor, m.active} {
		b = le.AppendUint64(b, v)
	}
	boot := m.boot[:min(len(m.boot), markBootMax)]
	b = append(b, byte(len(boot)))
	b = append(b, boot...)
	b = b[:start+markSlotSize-crcSize]
	clear(b[start+61+len(boot):])
	return le.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// decodeMark parses one slot.
func decodeMark(b []byte) (mark, error) {
	if len(b) < markSlotSize {
		return mark{}, errBadMark
	}
	b = b[:markSlotSize]
	le := binary.LittleEndian
	if string(b[:4]) != markMagic || crc32.Checksum(b[:markSlotSize-crcSize], crcTable) != le.Uint32(b[markSlotSize-crcSize:]) {
		return mark{}, errBadMark
	}
	u := func(i int) uint64 { return le.Uint64(b[4+8*i:]) }
	n := int(b[60])
	if n > markBootMax {
		return mark{}, errBadMark
	}
	return mark{
		gen: u(0), last: u(1), lastTime: int64(u(2)), reserved: u(3),
		first: u(4), floor: u(5), active: u(6), boot: string(b[61 : 61+n]),
	}, nil
}

// pickMark returns the valid slot with the highest generation in the
// file's bytes.
func pickMark(b []byte) (mark, bool) {
	var best mark
	ok := false
	for off := 0; off+markSlotSize <= len(b) && off <= markSlotStep; off += markSlotStep {
		m, err := decodeMark(b[off:])
		if err == nil && (!ok || m.gen > best.gen) {
			best, ok = m, true
		}
	}
	return best, ok
}

// markWriter owns the high-water file, opened through the store's handle
// cache. Its methods are called with syncMu held (or before the store
// runs), which serialises them. Closing the handle does not sync it: an
// unsynced slot is allowed to be lost to a power failure (see above), and
// a synced one is written and synced through one pinned handle.
type markWriter struct {
	f    *rfile
	cur  mark // the content of the newest slot written
	sync bool // cur was synced
	buf  [markSlotSize]byte
}

// readMark reads the high-water file of dir. ok is false when it is
// missing or neither slot verifies.
func readMark(fsys vfs.FS, dir string) (m mark, ok bool, err error) {
	f, err := fsys.Open(filepath.Join(dir, markFile))
	if errors.Is(err, os.ErrNotExist) {
		return mark{}, false, nil
	}
	if err != nil {
		return mark{}, false, err
	}
	defer f.Close()
	b := make([]byte, markSlotStep+markSlotSize)
	n, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return mark{}, false, err
	}
	m, ok = pickMark(b[:n])
	if !ok {
		return mark{}, false, errBadMark
	}
	return m, true, nil
}

// openMarkWriter opens (creating if needed) the high-water file and writes
// m to it, synced: the first slot of this run. gen is the generation of the
// newest slot read, so the new one supersedes it.
func openMarkWriter(h *Handles, fsys vfs.FS, dir string, gen uint64, m mark) (*markWriter, error) {
	path := filepath.Join(dir, markFile)
	r := newRfile(h, fsys, path)
	r.noSyncOnClose = true
	f, err := r.pinWith(os.O_RDWR | os.O_CREATE)
	if err != nil {
		r.release()
		return nil, err
	}
	defer r.unpin()
	st, err := f.Stat()
	if err == nil && st.Size() < markSlotStep+markSlotSize {
		// New (or cut short): give it its full size so later writes are
		// overwrites, which cannot fail for lack of space.
		err = f.Truncate(markSlotStep + markSlotSize)
		if err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = fsys.SyncDir(dir)
		}
	}
	w := &markWriter{f: r, cur: mark{gen: gen}}
	if err == nil {
		err = w.write(m, true)
	}
	if err != nil {
		r.release()
		return nil, fmt.Errorf("filestore: high-water file: %w", err)
	}
	return w, nil
}

// write stores m in the next slot, synced if sync is set.
func (w *markWriter) write(m mark, sync bool) error {
	m.gen = w.cur.gen + 1
	off := int64(m.gen%2) * markSlotStep
	f, err := w.f.pin()
	if err != nil {
		return err
	}
	defer w.f.unpin()
	if _, err := f.WriteAt(m.appendTo(w.buf[:0]), off); err != nil {
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	w.cur, w.sync = m, sync
	return nil
}

// same reports whether m would write what the newest slot already holds.
func (w *markWriter) same(m mark) bool {
	m.gen = w.cur.gen
	return m == w.cur
}

func (w *markWriter) close() error { return w.f.release() }
