package chaos

import (
	"reflect"
	"strings"
	"testing"
)

func TestPayload(t *testing.T) {
	for _, tc := range []struct {
		pub  string
		seq  uint64
		size int
		want string
	}{
		{"p0", 1, 0, "p0:1:"},
		{"p0", 12, 8, "p0:12:.."},
		{"server-2", 1 << 40, 0, "server-2:1099511627776:"},
	} {
		b := Payload(tc.pub, tc.seq, tc.size)
		if string(b) != tc.want {
			t.Errorf("Payload(%q, %d, %d) = %q, want %q", tc.pub, tc.seq, tc.size, b, tc.want)
		}
		pub, seq, err := ParsePayload(b)
		if err != nil || pub != tc.pub || seq != tc.seq {
			t.Errorf("ParsePayload(%q) = %q, %d, %v", b, pub, seq, err)
		}
	}
	for _, bad := range []string{"", "p0", ":1:", "p0:x:", "p0:1"} {
		if _, _, err := ParsePayload([]byte(bad)); err == nil {
			t.Errorf("ParsePayload(%q) accepted", bad)
		}
	}
}

func TestLedger(t *testing.T) {
	type rec struct {
		pub string
		seq uint64
	}
	for _, tc := range []struct {
		name     string
		recs     []rec
		problems []string // parts of Err's text; none means nil
		count    int      // of p in [1, 10]
		missing  []uint64 // of p in [1, 5]
	}{
		{"in order with gaps", []rec{{"p", 1}, {"p", 2}, {"p", 5}, {"q", 1}}, nil, 3, []uint64{3, 4}},
		{"publishers interleaved", []rec{{"p", 1}, {"q", 7}, {"p", 2}, {"q", 8}}, nil, 2, []uint64{3, 4, 5}},
		{"duplicate", []rec{{"p", 1}, {"p", 2}, {"p", 2}}, []string{"p:2 received twice"}, 2, []uint64{3, 4, 5}},
		{"out of order", []rec{{"p", 1}, {"p", 3}, {"p", 2}}, []string{"p:2 received after p:3"}, 3, []uint64{4, 5}},
		{"old duplicate", []rec{{"p", 1}, {"p", 3}, {"p", 1}}, []string{"p:1 received twice"}, 2, []uint64{2, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger()
			for _, r := range tc.recs {
				l.RecordPayload(Payload(r.pub, r.seq, 10))
			}
			err := l.Err()
			if len(tc.problems) == 0 && err != nil {
				t.Fatalf("unexpected %v", err)
			}
			for _, p := range tc.problems {
				if err == nil || !strings.Contains(err.Error(), p) {
					t.Fatalf("Err() = %v, want %q in it", err, p)
				}
			}
			if got := l.Count("p", 1, 10); got != tc.count {
				t.Errorf("Count = %d, want %d", got, tc.count)
			}
			if got := l.Missing("p", 1, 5, 10); !reflect.DeepEqual(got, tc.missing) {
				t.Errorf("Missing = %v, want %v", got, tc.missing)
			}
		})
	}
	l := NewLedger()
	l.RecordPayload([]byte("garbage"))
	if l.Err() == nil {
		t.Error("a payload without publisher went unnoticed")
	}
}
