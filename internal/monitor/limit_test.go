package monitor

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/core"
)

// startWithSubs runs a core server with conns connections of subs
// subscriptions each.
func startWithSubs(t *testing.T, conns, subs int) *core.Server {
	t.Helper()
	cs, err := core.New(core.Options{Host: "127.0.0.1", Port: core.RandomPort, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cs.Shutdown(ctx)
	})
	addr := strings.TrimPrefix(cs.ClientURL(), "nats://")
	for c := range conns {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil { // INFO
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("CONNECT {\"verbose\":false}\r\n")
		for i := range subs {
			fmt.Fprintf(&b, "SUB monitor.test.subject.%d.%d %d\r\n", c, i, i+1)
		}
		b.WriteString("PING\r\n")
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "PONG\r\n" {
				break
			}
		}
	}
	return cs
}

// heapPeak runs f while sampling the heap, and returns the largest heap
// seen.
func heapPeak(f func()) uint64 {
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak
}

// TestConcurrentRequestsBounded: many parallel /subsz and /connz requests
// run at most DefaultMaxConcurrent at a time, all are answered, and the
// heap they take is bounded by that number, not by the number of
// requests.
func TestConcurrentRequestsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 8,000 subscriptions")
	}
	cs := startWithSubs(t, 4, 2000)
	const parallel = 16
	run := func(m *Server) (peak uint64) {
		h := m.http.Handler
		return heapPeak(func() {
			var wg sync.WaitGroup
			for i := range parallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := "/subsz?subs=1&limit=100000"
					if i%2 == 1 {
						path = "/connz?subs=detail"
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
					if rec.Code != http.StatusOK {
						t.Errorf("%s: %d %s", path, rec.Code, rec.Body.String())
					}
				}()
			}
			wg.Wait()
		})
	}
	m := New(cs, slog.New(slog.DiscardHandler))
	// Every request waits for its turn however slow the machine: the
	// bounded wait has its own test.
	m.heavy.wait = 10 * time.Minute
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	m.http.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/subsz?subs=1&limit=100000", nil))
	runtime.ReadMemStats(&after)
	one := after.TotalAlloc - before.TotalAlloc
	base := before.HeapAlloc

	runtime.GC()
	bounded := run(m)
	if p := m.heavy.peak.Load(); p > DefaultMaxConcurrent {
		t.Fatalf("%d requests ran at once, limit %d", p, DefaultMaxConcurrent)
	}
	// Live memory is at most what the running requests hold (less than
	// each allocates in all) plus the collector's headroom over the base.
	limit := 2*base + uint64(DefaultMaxConcurrent+1)*one
	t.Logf("one /subsz allocates %d KiB; heap %d KiB before; %d parallel requests peak at %d KiB (bound %d KiB)",
		one>>10, base>>10, parallel, bounded>>10, limit>>10)
	if bounded > limit {
		t.Fatalf("heap peaked at %d KiB, bound %d KiB", bounded>>10, limit>>10)
	}
	unlimited := New(cs, slog.New(slog.DiscardHandler))
	unlimited.heavy = newLimiter(parallel, time.Minute)
	runtime.GC()
	t.Logf("without the limit: peak %d KiB", run(unlimited)>>10)
}

// TestLimiterWaitIsBounded: a request that cannot get a turn in time is
// answered 503, and one whose client leaves stops waiting.
func TestLimiterWaitIsBounded(t *testing.T) {
	m := &Server{heavy: newLimiter(1, 50*time.Millisecond)}
	held := make(chan struct{})
	release := make(chan struct{})
	h := m.limited(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-release
	})
	go h(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/connz", nil))
	<-held
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/connz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("waiting request: %d", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m.heavy.wait = time.Hour
	rec = httptest.NewRecorder()
	h(rec, httptest.NewRequest(http.MethodGet, "/connz", nil).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("request of a client that left: %d", rec.Code)
	}
	close(release)
}
