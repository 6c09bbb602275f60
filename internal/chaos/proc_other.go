//go:build !linux

package chaos

import "syscall"

// procAttr: without Pdeathsig, the cleanup's kill by PID is all there is.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
