package filestore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// gapSeq is where TestAppendAt* store a message after messages 1..3.
const gapSeq = 10

// appendAtGap writes messages 1..3, syncs, then stores gapSeq with
// AppendAt and flushes it to the file without a sync. It returns the
// segment's synced length and its length with the gap's records.
func appendAtGap(t *testing.T, fsys vfs.FS, sync bool) (synced, full int) {
	t.Helper()
	s := mustOpen(t, fsys, Config{Logger: nopLogger})
	writeN(t, s, 3)
	mustSync(t, s)
	synced = len(fileBytes(t, fsys, seg1))
	if err := s.AppendAt(gapSeq, "crash", nil, payloadFor(gapSeq), 0, 0); err != nil {
		t.Fatal(err)
	}
	locked(s, func() {
		if err := s.flushLocked(); err != nil {
			t.Fatal(err)
		}
	})
	if sync {
		mustSync(t, s)
	}
	full = len(fileBytes(t, fsys, seg1))
	if full <= synced+metaRecordSize {
		t.Fatalf("gap records take %d bytes, want a meta record and a message", full-synced)
	}
	// Left open: the crash clones take the files as they are.
	t.Cleanup(func() { s.Close() })
	return synced, full
}

// TestAppendAtTornTail crashes while a message stored past a gap is being
// written, keeping every prefix of its unsynced records (one meta record
// naming the skipped sequences, then the message): recovery comes back
// with the synced messages, reports nothing lost, and goes on after
// whatever sequence the surviving records vouch for.
func TestAppendAtTornTail(t *testing.T) {
	fsys := vfs.NewMem()
	synced, full := appendAtGap(t, fsys, false)
	for cut := 0; cut <= full-synced; cut++ {
		c := fsys.CrashClone(vfs.KeepUnsynced(func(name string, _ int) int {
			if name == seg1 {
				return cut
			}
			return 0
		}))
		s := mustOpen(t, c, Config{Logger: nopLogger, BootID: "after-the-crash"})
		st := s.State()
		wantLast, wantMsgs := uint64(3), uint64(3)
		switch {
		case cut == full-synced:
			wantLast, wantMsgs = gapSeq, 4
		case cut >= metaRecordSize:
			wantLast = gapSeq - 1 // the meta record made it, the message did not
		}
		if st.LastSeq != wantLast || st.Msgs != wantMsgs || len(st.Lost.Msgs) != 0 {
			t.Fatalf("cut %d: state %+v, want last %d, %d messages, nothing lost", cut, st, wantLast, wantMsgs)
		}
		if wantMsgs == 4 {
			if m, err := s.Load(gapSeq); err != nil || !bytes.Equal(m.Data, payloadFor(gapSeq)) {
				t.Fatalf("cut %d: Load(%d) = %v, %v", cut, gapSeq, m, err)
			}
		}
		if seq := mustAppend(t, s, "after", nil, nil); seq != wantLast+1 {
			t.Fatalf("cut %d: append after recovery = %d, want %d", cut, seq, wantLast+1)
		}
		s.Close()
	}
}

// TestAppendAtBitRot damages a synced message stored past a gap: the
// meta record before it says which sequence it held, so that one is
// reported lost and the last sequence stays, the gap still reads as
// skipped sequences, not lost ones.
func TestAppendAtBitRot(t *testing.T) {
	fsys := vfs.NewMem()
	_, full := appendAtGap(t, fsys, true)
	c := fsys.CrashClone()
	flipByte(t, c, seg1, int64(full-10)) // inside the message's payload
	for reopen := range 2 {
		s := mustOpen(t, c, Config{Logger: nopLogger})
		st := s.State()
		if st.LastSeq != gapSeq || st.Msgs != 3 || len(st.Lost.Msgs) != 1 || st.Lost.Msgs[0] != gapSeq {
			t.Fatalf("reopen %d: state %+v, want last %d with %d lost", reopen, st, gapSeq, gapSeq)
		}
		if _, err := s.Load(gapSeq); !errors.Is(err, store.ErrCorrupt) {
			t.Fatalf("reopen %d: Load(%d) = %v, want ErrCorrupt", reopen, gapSeq, err)
		}
		mustClose(t, s)
	}
}
