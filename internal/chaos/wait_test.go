package chaos

import (
	"errors"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	n := 0
	if err := poll(Timeout, func() bool { n++; return n == 3 }); err != nil || n != 3 {
		t.Fatalf("poll = %v after %d calls", err, n)
	}
	if err := poll(10*time.Millisecond, func() bool { return false }); err == nil {
		t.Fatal("poll of a condition that never holds returned nil")
	}
}

func TestAwait(t *testing.T) {
	n := 0
	Await(t, Timeout, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
}
