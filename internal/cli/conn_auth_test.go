package cli

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/starling-mq/starling/internal/testcert"
	"github.com/starling-mq/starling/server"
)

// envWith is testEnv with the given environment variables (and no others).
func envWith(vars map[string]string) (*env, *lockedBuffer, *lockedBuffer) {
	e, out, errOut := testEnv(nil)
	e.getenv = func(k string) string { return vars[k] }
	return e, out, errOut
}

// roundTrip subscribes and publishes one message with the same extra
// arguments and environment, and checks it arrived: the connection
// settings work for both kinds of command.
func roundTrip(t *testing.T, vars map[string]string, args ...string) {
	t.Helper()
	e, _, _ := envWith(vars)
	sub := startCmdEnv(t, e, "sub", append([]string{"rt.subject", "--count", "1", "--raw"}, args...)...)
	eventually(t, cmdTimeout, "the subscription", func() bool {
		return strings.Contains(sub.stderr.String(), "Subscribing on rt.subject") || len(sub.done) > 0
	})
	pe, _, perr := envWith(vars)
	if code := runEnv(t, pe, "pub", append([]string{"rt.subject", "hello"}, args...)...); code != 0 {
		t.Fatalf("pub exit %d: %s", code, perr)
	}
	if code := sub.wait(t); code != 0 {
		t.Fatalf("sub exit %d: %s", code, sub.stderr)
	}
	if got := sub.stdout.String(); got != "hello\n" {
		t.Errorf("sub printed %q", got)
	}
}

// failsWith runs pub with args and checks it fails with every one of want
// in its message.
func failsWith(t *testing.T, vars map[string]string, args []string, want ...string) {
	t.Helper()
	e, _, errOut := envWith(vars)
	if code := runEnv(t, e, "pub", append([]string{"x", "y"}, args...)...); code != 1 {
		t.Fatalf("pub %v: exit %d, want 1", args, code)
	}
	for _, w := range want {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("pub %v: stderr %q, want %q", args, errOut, w)
		}
	}
	if strings.Count(strings.TrimSpace(errOut.String()), "\n") > 0 {
		t.Errorf("pub %v: error is more than one line: %q", args, errOut)
	}
}

func TestConnectUserPasswordAndToken(t *testing.T) {
	url := startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, Username: "alice", Password: "s3cret"})
	roundTrip(t, nil, "-s", url, "--user", "alice", "--password", "s3cret")
	roundTrip(t, map[string]string{"NATS_URL": url, "NATS_USER": "alice", "NATS_PASSWORD": "s3cret"})
	failsWith(t, nil, []string{"-s", url, "--user", "alice", "--password", "wrong"}, "uthorization", "refused the credentials")

	tokURL := startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, Authorization: "tok-123"})
	roundTrip(t, nil, "-s", tokURL, "--token", "tok-123")
	roundTrip(t, map[string]string{"NATS_TOKEN": "tok-123"}, "-s", tokURL)
	// The nats CLI sends --user without --password as a token.
	roundTrip(t, nil, "-s", tokURL, "--user", "tok-123")
	roundTrip(t, map[string]string{"TOK": "tok-123"}, "-s", tokURL, "--token", "env://TOK")
	failsWith(t, nil, []string{"-s", tokURL, "--token", "nope"}, "refused the credentials")
}

func TestConnectNKey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "user.nk")
	if err := os.WriteFile(seedFile, append(seed, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	roundTrip(t, nil, "-s", url, "--nkey", seedFile)
	roundTrip(t, map[string]string{"NATS_NKEY": seedFile, "NATS_URL": url})

	// A different key is refused by the server; a file without a seed, or
	// with another kind of seed, is refused before connecting.
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(dir, "other.nk")
	acct, _ := nkeys.CreateAccount()
	acctSeed, _ := acct.Seed()
	acctFile := filepath.Join(dir, "account.nk")
	junk := filepath.Join(dir, "junk.nk")
	for f, b := range map[string][]byte{otherFile: otherSeed, acctFile: acctSeed, junk: []byte("hello")} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	failsWith(t, nil, []string{"-s", url, "--nkey", otherFile}, "refused the credentials")
	failsWith(t, nil, []string{"-s", url, "--nkey", acctFile}, "not a user NKey seed")
	failsWith(t, nil, []string{"-s", url, "--nkey", junk}, "not a user NKey seed")
	failsWith(t, nil, []string{"-s", url, "--nkey", filepath.Join(dir, "missing")}, "nkey: open", "no such file")
}

// tlsServer starts a server with a certificate from a private CA, wanting
// client certificates from that CA when mutual is set, and writes the
// CA, a client certificate and one from another CA to files.
func tlsServer(t *testing.T, mutual bool) (url, caFile, certFile, keyFile, rogueCert, rogueKey string) {
	t.Helper()
	ca, err := testcert.NewCA("cli test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Issue(testcert.Leaf{Subject: pkix.Name{CommonName: "cli"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testcert.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := other.Issue(testcert.Leaf{Subject: pkix.Name{CommonName: "rogue"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if certFile, keyFile, err = client.WriteFiles(dir, "client"); err != nil {
		t.Fatal(err)
	}
	if rogueCert, rogueKey, err = rogue.WriteFiles(dir, "rogue"); err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{srv.TLS}, MinVersion: tls.VersionTLS12}
	if mutual {
		conf.ClientAuth = tls.RequireAndVerifyClientCert
		conf.ClientCAs = ca.Pool()
	}
	url = startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, TLSConfig: conf})
	return url, caFile, certFile, keyFile, rogueCert, rogueKey
}

