//go:build !linux

package storedir

// Volatile reports whether dir is on a memory file system; only Linux is
// checked.
func Volatile(string) (string, bool) { return "", false }
