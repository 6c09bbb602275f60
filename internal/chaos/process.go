package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The server binary is built once per test binary, without -race: the
// servers are the system under test, and a race detector in each of them
// would only slow the scenarios down (the embedded variant runs the
// server under the test binary's own -race).
var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Binary returns the path of the starling binary built from this checkout,
// building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "starling-chaos-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "starling")
		cmd := exec.Command("go", "build", "-o", build.bin, "github.com/starling-mq/starling/cmd/starling")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build starling: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Main runs a test binary's tests and then removes the server binary
// Binary built; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// process is a server running as a child process of the test.
type process struct {
	bin, conf string
	log       *logTail
	debug     bool
	reference bool // bin is a nats-server: no subcommand

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
}

func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	args := []string{"server", "-c", p.conf}
	if p.reference {
		args = args[1:]
	}
	if p.debug {
		args = append(args, "-D")
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = procAttr()
	fmt.Fprintf(p.log, "--- chaos: starting %s\n", p.conf)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(p.log, "--- chaos: process %d ended: %v\n", cmd.Process.Pid, err)
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	return nil
}

// running returns the live process and its exit channel, or nil.
func (p *process) running() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil, nil
	}
	select {
	case <-p.exited:
		return nil, nil
	default:
		return p.cmd, p.exited
	}
}

// kill sends SIGKILL (which also ends a stopped process) and waits for
// the process to be gone.
func (p *process) kill() error {
	cmd, exited := p.running()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(Timeout):
		return fmt.Errorf("process %d still there %v after SIGKILL", cmd.Process.Pid, Timeout)
	}
}

// pause stops (SIGSTOP) or continues (SIGCONT) the process.
func (p *process) pause(stop bool) error {
	cmd, _ := p.running()
	if cmd == nil {
		return errors.New("the server is not running")
	}
	return pauseProcess(cmd.Process.Pid, stop)
}

// alive reports whether the process has not ended, with its log when it
// has.
func (p *process) alive() error {
	if cmd, _ := p.running(); cmd == nil {
		return errors.New("the server process ended")
	}
	return nil
}

func (p *process) pid() int {
	cmd, _ := p.running()
	if cmd == nil {
		return 0
	}
	return cmd.Process.Pid
}
