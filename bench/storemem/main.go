// Command storemem measures what stored messages cost a server at rest:
// resident memory per million messages and restart time per GB of store,
// for Starling and nats-server in the same run, driven through nats.go.
//
// For each server and each workload it starts the server on a fresh store
// directory, creates a file-backed stream, publishes the messages, then
// restarts the server and times how long it takes until the stream answers
// with every message. Memory is the server's resident set (VmRSS from
// /proc) minus its resident set with the empty stream, sampled after the
// publish and again after the restart, once it has settled.
//
//	go build -o bin/starling ./cmd/starling
//	go run ./bench/storemem --starling bin/starling --nats-server /usr/sbin/nats-server
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/bench/internal/serverproc"
)

type options struct {
	dup  time.Duration
	kill bool
}

var opts options

type workload struct {
	name     string
	subjects int
}

type result struct {
	server, workload    string
	msgs                int
	baseKB, pubKB, rsKB int64 // RSS: empty stream, after publish, after restart
	diskBytes           int64
	restart             time.Duration
}

func main() {
	starling := flag.String("starling", "bin/starling", "starling binary")
	natsServer := flag.String("nats-server", "/usr/sbin/nats-server", "nats-server binary (empty to skip)")
	msgs := flag.Int("msgs", 5_000_000, "messages per workload")
	size := flag.Int("size", 16, "payload bytes")
	subjects := flag.String("subjects", "1,1000", "comma-separated subject counts, one workload each")
	dup := flag.Duration("duplicates", time.Second, "the stream's duplicate window: both servers re-read the messages inside it at a restart, which would measure the de-duplication rebuild rather than the index")
	kill := flag.Bool("kill", false, "stop the server with SIGKILL before the restart instead of a clean shutdown")
	flag.Parse()
	opts = options{dup: *dup, kill: *kill}

	var wls []workload
	for _, f := range strings.Split(*subjects, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatal("bad subject count %q", f)
		}
		wls = append(wls, workload{fmt.Sprintf("%d subject(s)", n), n})
	}
	servers := []struct{ name, bin string }{{"starling", *starling}}
	if *natsServer != "" {
		servers = append(servers, struct{ name, bin string }{"nats-server", *natsServer})
	}
	fmt.Printf("# %d msgs of %d B per workload, duplicate window %v, kill before restart %v, %d CPUs, %s\n",
		*msgs, *size, *dup, *kill, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	for _, s := range servers {
		fmt.Printf("# %s: %s\n", s.name, version(s.bin))
	}
	var results []result
	for _, wl := range wls {
		for _, s := range servers {
			r, err := run(s.name, s.bin, wl, *msgs, *size)
			if err != nil {
				fatal("%s, %s: %v", s.name, wl.name, err)
			}
			results = append(results, r)
			report(r)
		}
	}
	fmt.Println()
	fmt.Println("| server | workload | RSS/M msgs after publish | RSS/M msgs after restart | store on disk | restart | restart per GB |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range results {
		perM := func(kb int64) string {
			return fmt.Sprintf("%.1f MB", float64(kb-r.baseKB)*1024/1e6/(float64(r.msgs)/1e6))
		}
		gb := float64(r.diskBytes) / 1e9
		fmt.Printf("| %s | %s | %s | %s | %.0f MB | %.2f s | %.2f s |\n", r.server, r.workload, perM(r.pubKB), perM(r.rsKB),
			float64(r.diskBytes)/1e6, r.restart.Seconds(), r.restart.Seconds()/gb)
	}
}

func report(r result) {
	fmt.Printf("%s, %s: base %d KB, after publish %d KB, after restart %d KB, disk %d B, restart %v\n",
		r.server, r.workload, r.baseKB, r.pubKB, r.rsKB, r.diskBytes, r.restart.Round(time.Millisecond))
}

// server is one running server process.
type server struct {
	cmd *exec.Cmd
	url string
}

func start(name, bin, dir string, port int) (*server, error) {
	p := strconv.Itoa(port)
	var args []string
	if name == "starling" {
		args = []string{"server", "-a", "127.0.0.1", "-p", p, "-js", "-sd", dir}
	} else {
		args = []string{"-a", "127.0.0.1", "-p", p, "-js", "-sd", dir}
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: fmt.Sprintf("nats://127.0.0.1:%d", port)}
	if err := serverproc.WaitListening(port, 5*time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func (s *server) rssKB() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// settledRSS samples the resident set for a few seconds and returns the
// last sample: a Go server gives memory back to the system gradually after
// a burst.
func (s *server) settledRSS() int64 {
	var kb int64
	for range 10 {
		time.Sleep(500 * time.Millisecond)
		kb = s.rssKB()
	}
	return kb
}

func run(name, bin string, wl workload, n, size int) (result, error) {
	r := result{server: name, workload: wl.name, msgs: n}
	tmp, err := os.MkdirTemp("", "storemem-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(tmp)
	port, err := serverproc.FreePort()
	if err != nil {
		return r, err
	}
	srv, err := start(name, bin, tmp, port)
	if err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	nc, err := nats.Connect(srv.url)
	if err != nil {
		srv.stop()
		return r, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1024))
	if err == nil {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "MEM", Subjects: []string{"mem.>"}, Storage: jetstream.FileStorage, Duplicates: opts.dup})
	}
	if err != nil {
		nc.Close()
		srv.stop()
		return r, err
	}
	r.baseKB = srv.settledRSS()
	if err := publish(ctx, js, wl.subjects, n, size); err != nil {
		nc.Close()
		srv.stop()
		return r, err
	}
	if err := waitCount(ctx, js, n); err != nil {
		nc.Close()
		srv.stop()
		return r, err
	}
	r.pubKB = srv.settledRSS()
	nc.Close()
	if opts.kill {
		_ = srv.cmd.Process.Kill()
		_ = srv.cmd.Wait()
	} else {
		srv.stop()
	}
	r.diskBytes = dirSize(tmp)

	t0 := time.Now()
	srv, err = start(name, bin, tmp, port)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	nc, err = nats.Connect(srv.url, nats.Timeout(time.Minute))
	if err != nil {
		return r, err
	}
	defer nc.Close()
	js, err = jetstream.New(nc)
	if err != nil {
		return r, err
	}
	if err := waitCount(ctx, js, n); err != nil {
		return r, err
	}
	r.restart = time.Since(t0)
	r.rsKB = srv.settledRSS()
	return r, nil
}

// publish sends n messages round-robin over the subjects, with a bounded
// number of acknowledgements outstanding.
func publish(ctx context.Context, js jetstream.JetStream, subjects, n, size int) error {
	payload := make([]byte, size)
	names := make([]string, subjects)
	for i := range names {
		names[i] = fmt.Sprintf("mem.s%d", i)
	}
	for i := range n {
		if _, err := js.PublishAsync(names[i%subjects], payload, jetstream.WithStallWait(time.Minute)); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// waitCount polls the stream until it reports n messages.
func waitCount(ctx context.Context, js jetstream.JetStream, n int) error {
	for ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		st, err := js.Stream(qctx, "MEM")
		if err == nil {
			var info *jetstream.StreamInfo
			info, err = st.Info(qctx)
			if err == nil && info.State.Msgs == uint64(n) {
				cancel()
				return nil
			}
			if err == nil {
				err = fmt.Errorf("%d messages, want %d", info.State.Msgs, n)
			}
		}
		cancel()
		if errors.Is(err, context.Canceled) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ctx.Err()
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func version(bin string) string {
	args := []string{"--version"}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "storemem: "+format+"\n", args...)
	os.Exit(1)
}
