package servercmd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// signalCommands maps `--signal` commands to signals, as nats-server does.
var signalCommands = map[string]syscall.Signal{
	"stop":   syscall.SIGKILL,
	"quit":   syscall.SIGINT,
	"term":   syscall.SIGTERM,
	"reopen": syscall.SIGUSR1,
	"reload": syscall.SIGHUP,
	"ldm":    syscall.SIGUSR2,
}

// sendSignal handles `--signal <command>=<pid or pid file>`. Unlike
// nats-server it does not search for processes by name when no pid is
// given: `starling` is also the name of the client tools, and signalling
// every one of them would be a surprise.
func sendSignal(expr string) error {
	command, target, _ := strings.Cut(expr, "=")
	sig, ok := signalCommands[command]
	if !ok {
		return fmt.Errorf("unknown signal %q (want stop, quit, term, reopen, reload or ldm)", command)
	}
	if target == "" {
		return errors.New("--signal needs a process: <command>=<pid> or <command>=<pid file>")
	}
	pid, err := strconv.Atoi(target)
	if err != nil {
		b, rerr := os.ReadFile(target)
		if rerr != nil {
			return fmt.Errorf("invalid pid or pid file %q: %v", target, rerr)
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("pid file %s does not hold a pid", target)
		}
	}
	if pid <= 0 {
		return fmt.Errorf("invalid pid %d", pid)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %q %d: %w", command, pid, err)
	}
	return nil
}
