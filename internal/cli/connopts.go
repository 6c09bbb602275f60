package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Turning merged settings into nats.go options. Every file is read and
// checked here, before any connection is attempted, so a wrong path or a
// damaged key is reported as such rather than as a failed handshake.

// settingsOptions returns the authentication and TLS options for l.
func settingsOptions(l connLayer, r refResolver) ([]nats.Option, error) {
	opts, err := authOptions(l, r)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := tlsOptions(l, r)
	if err != nil {
		return nil, err
	}
	opts = append(opts, tlsOpts...)
	if l.inboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(l.inboxPrefix))
	}
	return opts, nil
}

func authOptions(l connLayer, r refResolver) ([]nats.Option, error) {
	switch {
	case l.user != "":
		pass, err := r.literal("password", l.password)
		if err != nil {
			return nil, err
		}
		return []nats.Option{nats.UserInfo(l.user, pass)}, nil
	case l.token != "":
		tok, err := r.literal("token", l.token)
		if err != nil {
			return nil, err
		}
		return []nats.Option{nats.Token(tok)}, nil
	case l.creds != "":
		o, err := credsOption(l.creds, r)
		if err != nil {
			return nil, err
		}
		return []nats.Option{o}, nil
	case l.nkey != "":
		data, err := r.readRef("nkey", l.nkey)
		if err != nil {
			return nil, err
		}
		kp, err := nkeys.ParseDecoratedUserNKey(data)
		if err != nil {
			return nil, fmt.Errorf("nkey %s: not a user NKey seed (SU...): %w", l.nkey, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("nkey %s: %w", l.nkey, err)
		}
		return []nats.Option{nats.Nkey(pub, kp.Sign)}, nil
	case l.jwt != "":
		return jwtOption(l, r)
	}
	return nil, nil
}

// credsOption reads a credentials file: a user JWT and the user NKey seed
// that signs the server's nonce.
func credsOption(ref string, r refResolver) (nats.Option, error) {
	data, err := r.readRef("creds", ref)
	if err != nil {
		return nil, err
	}
	jwt, err := nkeys.ParseDecoratedJWT(data)
	if err != nil || !looksLikeJWT(jwt) {
		return nil, fmt.Errorf("creds %s: no user JWT found (want the file nsc or an account operator generates)", ref)
	}
	kp, err := nkeys.ParseDecoratedUserNKey(data)
	if err != nil {
		return nil, fmt.Errorf("creds %s: no user NKey seed: %w", ref, err)
	}
	return nats.UserJWT(func() (string, error) { return jwt, nil }, kp.Sign), nil
}

// jwtOption is --jwt with --seed (signs the nonce) or alone (a bearer
// JWT, which the server accepts only if the JWT says so).
func jwtOption(l connLayer, r refResolver) ([]nats.Option, error) {
	jwt, err := r.literal("jwt", l.jwt)
	if err != nil {
		return nil, err
	}
	if !looksLikeJWT(jwt) {
		return nil, errors.New("jwt: not a JWT (three base64url parts separated by dots)")
	}
	if l.seed == "" {
		return []nats.Option{nats.UserJWT(func() (string, error) { return jwt, nil },
			func([]byte) ([]byte, error) { return nil, nil })}, nil
	}
	seed, err := r.literal("seed", l.seed)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return []nats.Option{nats.UserJWT(func() (string, error) { return jwt, nil }, kp.Sign)}, nil
}

// looksLikeJWT checks the shape only; the server verifies the rest.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.IndexFunc(p, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=')
		}) >= 0 {
			return false
		}
	}
	return true
}

// tlsOptions builds the client's TLS configuration. Giving any of the
// files makes the client insist on TLS, as the nats CLI does.
func tlsOptions(l connLayer, r refResolver) ([]nats.Option, error) {
	var opts []nats.Option
	if l.ca != "" || l.cert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if l.ca != "" {
			pool, err := loadCAs(r.filePath(l.ca))
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = pool
		}
		if l.cert != "" {
			cert, err := loadKeyPair(r.filePath(l.cert), r.filePath(l.key))
			if err != nil {
				return nil, err
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	if l.tlsFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	return opts, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	pem, err := readFileBounded(path, maxCredFile)
	if err != nil {
		return nil, fmt.Errorf("tlsca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tlsca: %s holds no PEM certificate", path)
	}
	return pool, nil
}

func loadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	certPEM, err := readFileBounded(certPath, maxCredFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlscert: %w", err)
	}
	keyPEM, err := readFileBounded(keyPath, maxCredFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlskey: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlscert %s with tlskey %s: %w", certPath, keyPath, err)
	}
	return cert, nil
}
