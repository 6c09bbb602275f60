package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"

	"github.com/starling-mq/starling/internal/vfs"
)

// The segment map ("segments") tells a segment removed on purpose from one
// that went missing. Segment ids are handed out in increasing order and a
// file exists for each, so the ids that should exist are known from two
// facts: the map, written and synced (replaced atomically) before any
// segment file is removed, lists the ids that existed then and the next id
// to be handed out; every id from that next one up to the active segment
// named in the high-water file was created since and cannot have been
// removed, or the map would have been rewritten. An expected id with no
// file is a lost segment.
//
// Layout (little endian): magic "SSM1", next id u64, range count u32, that
// many (first id u64, last id u64) ranges, ascending, then the CRC-32C of
// everything before it.

const (
	segMapFile  = "segments"
	segMapMagic = "SSM1"
	// maxMapRanges bounds what a damaged map can make recovery allocate.
	maxMapRanges = 1 << 24
)

var errBadSegMap = errors.New("filestore: bad segment map")

// span is an inclusive range of segment ids or sequences.
type span struct{ lo, hi uint64 }

// segMap is the decoded map.
type segMap struct {
	next uint64
	ids  []span
}

// toRanges packs sorted ids into ranges.
func toRanges(ids []uint64) []span {
	var out []span
	for _, id := range ids {
		if n := len(out); n > 0 && out[n-1].hi+1 == id {
			out[n-1].hi = id
			continue
		}
		out = append(out, span{id, id})
	}
	return out
}

func (m *segMap) encode() []byte {
	le := binary.LittleEndian
	b := append([]byte(nil), segMapMagic...)
	b = le.AppendUint64(b, m.next)
	b = le.AppendUint32(b, uint32(len(m.ids)))
	for _, r := range m.ids {
		b = le.AppendUint64(b, r.lo)
		b = le.AppendUint64(b, r.hi)
	}
	return appendCRC(b)
}

func decodeSegMap(b []byte) (segMap, error) {
	le := binary.LittleEndian
	if len(b) < 4+8+4+crcSize || string(b[:4]) != segMapMagic {
		return segMap{}, errBadSegMap
	}
	body := b[:len(b)-crcSize]
	if crc32.Checksum(body, crcTable) != le.Uint32(b[len(b)-crcSize:]) {
		return segMap{}, errBadSegMap
	}
	m := segMap{next: le.Uint64(body[4:])}
	n := le.Uint32(body[12:])
	rest := body[16:]
	if n > maxMapRanges || uint64(len(rest)) != uint64(n)*16 {
		return segMap{}, errBadSegMap
	}
	for ; len(rest) > 0; rest = rest[16:] {
		r := span{le.Uint64(rest), le.Uint64(rest[8:])}
		if r.lo > r.hi || (len(m.ids) > 0 && r.lo <= m.ids[len(m.ids)-1].hi) {
			return segMap{}, errBadSegMap
		}
		m.ids = append(m.ids, r)
	}
	return m, nil
}

// readSegMap reads dir's map; ok is false when there is none or it does
// not verify (then err says why, for the log).
func readSegMap(fsys vfs.FS, dir string) (segMap, bool, error) {
	f, err := fsys.Open(filepath.Join(dir, segMapFile))
	if errors.Is(err, os.ErrNotExist) {
		return segMap{}, false, nil
	}
	if err != nil {
		return segMap{}, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return segMap{}, false, err
	}
	if st.Size() > 16+16*maxMapRanges+crcSize {
		return segMap{}, false, errBadSegMap
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return segMap{}, false, err
	}
	m, err := decodeSegMap(b)
	return m, err == nil, err
}

// writeSegMap replaces dir's map durably: temporary file, sync, rename,
// directory sync.
func writeSegMap(fsys vfs.FS, dir string, m *segMap) error {
	path := filepath.Join(dir, segMapFile)
	f, err := fsys.Create(path + ".tmp")
	if err != nil {
		return err
	}
	_, err = f.WriteAt(m.encode(), 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(path+".tmp", path)
	}
	if err == nil {
		err = fsys.SyncDir(dir)
	}
	if err != nil {
		fsys.Remove(path + ".tmp")
		return fmt.Errorf("filestore: segment map: %w", err)
	}
	return nil
}

// missingSegments returns the ranges of segment ids that should exist but
// have no file. disk is the sorted ids found; active is the active segment
// named by the high-water file (0 if unknown); m is the map if ok.
func missingSegments(disk []uint64, m segMap, ok bool, active uint64) []span {
	top := active
	if n := len(disk); n > 0 {
		top = max(top, disk[n-1])
	}
	var want []span
	switch {
	case ok:
		want = slices.Clone(m.ids)
		if m.next <= top {
			if n := len(want); n > 0 && want[n-1].hi+1 >= m.next {
				want[n-1].hi = max(want[n-1].hi, top)
			} else {
				want = append(want, span{m.next, top})
			}
		}
	case len(disk) > 0 && active > disk[len(disk)-1]:
		want = []span{{disk[len(disk)-1] + 1, active}}
	case len(disk) == 0 && active > 0:
		want = []span{{active, active}}
	}
	// Subtract the ids present.
	var out []span
	i := 0
	for _, r := range want {
		lo := r.lo
		for i < len(disk) && disk[i] < lo {
			i++
		}
		for ; i < len(disk) && disk[i] <= r.hi; i++ {
			if disk[i] > lo {
				out = append(out, span{lo, disk[i] - 1})
			}
			lo = disk[i] + 1
		}
		if lo <= r.hi {
			out = append(out, span{lo, r.hi})
		}
	}
	return out
}
