package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskDamagesAim: each damage touches only the files it names: the
// Raft log's, or the stream's log segments (never its meta or side files,
// nor another stream's).
func TestDiskDamagesAim(t *testing.T) {
	for _, d := range DiskDamages {
		t.Run(d.Name, func(t *testing.T) {
			store := t.TempDir()
			for _, p := range []string{
				filepath.Join(RaftLogDir(store), "0000000000000001.log"),
				filepath.Join(StreamDir(store, "$G", "S"), "meta"),
				filepath.Join(StreamDir(store, "$G", "S"), "msgs", "highwater"),
				filepath.Join(StreamDir(store, "$G", "S"), "msgs", "0000000000000001.seg"),
				filepath.Join(StreamDir(store, "$G", "OTHER"), "msgs", "0000000000000001.seg"),
			} {
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, make([]byte, 512), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			done, err := d.Apply(store, "S", NewRand(3))
			if err != nil || len(done) == 0 {
				t.Fatalf("%v %v", done, err)
			}
			want := filepath.Join(StreamDir(store, "$G", "S"), "msgs", "0000000000000001.seg")
			if strings.HasSuffix(d.Name, "-raftlog") {
				want = filepath.Join(RaftLogDir(store), "0000000000000001.log")
			}
			for _, x := range done {
				if x.Path != want {
					t.Errorf("damaged %s, want only %s", x.Path, want)
				}
			}
		})
	}
}
