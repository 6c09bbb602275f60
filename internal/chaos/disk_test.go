package chaos

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func diskFixture(t *testing.T) (string, map[string][]byte) {
	dir := t.TempDir()
	want := map[string][]byte{
		filepath.Join(dir, "a", "seg1"): bytes.Repeat([]byte{0x55}, 4096),
		filepath.Join(dir, "b", "seg2"): bytes.Repeat([]byte{0xAA}, 1024),
		filepath.Join(dir, "empty"):     nil,
	}
	for p, b := range want {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, want
}

// TestFlipBits: each flip changes exactly the bit it reports, and the same
// seed damages the same bits.
func TestFlipBits(t *testing.T) {
	dir, orig := diskFixture(t)
	done, err := FlipBits(dir, 5, NewRand(42), nil)
	if err != nil || len(done) != 5 {
		t.Fatalf("%v %v", done, err)
	}
	flips := map[string]map[int64]uint8{}
	for _, d := range done {
		if flips[d.Path] == nil {
			flips[d.Path] = map[int64]uint8{}
		}
		flips[d.Path][d.Offset] ^= 1 << d.Bit
	}
	for p, b := range orig {
		got, _ := os.ReadFile(p)
		for i := range got {
			if got[i]^b[i] != flips[p][int64(i)] {
				t.Fatalf("%s byte %d: %x, was %x", p, i, got[i], b[i])
			}
		}
	}
	dir2, _ := diskFixture(t)
	again, _ := FlipBits(dir2, 5, NewRand(42), nil)
	for i := range done {
		if strings.TrimPrefix(done[i].Path, dir) != strings.TrimPrefix(again[i].Path, dir2) || done[i].Offset != again[i].Offset || done[i].Bit != again[i].Bit {
			t.Fatalf("seed 42 did not replay: %v vs %v", done[i], again[i])
		}
	}
}

// TestTruncate: a cut shortens one file to what it reports; keep limits
// the choice.
func TestTruncate(t *testing.T) {
	dir, orig := diskFixture(t)
	d, err := Truncate(dir, NewRand(7), func(p string) bool { return strings.HasSuffix(p, "seg2") })
	if err != nil || !d.Cut || !strings.HasSuffix(d.Path, "seg2") {
		t.Fatalf("%v %v", d, err)
	}
	got, _ := os.ReadFile(d.Path)
	if int64(len(got)) != d.Offset || !bytes.Equal(got, orig[d.Path][:d.Offset]) {
		t.Fatalf("%s: %d bytes, want the first %d", d.Path, len(got), d.Offset)
	}
	if _, err := Truncate(dir, NewRand(7), func(string) bool { return false }); err == nil {
		t.Fatal("nothing to damage, no error")
	}
}
