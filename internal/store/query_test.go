package store

import (
	"slices"
	"testing"
)

func TestSeqAtTime(t *testing.T) {
	st := NewMemory()
	defer st.Close()
	if got := SeqAtTime(st, 5); got != 1 {
		t.Fatalf("empty store: %d, want 1", got)
	}
	for _, ts := range []int64{10, 20, 20, 30} { // seqs 1..4
		if _, err := st.Append("s", nil, nil, ts, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Delete(2, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ts   int64
		want uint64
	}{{0, 1}, {10, 1}, {11, 3}, {20, 3}, {21, 4}, {30, 4}, {31, 5}} {
		if got := SeqAtTime(st, tc.ts); got != tc.want {
			t.Errorf("SeqAtTime(%d) = %d, want %d", tc.ts, got, tc.want)
		}
	}
}

func TestLastSeqs(t *testing.T) {
	st := NewMemory()
	defer st.Close()
	for i, subj := range []string{"a", "b", "a", "c.x", "b"} { // seqs 1..5
		if _, err := st.Append(subj, nil, nil, int64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		filters []string
		upTo    uint64
		limit   int
		want    []uint64
		ok      bool
	}{
		{"all", []string{">"}, 5, 10, []uint64{3, 4, 5}, true},
		{"overlap counted once", []string{"*", "a"}, 5, 10, []uint64{3, 5}, true},
		{"as of 2", []string{">"}, 2, 10, []uint64{1, 2}, true},
		{"as of 3", []string{">"}, 3, 10, []uint64{2, 3}, true},
		{"none", []string{"z"}, 5, 10, []uint64{}, true},
		{"over the limit", []string{">"}, 5, 2, nil, false},
	} {
		got, ok := LastSeqs(st, tc.filters, tc.upTo, tc.limit)
		if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
