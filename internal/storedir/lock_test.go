package storedir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, LockName))
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q, %v", b, err)
	}
	_, err = Acquire(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

func TestLockUncreatableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Acquire(filepath.Join(file, "store")); err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("store under a file: %v", err)
	}
}

// TestLockAcrossProcesses: a child process holds the lock; this one is
// refused with the child's pid, and gets the lock once the child is gone,
// even though the child never released it (it was killed).
func TestLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	child.Env = append(os.Environ(), "STORELOCK_HOLD="+dir)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		child.Process.Kill() // only the process this test started
		child.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "locked\n" {
			t.Fatalf("child said %q", line)
		}
	case <-time.After(time.Minute):
		t.Fatal("child did not take the lock")
	}
	_, err = Acquire(dir)
	want := fmt.Sprintf("is locked by process %d", child.Process.Pid)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("lock held by the child: %v (want %q)", err, want)
	}
	child.Process.Kill()
	child.Wait()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	l.Release()
}

// TestLockHelperProcess is the child of TestLockAcrossProcesses: it takes
// the lock, says so, and holds it until its stdin closes or it is killed.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("STORELOCK_HOLD")
	if dir == "" {
		t.Skip("helper process")
	}
	if _, err := Acquire(dir); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}
