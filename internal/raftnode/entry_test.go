package raftnode

import (
	"bytes"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	tests := []struct {
		id      uint64
		payload []byte
	}{
		{0, nil},
		{1, []byte("x")},
		{1<<64 - 1, bytes.Repeat([]byte("ab"), 100)},
	}
	for _, tc := range tests {
		id, p, err := decodeEntry(encodeEntry(tc.id, tc.payload))
		if err != nil || id != tc.id || !bytes.Equal(p, tc.payload) {
			t.Fatalf("round trip of (%d, %q): got (%d, %q, %v)", tc.id, tc.payload, id, p, err)
		}
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	for _, data := range [][]byte{nil, {}, {entryVersion}, {2, 0, 0, 0, 0, 0, 0, 0, 1}, {entryVersion, 1, 2, 3}} {
		if _, _, err := decodeEntry(data); err == nil {
			t.Fatalf("decodeEntry(%v) accepted", data)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(7, []byte("payload")))
	f.Add([]byte{})
	f.Add([]byte{entryVersion, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		id, p, err := decodeEntry(data)
		if err != nil {
			return
		}
		if again := encodeEntry(id, p); !bytes.Equal(again, data) {
			t.Fatalf("re-encoding %v gave %v", data, again)
		}
	})
}
