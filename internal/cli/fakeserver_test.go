package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

// fakeServer speaks just enough of the NATS protocol to see what a client
// sends: INFO with a nonce, then it records each CONNECT and answers PING
// with PONG, swallowing anything else. It stands in for a server that
// verifies user JWTs, which Starling does not do.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	nonce    string
	connects chan map[string]any
	first    chan byte // the first byte each client sent (0x16 starts TLS)
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{t: t, ln: ln, nonce: "Nonce-for-the-test", connects: make(chan map[string]any, 16), first: make(chan byte, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 16; i++ { // bounded: a test makes a few connections
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fs.serve(c) // one client at a time is all the tests need
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return fs
}

func (fs *fakeServer) url() string { return "nats://" + fs.ln.Addr().String() }

func (fs *fakeServer) serve(c net.Conn) {
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(cmdTimeout)); err != nil {
		return
	}
	info := fmt.Sprintf(`{"server_id":"FAKE","server_name":"fake","version":"2.11.0","proto":1,"headers":true,"max_payload":1048576,"auth_required":true,"nonce":%q}`, fs.nonce)
	if _, err := fmt.Fprintf(c, "INFO %s\r\n", info); err != nil {
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	b, err := r.Peek(1)
	if err != nil {
		return
	}
	fs.first <- b[0]
	for range 1000 { // bounded: a test sends a handful of operations
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		op, args, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(op) {
		case "CONNECT":
			var m map[string]any
			if err := json.Unmarshal([]byte(args), &m); err == nil {
				fs.connects <- m
			}
		case "PING":
			if _, err := c.Write([]byte("PONG\r\n")); err != nil {
				return
			}
		case "PUB", "HPUB":
			// Skip the payload line.
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	}
}

// nextConnect returns the next CONNECT's fields.
func (fs *fakeServer) nextConnect() map[string]any {
	fs.t.Helper()
	select {
	case m := <-fs.connects:
		return m
	case <-time.After(cmdTimeout):
		fs.t.Fatal("no CONNECT received")
		return nil
	}
}

// checkSignature verifies that sig (from CONNECT) signs the nonce with the
// key whose public form is pub.
func (fs *fakeServer) checkSignature(pub string, connect map[string]any) {
	fs.t.Helper()
	sig, _ := connect["sig"].(string)
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		fs.t.Fatalf("sig %q: %v", sig, err)
	}
	kp, err := nkeys.FromPublicKey(pub)
	if err != nil {
		fs.t.Fatal(err)
	}
	if err := kp.Verify([]byte(fs.nonce), raw); err != nil {
		fs.t.Errorf("nonce signature does not verify with %s: %v", pub, err)
	}
}

// userJWT makes a user JWT signed by a fresh account key, shaped as nsc
// makes them; the fake server only compares it, but it is a real one.
func userJWT(t *testing.T, userPub string) string {
	t.Helper()
	acct, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	return signedJWT(t, acct, userPub, "user", `"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1`)
}

// signedJWT encodes claims about subject, of the given type (with the
// extra "nats" fields), signed by issuer, as the nats-io/jwt library
// would; the tests do without that library.
func signedJWT(t *testing.T, issuer nkeys.KeyPair, subject, kind, natsFields string) string {
	t.Helper()
	iss, err := issuer.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if natsFields != "" {
		natsFields += ","
	}
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"ed25519-nkey"}`))
	claims := fmt.Sprintf(`{"jti":"TEST%d","iat":%d,"iss":%q,"name":"test %s","sub":%q,"nats":{%s"type":%q,"version":2}}`,
		time.Now().UnixNano(), time.Now().Unix(), iss, kind, subject, natsFields, kind)
	body := header + "." + enc.EncodeToString([]byte(claims))
	sig, err := issuer.Sign([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return body + "." + enc.EncodeToString(sig)
}

// credsFile renders a credentials file as nsc writes it.
func credsFile(jwt string, seed []byte) string {
	return "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n\n" +
		"************************* IMPORTANT *************************\n" +
		"NKEY Seed printed below can be used to sign and prove identity.\n" +
		"NKEYs are sensitive and should be treated as secrets.\n\n" +
		"-----BEGIN USER NKEY SEED-----\n" + string(seed) + "\n------END USER NKEY SEED------\n\n" +
		"*************************************************************\n"
}
