package vfs

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory filesystem for tests that keeps two states of
// everything: what the program sees, and what would survive a power failure.
// File contents become durable only through File.Sync, and a directory's
// entries (files created, renamed or removed in it) only through SyncDir on
// that directory. CrashClone returns the filesystem as it would look after
// a crash, so a test can reopen a store on it and check what survived.
//
// It is strict on purpose, like pebble's strict MemFS: a real filesystem may
// persist more than was synced, never less, so code that passes here does
// not depend on luck.
type MemFS struct {
	mu   sync.Mutex
	root *memNode
}

type memNode struct {
	dir     bool
	modTime time.Time

	// File state. synced is what survives a crash; when shared it aliases
	// data's backing array (capacity clipped to its length) and is copied
	// before any write below its length, so syncing an append-only file
	// costs nothing.
	data   []byte
	synced []byte
	shared bool

	// Directory state: current entries and the entries as of the last
	// SyncDir.
	children map[string]*memNode
	durable  map[string]*memNode
}

// NewMem returns an empty memory filesystem with a durable root directory.
func NewMem() *MemFS {
	return &MemFS{root: newDir()}
}

func newDir() *memNode {
	return &memNode{dir: true, modTime: time.Now(), children: map[string]*memNode{}, durable: map[string]*memNode{}}
}

// split turns a path into its components; relative paths are taken from
// the root.
func split(name string) []string {
	name = filepath.ToSlash(filepath.Clean(name))
	name = strings.Trim(name, "/")
	if name == "" || name == "." {
		return nil
	}
	return strings.Split(name, "/")
}

// lookup returns the node at name, or nil. fs.mu must be held.
func (m *MemFS) lookup(name string) *memNode {
	n := m.root
	for _, c := range split(name) {
		if !n.dir {
			return nil
		}
		n = n.children[c]
		if n == nil {
			return nil
		}
	}
	return n
}

// parent returns the directory holding name and name's last component.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &os.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir := m.lookup(strings.Join(parts[:len(parts)-1], "/"))
	if dir == nil || !dir.dir {
		return nil, "", &os.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return dir, parts[len(parts)-1], nil
}

func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("open", name)
	if err != nil {
		return nil, err
	}
	n := dir.children[base]
	switch {
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case n == nil:
		n = &memNode{modTime: time.Now()}
		dir.children[base] = n
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case n.dir && flag&(os.O_WRONLY|os.O_RDWR) != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	if flag&os.O_TRUNC != 0 && !n.dir {
		n.truncate(0)
	}
	return &memFile{fs: m, n: n, name: name, flag: flag}, nil
}

func (m *MemFS) Create(name string) (File, error) {
	return m.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func (m *MemFS) Open(name string) (File, error) {
	return m.OpenFile(name, os.O_RDONLY, 0)
}

func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("remove", name)
	if err != nil {
		return err
	}
	n := dir.children[base]
	if n == nil {
		return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
	}
	delete(dir.children, base)
	return nil
}

func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("removeall", name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	delete(dir.children, base)
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	odir, obase, err := m.parent("rename", oldname)
	if err != nil {
		return err
	}
	ndir, nbase, err := m.parent("rename", newname)
	if err != nil {
		return err
	}
	n := odir.children[obase]
	if n == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	if old := ndir.children[nbase]; old != nil && old.dir {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errors.New("target is a directory")}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, c := range split(dir) {
		next := n.children[c]
		if next == nil {
			next = newDir()
			n.children[c] = next
		} else if !next.dir {
			return &os.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
		}
		n = next
	}
	return nil
}

func (m *MemFS) ReadDir(dir string) ([]os.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.lookup(dir)
	if n == nil {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	if !n.dir {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: errors.New("not a directory")}
	}
	names := slices.Sorted(maps.Keys(n.children))
	out := make([]os.DirEntry, len(names))
	for i, name := range names {
		out[i] = fs.FileInfoToDirEntry(n.children[name].info(name))
	}
	return out, nil
}

func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.lookup(name)
	if n == nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return n.info(filepath.Base(name)), nil
}

func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.lookup(dir)
	if n == nil || !n.dir {
		return &os.PathError{Op: "syncdir", Path: dir, Err: fs.ErrNotExist}
	}
	n.durable = maps.Clone(n.children)
	return nil
}

// CrashOption changes what a simulated crash keeps.
type CrashOption func(*crashConfig)

type crashConfig struct {
	keepUnsynced func(name string, unsynced int) int
}

