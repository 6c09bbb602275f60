//go:build unix

package chaos

import "syscall"

// pauseProcess sends SIGSTOP or SIGCONT to pid.
func pauseProcess(pid int, stop bool) error {
	sig := syscall.SIGCONT
	if stop {
		sig = syscall.SIGSTOP
	}
	return syscall.Kill(pid, sig)
}
