package storedir

import "golang.org/x/sys/unix"

// Volatile reports whether dir is on a file system held in memory (tmpfs,
// ramfs), whose contents are gone after a reboot, naming it.
func Volatile(dir string) (string, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "", false
	}
	// Type is 32 bits wide on some platforms: compare the low 32 bits.
	return volatileType(uint32(st.Type))
}

// volatileType names memory file systems by their statfs magic number.
func volatileType(magic uint32) (string, bool) {
	switch magic {
	case unix.TMPFS_MAGIC:
		return "tmpfs", true
	case unix.RAMFS_MAGIC:
		return "ramfs", true
	}
	return "", false
}
