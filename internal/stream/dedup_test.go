package stream

import (
	"fmt"
	"testing"
)

func TestDedupWindow(t *testing.T) {
	d := newDedup(100)
	d.add("a", 1, 10)
	d.add("b", 2, 50)
	steps := []struct {
		id   string
		now  int64
		seq  uint64
		dup  bool
		size int
	}{
		{"a", 60, 1, true, 2},
		{"b", 60, 2, true, 2},
		{"a", 110, 0, false, 1}, // a expired at 10+100
		{"b", 149, 2, true, 1},
		{"b", 150, 0, false, 0},
		{"c", 150, 0, false, 0},
	}
	for _, s := range steps {
		// find alone answers by the window and changes nothing; the
		// window moves when an entry is applied (expire).
		before := d.len()
		seq, dup := d.find(s.id, s.now)
		if seq != s.seq || dup != s.dup || d.len() != before {
			t.Fatalf("find(%q, %d) = %d, %v (len %d -> %d); want %d, %v", s.id, s.now, seq, dup, before, d.len(), s.seq, s.dup)
		}
		d.expire(s.now)
		if seq, dup := d.find(s.id, s.now); seq != s.seq || dup != s.dup || d.len() != s.size {
			t.Fatalf("after expire(%d): find(%q) = %d, %v (len %d); want %d, %v (len %d)", s.now, s.id, seq, dup, d.len(), s.seq, s.dup, s.size)
		}
	}
}

// TestDedupRecord: record moves the window to the entry's time before
// remembering the ID, so the window follows applied entries, not a clock.
func TestDedupRecord(t *testing.T) {
	d := newDedup(100)
	d.record("a", 1, 10)
	d.record("", 2, 60) // no ID: the window still moves
	if d.len() != 1 {
		t.Fatalf("len = %d, want 1", d.len())
	}
	d.record("b", 3, 110) // a (10) is out of the window at 110
	if _, dup := d.find("a", 0); dup || d.len() != 1 {
		t.Fatalf("a still remembered (len %d)", d.len())
	}
	if seq, dup := d.find("b", 110); !dup || seq != 3 {
		t.Fatalf("find(b) = %d, %v", seq, dup)
	}
	off := newDedup(0)
	off.record("a", 1, 0)
	if off.len() != 0 {
		t.Fatal("a zero window must not remember ids")
	}
}

func TestDedupReAddAfterExpiry(t *testing.T) {
	d := newDedup(10)
	d.add("x", 1, 0)
	if _, dup := d.find("x", 20); dup {
		t.Fatal("expired id still found")
	}
	d.add("x", 5, 20)
	// The first item for x expires again at 10: it must not drop the
	// newer entry.
	d.expire(25)
	if seq, dup := d.find("x", 25); !dup || seq != 5 {
		t.Fatalf("re-added id: %d %v", seq, dup)
	}
}

func TestDedupDisabledAndCompaction(t *testing.T) {
	off := newDedup(0)
	off.add("a", 1, 0)
	if _, dup := off.find("a", 0); dup || off.len() != 0 {
		t.Fatal("a zero window must not remember ids")
	}
	d := newDedup(1)
	for i := range 5000 {
		d.add(fmt.Sprint(i), uint64(i+1), int64(i))
		d.expire(int64(i))
	}
	if d.len() > 2 || len(d.order)-d.head > 2 || cap(d.order) > 4096 {
		t.Fatalf("not compacted: len %d, order %d, head %d, cap %d", d.len(), len(d.order), d.head, cap(d.order))
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"never", -1, true},
		{"NEVER", -1, true},
		{"1s", 1, true},
		{"90s", 90, true},
		{"2m", 120, true},
		{"1h", 3600, true},
		{"500ms", 0, false},
		{"30", 30, true},
		{"0", 0, false}, // a zero duration parses, and is under a second, as in nats-server
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseTTL(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTTL(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
