package config

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/conf"
)

// tls maps a tls block onto a server TLS configuration. Files are read now,
// so a bad path or key is a configuration error, not a failure at the first
// client.
func (d *decoder) tls(v *conf.Value) {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return
	}
	o := &d.cfg.Opts
	var certFile, keyFile, caFile string
	var certPos, caPos conf.Pos
	var verify, allowInsecure bool
	var insecure []string // insecure cipher suites named
	var ciphersPos conf.Pos
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, e := range m.Entries() {
		mv := e.Value
		switch strings.ToLower(e.Key) {
		case "cert_file":
			certFile, certPos = d.str(mv), mv.Pos
		case "key_file":
			keyFile = d.str(mv)
		case "ca_file":
			caFile, caPos = d.str(mv), mv.Pos
		case "verify":
			verify = d.boolean(mv)
		case "verify_and_map":
			if d.boolean(mv) {
				verify, o.TLSMap = true, true
			}
		case "timeout":
			secs, err := mv.Seconds()
			d.fail(err)
			if err == nil {
				o.TLSTimeout = time.Duration(secs * float64(time.Second))
			}
		case "min_version", "minimum_version":
			switch s := d.str(mv); s {
			case "1.2", "tls1.2", "TLS1.2":
				cfg.MinVersion = tls.VersionTLS12
			case "1.3", "tls1.3", "TLS1.3":
				cfg.MinVersion = tls.VersionTLS13
			default:
				d.errorf(mv.Pos, "unsupported TLS version %q (want 1.2 or 1.3)", s)
			}
		case "cipher_suites":
			arr, err := mv.AsArray()
			if err != nil || len(arr) == 0 {
				d.errorf(mv.Pos, "error parsing tls config, 'cipher_suites' must be a non-empty list")
				continue
			}
			for _, cv := range arr {
				cs, ok := cipherSuite(d.str(cv))
				if !ok {
					d.errorf(cv.Pos, "unrecognized cipher %s", d.str(cv))
					continue
				}
				cfg.CipherSuites = append(cfg.CipherSuites, cs.ID)
				if cs.Insecure {
					insecure = append(insecure, cs.Name)
				}
			}
			ciphersPos = mv.Pos
		case "allow_insecure_cipher_suites":
			allowInsecure = d.boolean(mv)
		case "curve_preferences":
			arr, err := mv.AsArray()
			if err != nil || len(arr) == 0 {
				d.errorf(mv.Pos, "error parsing tls config, 'curve_preferences' must be a non-empty list")
				continue
			}
			for _, cv := range arr {
				id, ok := curveID(d.str(cv))
				if !ok {
					d.errorf(cv.Pos, "unrecognized curve preference %s", d.str(cv))
					continue
				}
				cfg.CurvePreferences = append(cfg.CurvePreferences, id)
			}
		default:
			d.unknown(&tlsBlock, e)
		}
	}
	if len(insecure) > 0 && !allowInsecure {
		d.errorf(ciphersPos, "insecure cipher suites configured without 'allow_insecure_cipher_suites' option set: %s", strings.Join(insecure, ", "))
	}
	if certFile == "" || keyFile == "" {
		d.errorf(v.Pos, "tls needs cert_file and key_file")
		return
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		d.errorf(certPos, "error loading tls certificate: %v", err)
		return
	}
	cfg.Certificates = []tls.Certificate{cert}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			d.errorf(caPos, "error reading ca_file: %v", err)
			return
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			d.errorf(caPos, "ca_file %s holds no PEM certificate", caFile)
			return
		}
		cfg.ClientCAs = pool
	}
	if verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	o.TLSConfig = cfg
}

// cipherSuite looks a suite up by its Go or IANA name.
func cipherSuite(name string) (*tls.CipherSuite, bool) {
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if cs.Name == name {
			return cs, true
		}
	}
	return nil, false
}

// curves are the key exchanges curve_preferences may name, by the names
// crypto/tls (and so nats-server) gives them.
var curves = []tls.CurveID{
	tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
	tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521,
}

func curveID(name string) (tls.CurveID, bool) {
	for _, c := range curves {
		if c.String() == name {
			return c, true
		}
	}
	return 0, false
}

// CurveNames lists the names curve_preferences accepts, most preferred
// first.
func CurveNames() []string {
	out := make([]string, len(curves))
	for i, c := range curves {
		out[i] = c.String()
	}
	return out
}
