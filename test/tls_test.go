package test

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/testcert"
	"github.com/starling-mq/starling/server"
)

type tlsFixture struct {
	ca         *testcert.CA
	server     *testcert.Issued
	client     *testcert.Issued
	otherCA    *testcert.CA
	rogue      *testcert.Issued // a client certificate from another CA
	serverConf *tls.Config
}

func newTLSFixture(t *testing.T, verify bool) *tlsFixture {
	t.Helper()
	f := &tlsFixture{}
	var err error
	must := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	f.ca, err = testcert.NewCA("test CA")
	must(err)
	f.server, err = f.ca.Localhost()
	must(err)
	f.client, err = f.ca.Issue(testcert.Leaf{Subject: pkix.Name{CommonName: "alice"}, Emails: []string{"alice@example.com"}, Client: true})
	must(err)
	f.otherCA, err = testcert.NewCA("other CA")
	must(err)
	f.rogue, err = f.otherCA.Issue(testcert.Leaf{Subject: pkix.Name{CommonName: "mallory"}, Client: true})
	must(err)
	f.serverConf = &tls.Config{Certificates: []tls.Certificate{f.server.TLS}, MinVersion: tls.VersionTLS12}
	if verify {
		f.serverConf.ClientAuth = tls.RequireAndVerifyClientCert
		f.serverConf.ClientCAs = f.ca.Pool()
	}
	return f
}

func (f *tlsFixture) clientConf(cert *testcert.Issued) *tls.Config {
	c := &tls.Config{RootCAs: f.ca.Pool(), MinVersion: tls.VersionTLS12}
	if cert != nil {
		c.Certificates = []tls.Certificate{cert.TLS}
	}
	return c
}

func TestTLS(t *testing.T) {
	f := newTLSFixture(t, false)
	s := startServer(t, func(o *serverOptions) {
		o.TLSConfig, o.TLSTimeout, o.HTTPPort = f.serverConf, 300*time.Millisecond, server.RandomPort
	})
	nc := connect(t, s, nats.Secure(f.clientConf(nil)))
	if !nc.TLSRequired() {
		t.Error("client does not see tls_required")
	}
	sub, _ := nc.SubscribeSync("secure")
	nc.Publish("secure", []byte("over tls"))
	if m, err := sub.NextMsg(2 * time.Second); err != nil || string(m.Data) != "over tls" {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(0)); err == nil {
		t.Error("plaintext client connected to a TLS server")
	}
	// A client that never starts the handshake is told and dropped.
	rc := dialRaw(t, s)
	if rc.info["tls_required"] != true {
		t.Errorf("INFO tls_required = %v", rc.info["tls_required"])
	}
	rc.expectClosed("-ERR 'Secure Connection - TLS Required'\r\n")

	var cz struct {
		Conns []struct {
			TLSVersion string `json:"tls_version"`
			TLSCipher  string `json:"tls_cipher_suite"`
		} `json:"connections"`
	}
	getJSON(t, s.MonitorURL()+"/connz", &cz)
	if len(cz.Conns) != 1 || cz.Conns[0].TLSVersion != "1.3" || cz.Conns[0].TLSCipher == "" {
		t.Errorf("connz TLS fields: %+v", cz.Conns)
	}
}

func TestMutualTLS(t *testing.T) {
	f := newTLSFixture(t, true)
	s := startServer(t, func(o *serverOptions) { o.TLSConfig = f.serverConf; o.TLSTimeout = 500 * time.Millisecond })
	nc := connect(t, s, nats.Secure(f.clientConf(f.client)))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, cert := range map[string]*testcert.Issued{"no certificate": nil, "certificate from another CA": f.rogue} {
		_, err := nats.Connect(s.ClientURL(), nats.Secure(f.clientConf(cert)), nats.MaxReconnects(0), nats.Timeout(2*time.Second))
		if err == nil {
			t.Errorf("%s: connected", name)
		} else if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestTLSVerifyAndMap: the client certificate names the user; its
// permissions apply, and a certificate naming nobody is refused.
func TestTLSVerifyAndMap(t *testing.T) {
	f := newTLSFixture(t, true)
	s := startServer(t, func(o *serverOptions) {
		o.TLSConfig, o.TLSMap = f.serverConf, true
		o.Users = []*server.User{{Username: "alice@example.com", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"alice.>"}},
		}}}
	})
	errs := make(chan error, 1)
	nc := connect(t, s, nats.Secure(f.clientConf(f.client)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	nc.Publish("bob.inbox", nil)
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("mapped user's permissions not applied")
	}
	stranger, err := f.ca.Issue(testcert.Leaf{Subject: pkix.Name{CommonName: "stranger"}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.Secure(f.clientConf(stranger)), nats.MaxReconnects(0)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("unmapped certificate: %v", err)
	}
}

func TestHTTPSMonitoring(t *testing.T) {
	f := newTLSFixture(t, false)
	s := startServer(t, func(o *serverOptions) { o.TLSConfig = f.serverConf; o.HTTPSPort = server.RandomPort })
	if s.MonitorURL() != "" {
		t.Errorf("plain HTTP monitoring started without http_port")
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: f.clientConf(nil)}}
	resp, err := c.Get(s.MonitorTLSURL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != `{"status":"ok"}` {
		t.Fatalf("https healthz: %d %s", resp.StatusCode, body)
	}
}

// TestReloadCertificates: a reload's new certificate serves the next
// client connection and the next HTTPS monitoring request.
func TestReloadCertificates(t *testing.T) {
	first, second := newTLSFixture(t, false), newTLSFixture(t, false)
	opts := serverOptions{Host: "127.0.0.1", Port: -1, TLSConfig: first.serverConf, HTTPSPort: server.RandomPort}
	s := startServer(t, func(o *serverOptions) { *o = opts })
	get := func(f *tlsFixture) error {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: f.clientConf(nil)}}
		resp, err := c.Get(s.MonitorTLSURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(first); err != nil {
		t.Fatal(err)
	}
	next := opts
	next.TLSConfig = second.serverConf
	if err := s.Reload(&next); err != nil {
		t.Fatal(err)
	}
	if err := get(second); err != nil {
		t.Errorf("https monitoring after reload: %v", err)
	}
	if err := get(first); err == nil {
		t.Error("https monitoring still serves the old certificate")
	}
	nc, err := nats.Connect(s.ClientURL(), nats.Secure(second.clientConf(nil)), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("client after reload: %v", err)
	}
	nc.Close()
}
