package jscluster

import (
	"bytes"
	"testing"
)

func TestConsumerEntryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch []byte
	}{
		{"C", []byte{1, 2, 3}},
		{"durable-with-a-long-name", nil},
		{string(bytes.Repeat([]byte{'x'}, 300)), []byte("batch")},
	} {
		name, batch, err := decodeConsumerEntry(encodeConsumerEntry(tc.name, tc.batch))
		if err != nil || name != tc.name || !bytes.Equal(batch, tc.batch) {
			t.Fatalf("%q: got %q %v %v", tc.name, name, batch, err)
		}
	}
}

func TestConsumerEntryRefusesStreamEntries(t *testing.T) {
	for _, b := range [][]byte{nil, {1, 0}, {2}, {consumerEntry}, {consumerEntry, 0}, {consumerEntry, 5, 'a'}} {
		if _, _, err := decodeConsumerEntry(b); err == nil {
			t.Fatalf("%v decoded", b)
		}
	}
}

func FuzzConsumerEntry(f *testing.F) {
	f.Add(encodeConsumerEntry("C", []byte{1}))
	f.Add([]byte{consumerEntry, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, batch, err := decodeConsumerEntry(b)
		if err != nil {
			return
		}
		again := encodeConsumerEntry(name, batch)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x as %x", b, again)
		}
	})
}
