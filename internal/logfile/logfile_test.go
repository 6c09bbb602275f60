package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source that advances by step on every reading.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newClock(step time.Duration) *clock {
	return &clock{t: time.Date(2024, 1, 2, 3, 4, 5, 7, time.Local), step: step}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// faultFS is the real filesystem with operations that fail on demand.
type faultFS struct {
	osFS
	rename, open, remove error
}

func (f *faultFS) Rename(o, n string) error {
	if f.rename != nil {
		return f.rename
	}
	return f.osFS.Rename(o, n)
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	if f.open != nil {
		return nil, f.open
	}
	return f.osFS.OpenFile(name, flag, perm)
}

func (f *faultFS) Remove(name string) error {
	if f.remove != nil {
		return f.remove
	}
	return f.osFS.Remove(name)
}

func openTest(t *testing.T, path string, limit int64, maxFiles int, fsys fileSystem) *File {
	t.Helper()
	f, err := open(path, limit, maxFiles, fsys, newClock(time.Second).now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return f
}

func write(t *testing.T, f *File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// contents returns the backups of path oldest first, then path itself.
func contents(t *testing.T, path string) []string {
	t.Helper()
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name, which is by age
		if isBackup(base, e.Name()) {
			out = append(out, read(t, filepath.Join(dir, e.Name())))
		}
	}
	return append(out, read(t, path))
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRotation(t *testing.T) {
	tests := []struct {
		name     string
		existing string // in the file before Open
		limit    int64
		writes   []string
		want     []string // backups oldest first, then the current file
	}{
		{"no limit", "", 0, []string{"aaaa", "bbbb", "cccc"}, []string{"aaaabbbbcccc"}},
		{"under limit", "", 10, []string{"aaaa", "bbbb"}, []string{"aaaabbbb"}},
		{"exactly at limit", "", 10, []string{"aaaaa", "bbbbb"}, []string{"aaaaabbbbb"}},
		{"split at write boundary", "", 10, []string{"aaaa", "bbbb", "cccc"}, []string{"aaaabbbb", "cccc"}},
		{"several rotations", "", 6, []string{"aaaa", "bb", "cccc", "dd", "eeee"}, []string{"aaaabb", "ccccdd", "eeee"}},
		{"oversized write kept whole", "", 4, []string{"aa", "bbbbbbbb", "c"}, []string{"aa", "bbbbbbbb", "c"}},
		{"oversized first write", "", 4, []string{"bbbbbbbb"}, []string{"bbbbbbbb"}},
		{"existing content counts", "xxxxxxxx", 10, []string{"yyy"}, []string{"xxxxxxxx", "yyy"}},
		{"existing content over limit", "xxxxxxxxxxxx", 10, []string{"y"}, []string{"xxxxxxxxxxxx", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f := openTest(t, path, tt.limit, 0, osFS{})
			for _, w := range tt.writes {
				write(t, f, w)
			}
			if got := contents(t, path); !slices.Equal(got, tt.want) {
				t.Errorf("files %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMaxFiles(t *testing.T) {
	tests := []struct {
		maxFiles int
		want     []string
	}{
		{0, []string{"1", "2", "3", "4", "5"}},
		{1, []string{"5"}},
		{2, []string{"4", "5"}},
		{3, []string{"3", "4", "5"}},
		{10, []string{"1", "2", "3", "4", "5"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("max", tt.maxFiles), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			// Files beside the log that are not our backups must survive.
			keep := []string{"app.log.1", "app.log.gz", "app.log.2024.01.02", "other.log.2020.01.01.00.00.00.000000000"}
			for _, name := range keep {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f := openTest(t, path, 1, tt.maxFiles, osFS{})
			for i := 1; i <= 5; i++ {
				write(t, f, fmt.Sprint(i))
			}
			if got := contents(t, path); !slices.Equal(got, tt.want) {
				t.Errorf("files %q, want %q", got, tt.want)
			}
			for _, name := range keep {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("unrelated file: %v", err)
				}
			}
		})
	}
}

func TestBackupNames(t *testing.T) {
	tests := []struct {
		name string
		step time.Duration
		want []string
	}{
		{"nats-server format", time.Second, []string{
			"app.log.2024.01.02.03.04.05.000000007",
			"app.log.2024.01.02.03.04.06.000000007",
		}},
		{"frozen clock stays unique", 0, []string{
			"app.log.2024.01.02.03.04.05.000000007",
			"app.log.2024.01.02.03.04.05.000000008",
		}},
		{"clock stepping back still sorts", -time.Hour, []string{
			"app.log.2024.01.02.03.04.05.000000007",
			"app.log.2024.01.02.03.04.05.000000008",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			f, err := open(path, 1, 0, osFS{}, newClock(tt.step).now)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, w := range []string{"a", "b", "c"} {
				write(t, f, w)
			}
			var got []string
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "app.log" {
					got = append(got, e.Name())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("backups %q, want %q", got, tt.want)
			}
		})
	}
}

// A backup name taken by someone else is skipped, not overwritten.
func TestBackupNameTaken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	taken := path + ".2024.01.02.03.04.05.000000007"
	if err := os.WriteFile(taken, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := openTest(t, path, 1, 0, osFS{})
	write(t, f, "a")
	write(t, f, "b")
	if got := read(t, taken); got != "theirs" {
		t.Errorf("existing backup overwritten with %q", got)
	}
	if got := read(t, path+".2024.01.02.03.04.05.000000008"); got != "a" {
		t.Errorf("backup holds %q, want a", got)
	}
}

func TestReopenAfterExternalRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f := openTest(t, path, 10, 0, osFS{})
	write(t, f, "old-12")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, f, "+") // still lands in the moved file, as with any open file
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(t, f, "new-123456") // 10 bytes: the fresh file's size starts at 0
	if got, want := read(t, path+".1"), "old-12+"; got != want {
		t.Errorf("moved file %q, want %q", got, want)
	}
	if got, want := read(t, path), "new-123456"; got != want {
		t.Errorf("new file %q, want %q", got, want)
	}
}

func TestClosed(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "app.log"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if err := f.Reopen(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Reopen after Close: %v, want ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		path     string
		limit    int64
		maxFiles int
	}{
		{"negative limit", filepath.Join(dir, "a.log"), -1, 0},
		{"negative max files", filepath.Join(dir, "a.log"), 0, -1},
		{"missing directory", filepath.Join(dir, "no", "a.log"), 0, 0},
		{"path is a directory", dir, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, err := Open(tt.path, tt.limit, tt.maxFiles); err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

// When the rename fails, the line still goes to the old file, the error is
// reported, and rotation is not retried on every line but once the file has
// grown to twice the limit.
func TestRenameFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	fsys := &faultFS{rename: errors.New("rename refused")}
	f := openTest(t, path, 4, 0, fsys)
	write(t, f, "aaaa")
	n, err := f.Write([]byte("bb"))
	if n != 2 || !errors.Is(err, fsys.rename) {
		t.Fatalf("Write = %d, %v; want 2 and the rename error", n, err)
	}
	write(t, f, "cc") // 8 bytes: at the doubled limit, no retry yet
	fsys.rename = nil
	write(t, f, "d") // past the doubled limit: rotates now
	if got, want := contents(t, path), []string{"aaaabbcc", "d"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	write(t, f, "eeee") // the limit is back to 4
	if got, want := contents(t, path), []string{"aaaabbcc", "d", "eeee"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
}

// When the file cannot be reopened after rotation, writes fail until it can,
// and then resume without further help.
func TestReopenFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	fsys := &faultFS{}
	f := openTest(t, path, 4, 0, fsys)
	write(t, f, "aaaa")
	fsys.open = errors.New("too many open files")
	if n, err := f.Write([]byte("bb")); n != 0 || !errors.Is(err, fsys.open) {
		t.Fatalf("Write = %d, %v; want 0 and the open error", n, err)
	}
	if err := f.Reopen(); !errors.Is(err, fsys.open) {
		t.Fatalf("Reopen = %v, want the open error", err)
	}
	fsys.open = nil
	write(t, f, "cc")
	if got, want := contents(t, path), []string{"aaaa", "cc"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
}

// A failed purge is reported, but the line is written and the next rotation
// purges again.
func TestPurgeFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	fsys := &faultFS{}
	f := openTest(t, path, 1, 2, fsys)
	write(t, f, "1")
	write(t, f, "2")
	fsys.remove = errors.New("read-only")
	if n, err := f.Write([]byte("3")); n != 1 || !errors.Is(err, fsys.remove) {
		t.Fatalf("Write = %d, %v; want 1 and the remove error", n, err)
	}
	fsys.remove = nil
	write(t, f, "4")
	if got, want := contents(t, path), []string{"3", "4"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
}

// Concurrent writers, with a reopen racing them: every line lands exactly
// once and whole, and no file exceeds the limit.
func TestConcurrentWriters(t *testing.T) {
	const (
		writers = 8
		lines   = 200
		limit   = 1000
	)
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f := openTest(t, path, limit, 0, osFS{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				line := fmt.Sprintf("writer %d line %d %s\n", w, i, strings.Repeat("x", i%50))
				if _, err := f.Write([]byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := f.Reopen(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()

	seen := map[string]int{}
	files := contents(t, path)
	for _, c := range files {
		if len(c) > limit {
			t.Errorf("a file holds %d bytes, over the %d limit", len(c), limit)
		}
		if c != "" && !strings.HasSuffix(c, "\n") {
			t.Errorf("a file ends mid-line: %q", c[max(0, len(c)-40):])
		}
		for line := range bytes.Lines([]byte(c)) {
			seen[string(line)]++
		}
	}
	for w := range writers {
		for i := range lines {
			line := fmt.Sprintf("writer %d line %d %s\n", w, i, strings.Repeat("x", i%50))
			if seen[line] != 1 {
				t.Fatalf("%q seen %d times", line, seen[line])
			}
		}
	}
	if len(seen) != writers*lines {
		t.Errorf("%d distinct lines, want %d", len(seen), writers*lines)
	}
	if len(files) < 2 {
		t.Errorf("no rotation happened across %d files", len(files))
	}
}
