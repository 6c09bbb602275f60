//go:build unix

package jetstream

import "syscall"

// descriptorLimit is the process's soft RLIMIT_NOFILE, 0 if unknown or
// unlimited.
func descriptorLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == ^uint64(0) {
		return 0
	}
	return uint64(rl.Cur)
}
