package config

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/conf"
)

// tls maps the top-level tls block: TLS for client connections.
func (d *decoder) tls(v *conf.Value) {
	ts, ok := d.tlsBlock(v, &tlsBlock)
	o := &d.cfg.Opts
	if ts.timeoutSet {
		o.TLSTimeout = ts.timeout
	}
	if ts.mapUsers {
		o.TLSMap = true
	}
	if ok {
		o.TLSConfig = ts.config
	}
}

// tlsSettings is what a tls block sets.
type tlsSettings struct {
	config     *tls.Config
	timeout    time.Duration
	timeoutSet bool
	mapUsers   bool // verify_and_map
}

// clusterTLSInsecureWarning is nats-server's warning for a cluster tls
// block with insecure: true.
const clusterTLSInsecureWarning = "TLS certificate chain and hostname of solicited routes will not be verified. DO NOT USE IN PRODUCTION!"

// tlsBlock maps a tls block (b says which: the client one or the
// cluster's) onto a TLS configuration. Files are read now, so a bad path or
// key is a configuration error, not a failure at the first connection. ok
// is false when the block does not make a usable configuration.
func (d *decoder) tlsBlock(v *conf.Value, b *block) (ts tlsSettings, ok bool) {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return ts, false
	}
	// Routes are dialled as well as accepted, and always verified.
	route := b == &clusterTLSBlock
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
				verify, ts.mapUsers = true, true
			}
		case "insecure":
			if !route {
				d.unknown(b, e)
				continue
			}
			if d.boolean(mv) {
				cfg.InsecureSkipVerify = true
				d.warnf(e.KeyPos, "%s", clusterTLSInsecureWarning)
			}
		case "timeout":
			secs, err := mv.Seconds()
			d.fail(err)
			if err == nil {
				ts.timeout, ts.timeoutSet = time.Duration(secs*float64(time.Second)), true
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
			d.unknown(b, e)
		}
	}
	if len(insecure) > 0 && !allowInsecure {
		d.errorf(ciphersPos, "insecure cipher suites configured without 'allow_insecure_cipher_suites' option set: %s", strings.Join(insecure, ", "))
	}
	if certFile == "" || keyFile == "" {
		d.errorf(v.Pos, "%s needs cert_file and key_file", b.name)
		return ts, false
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		d.errorf(certPos, "error loading tls certificate: %v", err)
		return ts, false
	}
	cfg.Certificates = []tls.Certificate{cert}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			d.errorf(caPos, "error reading ca_file: %v", err)
			return ts, false
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			d.errorf(caPos, "ca_file %s holds no PEM certificate", caFile)
			return ts, false
		}
		cfg.ClientCAs = pool
	}
	if verify || route {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if route {
		// The ca_file verifies the peers this server dials too.
		cfg.RootCAs = cfg.ClientCAs
	}
	ts.config = cfg
	return ts, true
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
