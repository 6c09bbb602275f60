package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Backups cross between Starling and the official tools: the natscli
// commands operators use, and nats-server itself in both directions. Each
// test skips when its program is not installed.

// natscli's backup commands (v0.5.0 names and the older ones it keeps as
// aliases) back up a Starling stream with its consumers and restore it,
// for one stream and for the whole account.
func TestJetStreamBackupNatsCLI(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	url := s.ClientURL()
	cli := newNatsCLI(t, url)
	fillBackupStream(t, js, "BK", jetstream.FileStorage, false)
	before := dumpStream(t, nc, js, "BK")

	for _, cmds := range [][2][]string{
		{{"backup", "stream", "BK"}, {"backup", "restore", "stream"}},
		{{"stream", "backup", "BK"}, {"stream", "restore"}},
	} {
		dir := filepath.Join(t.TempDir(), "bk")
		cli.run(append(cmds[0], dir, "--no-progress")...)
		for _, f := range []string{"backup.json", "stream.tar.s2"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatalf("%s: %v", strings.Join(cmds[0], " "), err)
			}
		}
		if err := js.DeleteStream(ctx(t), "BK"); err != nil {
			t.Fatal(err)
		}
		cli.run(append(cmds[1], dir, "--no-progress")...)
		compareDumps(t, before, dumpStream(t, nc, js, "BK"))
	}

	mustStream(t, js, jetstream.StreamConfig{Name: "SECOND", Subjects: []string{"second"}})
	if _, err := js.Publish(ctx(t), "second", []byte("2")); err != nil {
		t.Fatal(err)
	}
	second := dumpStream(t, nc, js, "SECOND")
	for _, cmds := range [][2][]string{
		{{"backup", "account"}, {"backup", "restore", "account"}},
		{{"account", "backup"}, {"account", "restore"}},
	} {
		dir := filepath.Join(t.TempDir(), "account")
		cli.run(append(cmds[0], dir, "--force")...)
		for _, name := range []string{"BK", "SECOND"} {
			if err := js.DeleteStream(ctx(t), name); err != nil {
				t.Fatal(err)
			}
		}
		cli.run(append(cmds[1], dir)...)
		compareDumps(t, before, dumpStream(t, nc, js, "BK"))
		compareDumps(t, second, dumpStream(t, nc, js, "SECOND"))
	}
}

// natsServers lists the nats-server binaries to test against:
// $STARLING_NATS_SERVERS (paths separated by the list separator), else
// nats-server on the PATH.
func natsServers(t *testing.T) []string {
	t.Helper()
	var bins []string
	if env := os.Getenv("STARLING_NATS_SERVERS"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err == nil {
				bins = append(bins, p)
			}
		}
	} else if p, err := exec.LookPath("nats-server"); err == nil {
		bins = append(bins, p)
	}
	if len(bins) == 0 {
		t.Skip("no nats-server binary (set STARLING_NATS_SERVERS or put nats-server on the PATH)")
	}
	return bins
}

// startNatsServer runs a JetStream nats-server on a free loopback port
// until the test ends and returns its URL.
func startNatsServer(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	return startNatsServerArgs(t, bin, "-js", "-sd", filepath.Join(dir, "store"), "-a", "127.0.0.1", "-p", "-1")
}

// startNatsServerArgs runs nats-server with args until the test ends and
// returns its client URL, read from the ports file it writes.
func startNatsServerArgs(t *testing.T, bin string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	ports := filepath.Join(dir, "ports")
	if err := os.Mkdir(ports, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "--ports_file_dir", ports)...)
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
	var url string
	eventually(t, 10*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(ports, "*.ports"))
		if len(files) == 0 {
			return false
		}
		b, err := os.ReadFile(files[0])
		var p struct {
			Nats []string `json:"nats"`
		}
		if err != nil || json.Unmarshal(b, &p) != nil || len(p.Nats) == 0 {
			return false
		}
		url = p.Nats[0]
		return true
	}, bin+" to listen")
	return url
}

func connectURL(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// A backup taken by nats-server restores into Starling, and one taken by
// Starling restores into nats-server: the same messages under the same
// sequences, the same state, and consumers at the same positions with the
// same pending and redelivered messages.
func TestJetStreamBackupCrossServer(t *testing.T) {
	for _, bin := range natsServers(t) {
		t.Run(filepath.Base(bin), func(t *testing.T) {
			natsURL := startNatsServer(t, bin)
			nnc, njs := connectURL(t, natsURL)
			s := startJS(t, "")
			snc, sjs := jsConnect(t, s)

			t.Run("nats-server to Starling", func(t *testing.T) {
				fillBackupStream(t, njs, "FROMNATS", jetstream.FileStorage, false)
				want := dumpStream(t, nnc, njs, "FROMNATS")
				b, err := takeBackup(t, nnc, "FROMNATS", nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := restoreBackup(t, snc, "FROMNATS", b, 64<<10); err != nil {
					t.Fatal(err)
				}
				compareAcross(t, want, dumpStream(t, snc, sjs, "FROMNATS"))
			})
			t.Run("Starling to nats-server", func(t *testing.T) {
				fillBackupStream(t, sjs, "FROMSTARLING", jetstream.FileStorage, false)
				want := dumpStream(t, snc, sjs, "FROMSTARLING")
				b, err := takeBackup(t, snc, "FROMSTARLING", nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := restoreBackup(t, nnc, "FROMSTARLING", b, 64<<10); err != nil {
					t.Fatal(err)
				}
				compareAcross(t, want, dumpStream(t, nnc, njs, "FROMSTARLING"))
			})
		})
	}
}

// compareAcross compares dumps from different servers: messages and
// state exactly, consumers by what both servers report the same way
// (nats-server and Starling present the position of a consumer that has
// not delivered anything, and the ack floor of one without acks,
// differently).
func compareAcross(t *testing.T, want, got *streamDump) {
	t.Helper()
	w, g := *want, *got
	w.Consumers, g.Consumers = nil, nil
	compareDumps(t, &w, &g)
	if len(got.Consumers) != len(want.Consumers) {
		t.Fatalf("consumers %v, want %v", got.Consumers, want.Consumers)
	}
	for name, wc := range want.Consumers {
		gc := got.Consumers[name]
		if wc.Delivered[0] > 0 && wc.AckPolicy != jetstream.AckNonePolicy {
			if gc.Delivered != wc.Delivered || gc.AckFloor != wc.AckFloor {
				t.Errorf("consumer %s: delivered %v floor %v, want %v %v", name, gc.Delivered, gc.AckFloor, wc.Delivered, wc.AckFloor)
			}
		}
		gc.Delivered, gc.AckFloor, wc.Delivered, wc.AckFloor = [2]uint64{}, [2]uint64{}, [2]uint64{}, [2]uint64{}
		if gc != wc {
			t.Errorf("consumer %s:\n got %+v\nwant %+v", name, gc, wc)
		}
	}
}
