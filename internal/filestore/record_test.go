package filestore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/starling-mq/starling/internal/store"
)

func sampleRecords() []record {
	return []record{
		{typ: recMsg, seq: 1, ts: 2, subj: []byte("a.b"), data: []byte("hello")},
		{typ: recMsg, seq: 1 << 40, ts: -5, ttl: 99, subj: []byte("x"), hdr: []byte("NATS/1.0\r\n\r\n"), data: nil},
		{typ: recMsg, flags: flagS2, seq: 3, subj: []byte("z"), data: s2.Encode(nil, bytes.Repeat([]byte("ab"), 100))},
		{typ: recMsg, flags: flagErased, seq: 4, subj: []byte("e"), data: make([]byte, 8)},
		{typ: recMsg, seq: 5, subj: nil, data: nil},
		{typ: recSkip, seq: 7},
		{typ: recDelete, dels: packRange(packRange(nil, 1, 3), 10, 1)},
		{typ: recDelete},
		{typ: recMeta, seq: 5, last: 9, ts: 123},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		b := appendRecord([]byte("prefix"), &r)[len("prefix"):]
		if len(b) != r.size() {
			t.Fatalf("%+v: encoded %d bytes, size() says %d", r, len(b), r.size())
		}
		got, n, err := decodeRecord(append(b, "trailing"...))
		if err != nil || n != len(b) {
			t.Fatalf("%+v: decode = %v, %d", r, err, n)
		}
		if again := appendRecord(nil, &got); !bytes.Equal(again, b) {
			t.Fatalf("%+v: re-encoded differently", r)
		}
		for cut := range len(b) {
			if _, _, err := decodeRecord(b[:cut]); err == nil {
				t.Fatalf("%+v: prefix of %d bytes decoded", r, cut)
			}
		}
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	// Each of these has a valid checksum but a second encoding of the same
	// record, so the decoder must refuse it.
	base := appendRecord(nil, &record{typ: recMsg, seq: 1, subj: []byte("s"), data: []byte("d")})
	reseal := func(b []byte) []byte {
		b = b[:len(b)-crcSize]
		return appendCRC(b)
	}
	flagTTLZero := reseal(withFlags(base, flagTTL)) // ttl flag without the field: malformed
	unknown := reseal(withFlags(base, 0x80))
	skipFlags := reseal(withFlags(appendRecord(nil, &record{typ: recSkip, seq: 1}), flagS2))
	for i, b := range [][]byte{flagTTLZero, unknown, skipFlags} {
		if _, _, err := decodeRecord(b); !errors.Is(err, errFormat) {
			t.Errorf("case %d: decode = %v", i, err)
		}
	}
}

func withFlags(b []byte, f byte) []byte {
	b = bytes.Clone(b)
	b[lenSize+2] = f
	return b
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	recs := sampleRecords()
	var bufs [][]byte
	for _, r := range recs {
		bufs = append(bufs, appendRecord(nil, &r))
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, b := range bufs {
			decodeRecord(b)
		}
	})
	if allocs != 0 {
		t.Fatalf("decodeRecord allocates %.0f times", allocs)
	}
}

func TestFileMsgSizeMatches(t *testing.T) {
	for _, c := range []struct {
		subj      string
		hdr, data []byte
	}{{"a", nil, nil}, {"abc.def", []byte("NATS/1.0\r\n\r\n"), []byte("payload")}} {
		if got, want := fileMsgSize(len(c.subj), len(c.hdr), len(c.data)), store.FileMsgSize(c.subj, c.hdr, c.data); got != want {
			t.Fatalf("fileMsgSize = %d, store.FileMsgSize = %d", got, want)
		}
	}
}

func TestEraseRecord(t *testing.T) {
	r := record{typ: recMsg, seq: 9, ts: 1, ttl: 2, subj: []byte("s"), hdr: []byte("HDR"), data: []byte("secret")}
	b := appendRecord(nil, &r)
	if err := eraseRecord(b); err != nil {
		t.Fatal(err)
	}
	got, _, err := decodeRecord(b)
	if err != nil || got.seq != 9 || got.flags&flagErased == 0 || bytes.Contains(b, []byte("secret")) || bytes.Contains(b, []byte("HDR")) {
		t.Fatalf("erased record %+v, %v", got, err)
	}
	if eraseRecord(appendRecord(nil, &record{typ: recSkip, seq: 1})) == nil {
		t.Fatal("erased a skip record")
	}
}

// FuzzDecodeRecord: any input either decodes to a record that encodes to
// exactly the bytes consumed, or is an error; never a panic, never an
// allocation (decoding slices the input).
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		b := appendRecord(nil, &r)
		f.Add(b)
		for cut := 0; cut < len(b); cut += 3 {
			f.Add(b[:cut])
		}
		f.Add(append(b, b...))
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, recMagic, recMsg, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		// The checksum stops almost every mutation at the door; also try
		// the input with a checksum that fits, so the body parser is
		// explored too.
		if len(b) >= frameHead {
			sealed := appendCRC(bytes.Clone(b))
			if n, err := recordLen(sealed); err == nil && n < len(sealed) {
				sealed = appendCRC(sealed[:n-crcSize])
			}
			checkDecode(t, sealed)
		}
	})
}

func checkDecode(t *testing.T, b []byte) {
	r, n, err := decodeRecord(b)
	if err != nil {
		if n != 0 {
			t.Fatalf("error %v with n=%d", err, n)
		}
		return
	}
	if n <= 0 || n > len(b) {
		t.Fatalf("consumed %d of %d bytes", n, len(b))
	}
	if enc := appendRecord(nil, &r); !bytes.Equal(enc, b[:n]) {
		t.Fatalf("re-encoding differs:\n in  %x\n out %x", b[:n], enc)
	}
	// Allocations are checked by a unit test on the samples, not here:
	// AllocsPerRun stops the world, which stalls the fuzzer.
}
