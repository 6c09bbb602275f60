package chaos

import (
	"fmt"
	"testing"
	"time"
)

// Timeout bounds every wait of the harness: generous, because a loaded CI
// machine with -race is slow, and a wait that times out is a failure, so
// a generous bound costs nothing when things work.
const Timeout = 30 * time.Second

// Eventually polls cond every few milliseconds until it holds, and fails
// t with what when it still does not after timeout. Tests synchronise on
// conditions, never on sleeps.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// poll is Eventually without the test: nil once cond holds.
func poll(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", timeout)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
	return nil
}

// Await polls check until it returns nil, and fails t with the last error
// when it still has not after timeout: Eventually, for conditions that can
// say what is missing.
func Await(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	if err := AwaitErr(timeout, check); err != nil {
		t.Fatal(err)
	}
}

// AwaitErr is Await for a caller that decides what a timeout means: it
// returns the timeout with check's last error.
func AwaitErr(timeout time.Duration, check func() error) error {
	var last error
	if err := poll(timeout, func() bool { last = check(); return last == nil }); err != nil {
		return fmt.Errorf("%v: %v", err, last)
	}
	return nil
}
