package chaos

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
)

// Disk faults for a server that is stopped: bits flipped and files cut
// short, in its store directory, as a failing disk or a lost write would
// leave them. They change files on the real disk (power loss, which needs
// the vfs crash file system, is the embedded cluster's), chosen from a
// seeded source so a failing scenario damages the same bytes again.

// Damage is one change made to a file.
type Damage struct {
	Path   string
	Offset int64 // the byte flipped, or the new length for a cut
	Bit    uint8 // the bit flipped (0-7); unused for a cut
	Cut    bool  // the file was truncated to Offset bytes
	Was    int64 // the file's length before a cut
}

func (d Damage) String() string {
	if d.Cut {
		return fmt.Sprintf("%s cut from %d to %d bytes", d.Path, d.Was, d.Offset)
	}
	return fmt.Sprintf("%s bit %d of byte %d flipped", d.Path, d.Bit, d.Offset)
}

// files lists the non-empty regular files under dir that keep says to
// consider (nil: all), sorted, so a seed picks the same ones every run.
func files(dir string, keep func(path string) bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || (keep != nil && !keep(p)) {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// errNoFiles is the error of damaging a directory with nothing to damage.
var errNoFiles = errors.New("chaos: no file to damage")

// FlipBits flips n bits at random places in the files under dir.
func FlipBits(dir string, n int, rng *rand.Rand, keep func(path string) bool) ([]Damage, error) {
	paths, err := files(dir, keep)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errNoFiles
	}
	var done []Damage
	for range n {
		p := paths[rng.IntN(len(paths))]
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return done, err
		}
		info, err := f.Stat()
		if err != nil || info.Size() == 0 {
			f.Close()
			if err != nil {
				return done, err
			}
			continue
		}
		d := Damage{Path: p, Offset: rng.Int64N(info.Size()), Bit: uint8(rng.IntN(8))}
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, d.Offset); err != nil {
			f.Close()
			return done, err
		}
		b[0] ^= 1 << d.Bit
		_, err = f.WriteAt(b, d.Offset)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return done, err
		}
		done = append(done, d)
	}
	return done, nil
}

// Truncate cuts one file under dir to a random shorter length.
func Truncate(dir string, rng *rand.Rand, keep func(path string) bool) (Damage, error) {
	paths, err := files(dir, keep)
	if err != nil {
		return Damage{}, err
	}
	if len(paths) == 0 {
		return Damage{}, errNoFiles
	}
	p := paths[rng.IntN(len(paths))]
	info, err := os.Stat(p)
	if err != nil {
		return Damage{}, err
	}
	d := Damage{Path: p, Cut: true, Was: info.Size(), Offset: rng.Int64N(info.Size())}
	return d, os.Truncate(p, d.Offset)
}
