package vfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// ReadFile reads the whole file name from fs.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// The size is a hint only: read until EOF so a file that grew since
	// the Stat is read whole.
	buf := make([]byte, 0, fi.Size()+1)
	for off := int64(0); ; {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.ReadAt(buf[len(buf):cap(buf)], off)
		buf = buf[:len(buf)+n]
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// TempName is a fresh name for a temporary file or directory in dir,
// "<prefix><random>": what os.CreateTemp and os.MkdirTemp would pick.
func TempName(dir, prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
}

// WriteFileAtomic replaces path with data durably: it writes a temporary
// file beside it, syncs it, renames it over path and syncs the directory,
// so a crash leaves either the old file or the new one, never a mix.
func WriteFileAtomic(fs FS, path string, data []byte) error {
	dir := filepath.Dir(path)
	name := TempName(dir, ".tmp-"+filepath.Base(path)+"-")
	f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = fs.Remove(name)
		return err
	}
	if err := fs.Rename(name, path); err != nil {
		_ = fs.Remove(name)
		return err
	}
	return fs.SyncDir(dir)
}
