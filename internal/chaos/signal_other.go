//go:build !unix

package chaos

import "errors"

func pauseProcess(int, bool) error { return errors.New("stopping a process needs a unix system") }
