// Command backpressure measures what a fast publisher does to a subscriber
// that reads steadily but slower: whether the server slows the publisher
// to the subscriber's pace (every message delivered) or cuts the
// subscriber off as a slow consumer. It runs the same workload against
// Starling and nats-server on loopback, alternating over several rounds.
//
//	go build -o bin/starling ./cmd/starling
//	go run ./bench/backpressure --starling bin/starling --nats-server /usr/sbin/nats-server
//
// The publisher is a nats.go client publishing 1 KiB messages as fast as it
// can; the subscriber is a raw TCP client reading at --rate bytes per
// second (0: as fast as it can, a nats.go-like reader).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/bench/internal/serverproc"

	"github.com/starling-mq/starling/internal/slowreader"
)

type config struct {
	msgs       int
	size       int
	rate       float64
	maxPending string
}

// outcome is one run against one server.
type outcome struct {
	pubRate  float64 // messages per second the publisher achieved
	received int64   // messages the subscriber got
	cut      bool    // the subscriber's connection was closed
}

func main() {
	starling := flag.String("starling", "bin/starling", "the starling binary")
	natsServer := flag.String("nats-server", "nats-server", "the nats-server binary")
	rounds := flag.Int("rounds", 3, "rounds; each runs both servers")
	var cfg config
	flag.IntVar(&cfg.msgs, "msgs", 200_000, "messages to publish")
	flag.IntVar(&cfg.size, "size", 1024, "payload size in bytes")
	flag.Float64Var(&cfg.rate, "rate", 50<<20, "bytes per second the subscriber reads (0: unthrottled)")
	flag.StringVar(&cfg.maxPending, "max-pending", "", "max_pending for both servers (default: theirs, 64MB)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "bp-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	fmt.Printf("%d x %d B, subscriber reading at %s, max_pending %s\n", cfg.msgs, cfg.size, rateText(cfg.rate), orDefault(cfg.maxPending))
	fmt.Printf("%-6s %-12s %14s %12s %s\n", "round", "server", "publisher", "received", "subscriber")
	for r := 1; r <= *rounds; r++ {
		servers := []struct{ name, bin string }{{"starling", *starling}, {"nats-server", *natsServer}}
		if r%2 == 0 {
			servers[0], servers[1] = servers[1], servers[0]
		}
		for _, s := range servers {
			o, err := run(dir, s.name, s.bin, cfg)
			if err != nil {
				fail(fmt.Errorf("%s: %w", s.name, err))
			}
			state := "kept"
			if o.cut {
				state = "CUT (slow consumer)"
			}
			fmt.Printf("%-6d %-12s %9.0f msg/s %5.1f%% %6d  %s\n", r, s.name, o.pubRate, 100*float64(o.received)/float64(cfg.msgs), o.received, state)
		}
	}
}

func run(dir, name, bin string, cfg config) (outcome, error) {
	var o outcome
	port, err := serverproc.FreePort()
	if err != nil {
		return o, err
	}
	conf := filepath.Join(dir, name+".conf")
	text := fmt.Sprintf("host: 127.0.0.1\nport: %d\n", port)
	if cfg.maxPending != "" {
		text += "max_pending: " + cfg.maxPending + "\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return o, err
	}
	args := []string{"-c", conf}
	if name == "starling" {
		args = append([]string{"server"}, args...)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return o, err
	}
	defer func() {
		_ = cmd.Process.Kill() // only the server this run started
		_ = cmd.Wait()
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := serverproc.WaitListening(port, 10*time.Second); err != nil {
		return o, err
	}

	sub, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return o, err
	}
	defer sub.Close()
	sub.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := sub.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bp 1\r\nPING\r\n")); err != nil {
		return o, err
	}
	var got atomic.Int64
	ready := make(chan struct{})
	ended := make(chan error, 1)
	go func() { ended <- slowreader.Read(sub, nil, cfg.rate, &got, ready) }()
	select {
	case <-ready:
	case err := <-ended:
		return o, fmt.Errorf("subscriber: %w", err)
	case <-time.After(10 * time.Second):
		return o, errors.New("subscriber: no PONG")
	}

	nc, err := nats.Connect("nats://"+addr, nats.Timeout(5*time.Second))
	if err != nil {
		return o, err
	}
	defer nc.Close()
	payload := make([]byte, cfg.size)
	start := time.Now()
	for range cfg.msgs {
		if err := nc.Publish("bp", payload); err != nil {
			return o, err
		}
	}
	if err := nc.FlushTimeout(5 * time.Minute); err != nil {
		return o, err
	}
	o.pubRate = float64(cfg.msgs) / time.Since(start).Seconds()

	// Wait for the subscriber to get everything, to be cut, or to stop
	// moving for 5 s.
	last, moved := got.Load(), time.Now()
	for got.Load() < int64(cfg.msgs) && time.Since(moved) < 5*time.Second {
		select {
		case <-ended:
			o.cut = true
		case <-time.After(20 * time.Millisecond):
		}
		if o.cut {
			break
		}
		if n := got.Load(); n != last {
			last, moved = n, time.Now()
		}
	}
	o.received = got.Load()
	return o, nil
}

func rateText(r float64) string {
	if r <= 0 {
		return "full speed"
	}
	return fmt.Sprintf("%.0f MB/s", r/(1<<20))
}

func orDefault(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "backpressure:", err)
	os.Exit(1)
}
