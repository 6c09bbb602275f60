package filestore

import (
	"testing"

	"github.com/starling-mq/starling/internal/vfs"
)

// TestReserve: the active segment reserves blocks ahead of its writes
// only once it holds reserveAfter bytes, a step at a time, never past the
// segment size (plus the write that overflows it); a new segment starts
// with nothing reserved.
func TestReserve(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Config{SegmentSize: 2 << 20})
	defer mustClose(t, s)
	payload := make([]byte, 4000)
	reserved := func() (r, size int64, id uint64) {
		locked(s, func() { r, size, id = s.active.reserved, s.active.size, s.active.id })
		return
	}
	for i := 0; i < 2000; i++ {
		mustAppend(t, s, "r", nil, payload)
		mustSync(t, s)
		r, size, _ := reserved()
		switch {
		case size < reserveAfter && r != 0:
			t.Fatalf("%d bytes written, %d reserved: a small segment reserves nothing", size, r)
		case size >= reserveAfter && r < size:
			t.Fatalf("%d bytes written, only %d reserved", size, r)
		case r > max(2<<20, size):
			t.Fatalf("%d reserved, past the segment size", r)
		case r > size+reserveStep:
			t.Fatalf("%d reserved for %d written: more than a step ahead", r, size)
		}
	}
	if _, _, id := reserved(); id == 1 {
		t.Fatal("the store never moved to a new segment")
	}
}