// KeepUnsynced lets a crash keep part of the bytes written past a file's
// synced length: keep returns how many of the unsynced bytes (0..unsynced)
// reached the disk. This models a torn write: a prefix of the appended data
// made it, the rest did not. Overwrites inside the synced length are always
// lost.
func KeepUnsynced(keep func(name string, unsynced int) int) CrashOption {
	return func(c *crashConfig) { c.keepUnsynced = keep }
}

// CrashClone returns a new filesystem holding only what had been made
// durable: directory entries as of each directory's last SyncDir and file
// contents as of each file's last Sync (plus any unsynced prefix a
// KeepUnsynced option grants). The receiver is unchanged, so a store still
// running on it can be closed normally.
func (m *MemFS) CrashClone(opts ...CrashOption) *MemFS {
	var cfg crashConfig
	for _, o := range opts {
		o(&cfg)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[*memNode]*memNode{}
	return &MemFS{root: cloneDurable(m.root, "", &cfg, seen)}
}

func cloneDurable(n *memNode, name string, cfg *crashConfig, seen map[*memNode]*memNode) *memNode {
	if c := seen[n]; c != nil {
		return c // a node renamed without syncing both directories shows up twice
	}
	c := &memNode{dir: n.dir, modTime: n.modTime}
	seen[n] = c
	if n.dir {
		c.children = make(map[string]*memNode, len(n.durable))
		for k, child := range n.durable {
			c.children[k] = cloneDurable(child, name+"/"+k, cfg, seen)
		}
		c.durable = maps.Clone(c.children)
		return c
	}
	data := slices.Clone(n.synced)
	if cfg.keepUnsynced != nil && len(n.data) > len(n.synced) {
		extra := n.data[len(n.synced):]
		k := min(max(cfg.keepUnsynced(name, len(extra)), 0), len(extra))
		data = append(data, extra[:k]...)
	}
	c.data = data
	c.synced = data[:len(data):len(data)]
	c.shared = true
	return c
}

func (n *memNode) info(name string) os.FileInfo {
	mode := os.FileMode(0o644)
	if n.dir {
		mode = fs.ModeDir | 0o755
	}
	return memInfo{name: name, size: int64(len(n.data)), mode: mode, modTime: n.modTime}
}

// unshare copies synced before data's backing array is changed below its
// length.
func (n *memNode) unshare(off int64) {
	if n.shared && off < int64(len(n.synced)) {
		n.synced = slices.Clone(n.synced)
		n.shared = false
	}
}

func (n *memNode) writeAt(p []byte, off int64) {
	n.unshare(off)
	end := off + int64(len(p))
	if end > int64(len(n.data)) {
		n.resize(end)
	}
	copy(n.data[off:], p)
	n.modTime = time.Now()
}

func (n *memNode) truncate(size int64) {
	n.unshare(size)
	n.resize(size)
	n.modTime = time.Now()
}

// resize sets data's length, zeroing any bytes it grows into.
func (n *memNode) resize(size int64) {
	old := int64(len(n.data))
	if size <= old {
		n.data = n.data[:size]
		return
	}
	if size <= int64(cap(n.data)) {
		n.data = n.data[:size]
		clear(n.data[old:])
		return
	}
	n.data = append(n.data, make([]byte, size-old)...)
}

type memInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() os.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return i.modTime }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

// memFile is an open file of a MemFS. It keeps its node after the name is
// removed or renamed, as a Unix file descriptor does.
type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	flag   int
	pos    int64
	closed bool
}

func (f *memFile) check(op string, write bool) error {
	if f.closed {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if f.n.dir && op != "stat" && op != "sync" {
		return &os.PathError{Op: op, Path: f.name, Err: errors.New("is a directory")}
	}
	if write && f.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return &os.PathError{Op: op, Path: f.name, Err: errors.New("bad file descriptor")}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if f.flag&os.O_APPEND != 0 {
		f.pos = int64(len(f.n.data))
	}
	f.n.writeAt(p, f.pos)
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.writeAt(p, off)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync", false); err != nil {
		return err
	}
	if !f.n.dir {
		f.n.synced = f.n.data[:len(f.n.data):len(f.n.data)]
		f.n.shared = true
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	f.n.truncate(size)
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat", false); err != nil {
		return nil, err
	}
	return f.n.info(filepath.Base(f.name)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	f.closed = true
	return nil
}

func (f *memFile) Name() string { return f.name }
