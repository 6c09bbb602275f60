package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/starling-mq/starling/internal/testcert"
)

// These tests run a real nats-server for what Starling's server cannot
// check: $STARLING_NATS_SERVER or a nats-server on PATH; without one they
// are skipped.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("STARLING_NATS_SERVER"); bin != "" {
		return bin
	}
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server binary (set STARLING_NATS_SERVER)")
	}
	return bin
}

// runNatsServer starts bin with the configuration file conf, listening on
// port, and stops it when the test ends. If it exits before listening,
// the test fails, or is skipped when skipMsg is set (a feature the
// binary's version lacks).
func runNatsServer(t *testing.T, bin, conf string, port int, skipMsg string) (url string) {
	t.Helper()
	cmd := exec.Command(bin, "-c", conf)
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // the process this test started
		<-exited
		if t.Failed() {
			t.Logf("nats-server log:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	eventually(t, cmdTimeout, "nats-server to listen", func() bool {
		select {
		case err := <-exited:
			exited <- err
			if skipMsg != "" {
				t.Skipf("%s: %v\n%s", skipMsg, err, log.String())
			}
			t.Fatalf("nats-server exited: %v\n%s", err, log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "nats://" + addr
}

// writeFiles writes each file's contents, mode 0600.
func writeFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for f, data := range files {
		if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCredsAgainstNatsServerOperatorMode checks --creds end to end against
// a nats-server in operator mode, which verifies the JWT chain (Starling
// has no operator mode).
func TestCredsAgainstNatsServerOperatorMode(t *testing.T) {
	bin := natsServerBinary(t)
	keys := make([]nkeys.KeyPair, 4)
	for i, create := range []func() (nkeys.KeyPair, error){nkeys.CreateOperator, nkeys.CreateAccount, nkeys.CreateUser, nkeys.CreateAccount} {
		var err error
		if keys[i], err = create(); err != nil {
			t.Fatal(err)
		}
	}
	op, acct, user, stranger := keys[0], keys[1], keys[2], keys[3]
	opPub, _ := op.PublicKey()
	acctPub, _ := acct.PublicKey()
	userPub, _ := user.PublicKey()
	seed, _ := user.Seed()
	limits := `"limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,"exports":-1,"wildcards":true,"conn":-1,"leaf":-1}`
	userClaims := `"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1`

	dir := t.TempDir()
	good := filepath.Join(dir, "user.creds")
	bad := filepath.Join(dir, "stranger.creds")
	conf := filepath.Join(dir, "server.conf")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{
		good: credsFile(signedJWT(t, acct, userPub, "user", userClaims), seed),
		// The same user, signed by an account the server does not know.
		bad: credsFile(signedJWT(t, stranger, userPub, "user", userClaims), seed),
		conf: fmt.Sprintf("listen: 127.0.0.1:%d\noperator: %q\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n}\n",
			port, signedJWT(t, op, opPub, "operator", ""), acctPub, signedJWT(t, op, acctPub, "account", limits)),
	})
	url := runNatsServer(t, bin, conf, port, "")
	roundTrip(t, nil, "-s", url, "--creds", good)
	roundTrip(t, map[string]string{"NATS_CREDS": good, "NATS_URL": url})
	failsWith(t, nil, []string{"-s", url, "--creds", bad}, "refused the credentials")
	failsWith(t, nil, []string{"-s", url}, "refused the credentials")
}

// TestTLSFirstAgainstNatsServer connects with --tlsfirst to a nats-server
// with handshake_first (2.10 and later; skipped with an older one).
func TestTLSFirstAgainstNatsServer(t *testing.T) {
	bin := natsServerBinary(t)
	ca, err := testcert.NewCA("tls first CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, err := srv.WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	conf := filepath.Join(dir, "server.conf")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{
		caFile: string(ca.PEM),
		conf:   fmt.Sprintf("listen: 127.0.0.1:%d\ntls {\n  cert_file: %q\n  key_file: %q\n  handshake_first: true\n}\n", port, certFile, keyFile),
	})
	url := runNatsServer(t, bin, conf, port, "this nats-server does not take handshake_first")
	roundTrip(t, nil, "-s", url, "--tlsca", caFile, "--tlsfirst")
	// Without it the client waits for a greeting the server never sends.
	failsWith(t, nil, []string{"-s", url, "--tlsca", caFile, "--timeout", "1s"}, "connect to")
}
