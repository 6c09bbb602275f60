package resource

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	// The binary under test is built at run time; importing what it is
	// built from makes a change to the server invalidate cached results.
	_ "github.com/starling-mq/starling/internal/cli"
	_ "github.com/starling-mq/starling/internal/servercmd"
)

// The server binary is built once per test run, without -race: what these
// tests measure (memory, descriptors, goroutines) is the server's own.
var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// starlingBin returns the path of the server binary of this checkout.
func starlingBin(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "starling-resource-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "starling")
		out, err := exec.Command("go", "build", "-o", build.bin, "github.com/starling-mq/starling/cmd/starling").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("build starling: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually polls cond until it holds, failing the test at deadline.
func eventually(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail keeps the last 64 KiB of a process's output for failure reports.
type logTail struct {
	mu sync.Mutex
	b  []byte
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > 64<<10 {
		l.b = append([]byte(nil), l.b[len(l.b)-32<<10:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string { return l.tail(64 << 10) }

// tail returns at most the last n bytes kept.
func (l *logTail) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b[max(len(l.b)-n, 0):])
}

// procStatusKB reads a field of /proc/<pid>/status (VmRSS, VmHWM) in KiB.
func procStatusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
