package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestGoal(t *testing.T) {
	g := newGoal(2)
	notDone := func(when string) {
		select {
		case <-g.done:
			t.Fatalf("done %s", when)
		default:
		}
	}
	if v, ok := g.add(); v != 1 || !ok {
		t.Fatalf("first add = %d, %v", v, ok)
	}
	g.settle()
	if v, ok := g.add(); v != 2 || !ok {
		t.Fatalf("second add = %d, %v", v, ok)
	}
	notDone("before the last delivery settled")
	g.settle()
	<-g.done // closed exactly when the goal is settled
	if v, ok := g.add(); v != 3 || ok {
		t.Fatalf("add past the goal = %d, %v; want not counted", v, ok)
	}
	if g.count() != 2 {
		t.Errorf("count = %d, want capped at 2", g.count())
	}

	p := newGoal(5000)
	p.progress(1024)
	if p.count() != 1024 {
		t.Errorf("progress count = %d", p.count())
	}
	p.finish()
	<-p.done
	if p.count() != 5000 {
		t.Errorf("finished count = %d", p.count())
	}
}

func TestErrSinkKeepsFirst(t *testing.T) {
	s := newErrSink()
	if s.pending() != nil {
		t.Fatal("empty sink has an error")
	}
	first := errors.New("first")
	s.report(first)
	s.report(errors.New("second")) // must not block
	if err := s.pending(); err != first {
		t.Errorf("pending = %v, want first", err)
	}
}

func TestWaiter(t *testing.T) {
	finished := func() *goal { g := newGoal(1); g.add(); g.settle(); return g }
	boom := errors.New("boom")
	tests := []struct {
		name    string
		goals   func() []*goal
		armed   bool
		report  error
		ctxTime time.Duration
		want    string // "" for success, else a substring of the error
	}{
		{"all met", func() []*goal { return []*goal{finished(), finished()} }, true, nil, time.Second, ""},
		{"error reported", func() []*goal { return []*goal{newGoal(1)} }, true, boom, time.Second, "boom"},
		{"stall when armed", func() []*goal { return []*goal{finished(), newGoal(3)} }, true, nil, 5 * time.Second, "stalled: nothing moved"},
		{"no stall before the first message when not armed", func() []*goal { return []*goal{newGoal(3)} }, false, nil, 100 * time.Millisecond, "interrupted: status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctxTime)
			defer cancel()
			w := &waiter{goals: tc.goals(), errs: newErrSink(), stall: 20 * time.Millisecond, prog: newProgress(nil, false),
				status: func() string { return "status" }, armed: tc.armed, tick: 5 * time.Millisecond}
			if tc.report != nil {
				w.errs.report(tc.report)
			}
			err := w.wait(ctx)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("wait = %v, want success", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("wait = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestPendingLimits(t *testing.T) {
	tests := []struct {
		msgs, size        int
		wantMsgs, wantLen int
	}{
		// Small runs keep nats.go's defaults.
		{2000, 16, nats.DefaultSubPendingMsgsLimit, nats.DefaultSubPendingBytesLimit},
		// A run that fits under the cap is buffered whole: no drops.
		{1000000, 512, 1000000, 1000000 * (512 + 64)},
		// Larger ones stop at 1 GiB; beyond that a drop is reported.
		{10000000, 1024, 10000000, 1 << 30},
	}
	for _, tc := range tests {
		m, b := pendingLimits(tc.msgs, tc.size)
		if m != tc.wantMsgs || b != tc.wantLen {
			t.Errorf("pendingLimits(%d, %d) = %d, %d; want %d, %d", tc.msgs, tc.size, m, b, tc.wantMsgs, tc.wantLen)
		}
	}
}