func TestConnectTLSPrivateCA(t *testing.T) {
	url, ca, _, _, _, _ := tlsServer(t, false)
	roundTrip(t, nil, "-s", url, "--tlsca", ca)
	roundTrip(t, map[string]string{"NATS_CA": ca}, "-s", url)
	failsWith(t, nil, []string{"-s", url}, "give that CA with --tlsca")
	failsWith(t, nil, []string{"-s", url, "--tlsca", ca + ".missing"}, "tlsca:", "no such file")
	failsWith(t, nil, []string{"-s", url, "--tlsca", os.DevNull}, "holds no PEM certificate")
	// Asking for TLS from a server that has none fails clearly.
	plain := startServer(t)
	failsWith(t, nil, []string{"-s", plain, "--tlsca", ca}, "does not offer it")
}

func TestConnectMutualTLS(t *testing.T) {
	url, ca, cert, key, rogueCert, rogueKey := tlsServer(t, true)
	roundTrip(t, nil, "-s", url, "--tlsca", ca, "--tlscert", cert, "--tlskey", key)
	roundTrip(t, map[string]string{"NATS_URL": url, "NATS_CA": ca, "NATS_CERT": cert, "NATS_KEY": key})
	failsWith(t, nil, []string{"-s", url, "--tlsca", ca}, "give --tlscert and --tlskey")
	failsWith(t, nil, []string{"-s", url, "--tlsca", ca, "--tlscert", rogueCert, "--tlskey", rogueKey}, "connect to")
	failsWith(t, nil, []string{"-s", url, "--tlsca", ca, "--tlscert", cert}, "needs its private key")
	failsWith(t, nil, []string{"-s", url, "--tlsca", ca, "--tlscert", cert, "--tlskey", rogueKey}, "private key does not match")
}

// Starling cannot verify user JWTs (it has no operator mode), so a fake
// server checks what the client sends: the JWT from the creds file and
// the nonce signed with the seed beside it.
func TestConnectCredsSendsJWTAndSignature(t *testing.T) {
	fs := startFakeServer(t)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	jwt := userJWT(t, pub)
	dir := t.TempDir()
	creds := filepath.Join(dir, "user.creds")
	if err := os.WriteFile(creds, []byte(credsFile(jwt, seed)), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(vars map[string]string, args ...string) {
		t.Helper()
		e, _, errOut := envWith(vars)
		if code := runEnv(t, e, "pub", append([]string{"x", "y", "-s", fs.url()}, args...)...); code != 0 {
			t.Fatalf("pub %v: exit %d: %s", args, code, errOut)
		}
		c := fs.nextConnect()
		if c["jwt"] != jwt {
			t.Errorf("CONNECT jwt = %v, want the creds file's", c["jwt"])
		}
		if _, hasNkey := c["nkey"]; hasNkey {
			t.Errorf("CONNECT has an nkey field with a JWT: %v", c)
		}
		fs.checkSignature(pub, c)
	}
	check(nil, "--creds", creds)
	check(map[string]string{"NATS_CREDS": creds})
	check(map[string]string{"HOME": dir}, "--creds", "~/user.creds")
	check(map[string]string{"J": jwt}, "--jwt", "env://J", "--seed", string(seed))

	noSeed := filepath.Join(dir, "jwt-only.creds")
	if err := os.WriteFile(noSeed, []byte("-----BEGIN NATS USER JWT-----\n"+jwt+"\n------END NATS USER JWT------\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failsWith(t, nil, []string{"-s", fs.url(), "--creds", noSeed}, "no user NKey seed")
	failsWith(t, nil, []string{"-s", fs.url(), "--creds", creds, "--user", "a", "--password", "b"}, "more than one way to authenticate")
	failsWith(t, nil, []string{"-s", fs.url(), "--creds", "op://vault/nats/creds"}, "1Password")
}

func TestConnectNKeySendsSignature(t *testing.T) {
	// The same check as the creds test, for an NKey seed given inline.
	fs := startFakeServer(t)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	e, _, errOut := envWith(map[string]string{"SEED": string(seed)})
	if code := runEnv(t, e, "pub", "x", "y", "-s", fs.url(), "--nkey", "env://SEED"); code != 0 {
		t.Fatalf("pub: exit %d: %s", code, errOut)
	}
	c := fs.nextConnect()
	if c["nkey"] != pub {
		t.Errorf("CONNECT nkey = %v, want %s", c["nkey"], pub)
	}
	fs.checkSignature(pub, c)
}

func TestTLSFirstStartsWithHandshake(t *testing.T) {
	fs := startFakeServer(t)
	e, _, _ := envWith(nil)
	// The fake server speaks no TLS, so the command fails; what matters is
	// that its first byte was a TLS handshake record, not CONNECT.
	runEnv(t, e, "pub", "x", "y", "-s", fs.url(), "--tlsfirst", "--timeout", "2s")
	select {
	case b := <-fs.first:
		if b != 0x16 {
			t.Errorf("first byte %#x, want a TLS handshake (0x16)", b)
		}
	case <-time.After(cmdTimeout):
		t.Fatal("the client sent nothing")
	}
}
