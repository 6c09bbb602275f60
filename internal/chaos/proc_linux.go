package chaos

import "syscall"

// procAttr asks the kernel to kill a server when the test binary dies, so
// that a test killed by its timeout leaves no server behind. (Pdeathsig is
// tied to the thread that started the child; Go does not end its threads
// while the program runs, so the signal comes when the test binary exits.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
