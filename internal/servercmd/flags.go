// Package servercmd implements `starling server`: nats-server compatible
// command-line flags, logging setup, signals and the process lifecycle
// around an embedded server.
package servercmd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/starling-mq/starling/internal/config"
)

// Config is what the command line asks for. The embedded config.Config is
// what a configuration file sets, server options and process settings
// alike; flags that stand for a configuration key set it through the
// key's own setter (see flagTable). The rest is the command's own.
type Config struct {
	config.Config
	ConfigFile string // -c
	Check      bool   // -t: check the configuration file and exit
	Signal     string // --signal command[=pid]: send it and exit
	Profile    int    // pprof HTTP port, 0 = off
	Version    bool
	Help       bool
	HelpTLS    bool

	// TLS from flags (nats-server's --tls, --tlscert, --tlskey,
	// --tlsverify, --tlscacert); they replace a tls block from the file.
	TLS       bool
	TLSCert   string
	TLSKey    string
	TLSVerify bool
	TLSCACert string
}

// errUsage marks flag errors, for which the usage text is worth showing.
var errUsage = errors.New("usage")

// Parse reads `starling server` arguments. With -c it loads that
// configuration file first; flags given on the command line override what
// the file says, as with nats-server. Flags may be written with one dash or
// two.
func Parse(args []string) (*Config, error) {
	// A first pass finds -c (and reports bad flags before any file is read).
	first := &Config{Config: config.Defaults()}
	if err := parseInto(first, args); err != nil {
		return nil, err
	}
	cfg := &Config{Config: config.Defaults()}
	if first.ConfigFile != "" {
		fc, err := config.Load(first.ConfigFile)
		if err != nil {
			return nil, err
		}
		cfg.Config = *fc
	}
	if err := parseInto(cfg, args); err != nil {
		return nil, err
	}
	cfg.Opts.Trace = cfg.Trace
	if err := cfg.tlsFromFlags(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseInto applies flags on top of what cfg already holds: every flag's
// default is the current value, so only flags given change anything.
func parseInto(cfg *Config, args []string) error {
	var refused string // the first refused flag's feature
	var debugTrace bool
	fs := newFlagSet(cfg, &refused, &debugTrace)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if refused != "" {
		return fmt.Errorf("%s is not supported by this version of Starling yet", refused)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if debugTrace {
		cfg.Debug, cfg.Trace = true, true
	}
	return nil
}

// newFlagSet defines every flag of flagTable on cfg: through the setting
// of the configuration key it stands for, or on a field of its own.
func newFlagSet(cfg *Config, refused *string, debugTrace *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("starling server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range flagTable {
		for _, name := range f.names {
			if f.refused != "" {
				fs.Var(refusedFlag{refused, f.refused, f.arg == ""}, name, f.usage)
				continue
			}
			if f.bind.key != "" {
				fs.Var(cfg.Flag(f.bind.key), name, f.usage)
				continue
			}
			if f.bind.value != nil {
				fs.Var(f.bind.value(cfg), name, f.usage)
				continue
			}
			switch p := f.bind.field(cfg, debugTrace).(type) {
			case *string:
				fs.StringVar(p, name, *p, f.usage)
			case *int:
				fs.IntVar(p, name, *p, f.usage)
			case *bool:
				fs.BoolVar(p, name, *p, f.usage)
			default:
				panic(fmt.Sprintf("flag %s: unsupported type %T", name, p))
			}
		}
	}
	return fs
}

// refusedFlag is a nats-server flag for a feature Starling does not have:
// it parses, so the error can name the feature instead of "flag provided
// but not defined".
type refusedFlag struct {
	wanted *string
	what   string
	isBool bool
}

func (u refusedFlag) String() string   { return "" }
func (u refusedFlag) IsBoolFlag() bool { return u.isBool }
func (u refusedFlag) Set(string) error {
	if *u.wanted == "" {
		*u.wanted = u.what
	}
	return nil
}

// tlsFromFlags builds the TLS configuration the TLS flags ask for.
func (cfg *Config) tlsFromFlags() error {
	if !cfg.TLS && !cfg.TLSVerify && cfg.TLSCert == "" && cfg.TLSKey == "" && cfg.TLSCACert == "" {
		return nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return fmt.Errorf("%w: TLS needs --tlscert and --tlskey", errUsage)
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.TLSCACert != "" {
		pem, err := os.ReadFile(cfg.TLSCACert)
		if err != nil {
			return fmt.Errorf("read TLS CA: %w", err)
		}
		tc.ClientCAs = x509.NewCertPool()
		if !tc.ClientCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", cfg.TLSCACert)
		}
	}
	if cfg.TLSVerify {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	cfg.Opts.TLSConfig = tc
	return nil
}
