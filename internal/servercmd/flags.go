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
	"math"
	"os"
	"time"

	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/config"
	"github.com/starling-mq/starling/internal/core"
)

// Config is what the command line asks for: server options plus the
// process-level settings that are not the server's business.
type Config struct {
	Opts         core.Options
	ConfigFile   string   // -c
	Check        bool     // -t: check the configuration file and exit
	Warnings     []string // from the configuration file
	LogFile      string
	LogSizeLimit int64
	LogMaxFiles  int
	LogTime      bool
	LogTimeUTC   bool
	Debug        bool
	Trace        bool
	PidFile      string
	Signal       string // --signal command[=pid]: send it and exit
	Profile      int    // pprof HTTP port, 0 = off
	Version      bool
	Help         bool
	HelpTLS      bool

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
	first := &Config{LogTime: true}
	if err := parseInto(first, args); err != nil {
		return nil, err
	}
	cfg := &Config{LogTime: true}
	if first.ConfigFile != "" {
		fc, err := config.Load(first.ConfigFile)
		if err != nil {
			return nil, err
		}
		cfg.fromFile(fc)
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

// fromFile takes the settings of a configuration file.
func (cfg *Config) fromFile(fc *config.Config) {
	cfg.Opts = fc.Opts
	cfg.Warnings = fc.Warnings
	p := fc.Process
	cfg.Debug, cfg.Trace, cfg.LogTime, cfg.LogTimeUTC = p.Debug, p.Trace, p.LogTime, p.LogTimeUTC
	cfg.LogFile, cfg.LogSizeLimit, cfg.LogMaxFiles = p.LogFile, p.LogSizeLimit, p.LogMaxFiles
	cfg.PidFile = p.PidFile
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

// newFlagSet defines every flag of flagTable on cfg's fields.
func newFlagSet(cfg *Config, refused *string, debugTrace *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("starling server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range flagTable {
		for _, name := range f.names {
			if f.refused != "" {
				fs.Var(refusedFlag{refused, f.refused, f.arg == ""}, name, f.usage)
				continue
			}
			switch p := f.value(cfg, debugTrace).(type) {
			case *string:
				fs.StringVar(p, name, *p, f.usage)
			case *int:
				fs.IntVar(p, name, *p, f.usage)
			case *bool:
				fs.BoolVar(p, name, *p, f.usage)
			case *time.Duration:
				fs.DurationVar(p, name, *p, f.usage)
			case flag.Value:
				fs.Var(p, name, f.usage)
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

// sizeValue parses byte sizes as nats-server configuration files write
// them (see conf.ParseSize: 1KB and 1K are 1024 and 1000 bytes).
type sizeValue int

func (s *sizeValue) String() string { return fmt.Sprint(int(*s)) }

func (s *sizeValue) Set(v string) error {
	n, err := conf.ParseSize(v)
	if err != nil {
		return err
	}
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("size %q out of range", v)
	}
	*s = sizeValue(n)
	return nil
}

// size64Value is sizeValue for sizes that may pass 2 GB (log files).
type size64Value int64

func (s *size64Value) String() string { return fmt.Sprint(int64(*s)) }

func (s *size64Value) Set(v string) error {
	n, err := conf.ParseSize(v)
	if err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("size %q out of range", v)
	}
	*s = size64Value(n)
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
