package filestore

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/vfs"
)

// Open stores with nothing to do cost no goroutine: their group commits,
// timed syncs and maintenance run on a shared pool whose goroutines exist
// only while some store has work.
func TestWorkersIdleStoresCostNoGoroutine(t *testing.T) {
	for _, interval := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprint(interval), func(t *testing.T) {
			fsys := vfs.NewMem()
			h, _ := NewHandles(MinMaxOpenFiles)
			w := NewWorkers(4)
			before := runtime.NumGoroutine()
			const stores = 200
			ss := make([]*Store, stores)
			for i := range ss {
				s, err := Open(fsys, fmt.Sprintf("/data/s%d", i), Config{Handles: h, Workers: w, SyncInterval: interval, SegmentSize: 1024})
				if err != nil {
					t.Fatal(err)
				}
				ss[i] = s
			}
			// Publish concurrently to all, with deletes that queue maintenance.
			var wg sync.WaitGroup
			errs := make(chan error, stores)
			for _, s := range ss {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range 30 {
						seq, err := s.Append("a", nil, make([]byte, 100), 1, 0)
						if err == nil {
							err = durable(s, seq)
						}
						if err == nil && k%3 == 0 {
							_, err = s.Delete(seq, false)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := w.Running(); n > 4 {
				t.Fatalf("%d pool goroutines, bound 4", n)
			}
			deadline := time.Now().Add(10 * time.Second)
			for w.Running() > 0 || runtime.NumGoroutine() > before+10 {
				if time.Now().After(deadline) {
					t.Fatalf("idle: %d pool goroutines, %d goroutines (%d before %d stores)", w.Running(), runtime.NumGoroutine(), before, stores)
				}
				time.Sleep(5 * time.Millisecond)
			}
			for _, s := range ss {
				if st := s.State(); st.Msgs != 20 {
					t.Fatalf("%d messages, want 20", st.Msgs)
				}
				s.waitMaintenance()
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
