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
	Debug        bool
	Trace        bool
	PidFile      string
	Signal       string // --signal command[=pid]: send it and exit
	Profile      int    // pprof HTTP port, 0 = off
	Version      bool
	Help         bool

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

// unsupported lists nats-server flags for features Starling does not have
// yet. They are accepted by the parser only so the error can say so,
// instead of "flag provided but not defined".
var unsupported = map[string]string{
	"ms": "HTTPS monitoring", "https_port": "HTTPS monitoring",
	"s": "syslog", "syslog": "syslog", "r": "remote syslog", "remote_syslog": "remote syslog",
	"log_size_limit": "log rotation", "max_traced_msg_len": "trace truncation",
	"routes": "clustering", "cluster": "clustering", "cluster_name": "clustering",
	"cluster_listen": "clustering", "cluster_advertise": "clustering", "no_advertise": "clustering",
	"connect_retries": "clustering", "client_advertise": "client advertise", "ports_file_dir": "ports files",
}

// boolFlags among the unsupported ones take no value.
var unsupportedBool = map[string]bool{
	"s": true, "syslog": true, "js": true,
	"tlsverify": true, "no_advertise": true,
}

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
	cfg.Debug, cfg.Trace, cfg.LogTime = p.Debug, p.Trace, p.LogTime
	cfg.LogFile, cfg.LogSizeLimit, cfg.LogMaxFiles = p.LogFile, p.LogSizeLimit, p.LogMaxFiles
	cfg.PidFile = p.PidFile
}

// parseInto applies flags on top of what cfg already holds: every flag's
// default is the current value, so only flags given change anything.
func parseInto(cfg *Config, args []string) error {
	o := &cfg.Opts
	fs := flag.NewFlagSet("starling server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	str := func(p *string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, *p, "")
		}
	}
	num := func(p *int, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, *p, "")
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, *p, "")
		}
	}
	dur := func(p *time.Duration, names ...string) {
		for _, n := range names {
			fs.DurationVar(p, n, *p, "")
		}
	}
	size := func(p *int, names ...string) {
		for _, n := range names {
			fs.Var((*sizeValue)(p), n, "")
		}
	}

	str(&cfg.ConfigFile, "c", "config")
	boolean(&cfg.Check, "t")
	str(&o.Host, "a", "addr", "net")
	num(&o.Port, "p", "port")
	str(&o.ServerName, "n", "name", "server_name")
	num(&o.HTTPPort, "m", "http_port")
	str(&cfg.PidFile, "P", "pid")
	str(&cfg.Signal, "sl", "signal")
	str(&cfg.LogFile, "l", "log")
	boolean(&cfg.LogTime, "T", "logtime")
	boolean(&cfg.Debug, "D", "debug")
	boolean(&cfg.Trace, "V", "trace", "VV")
	var dv bool
	boolean(&dv, "DV", "DVV")
	boolean(&cfg.TLS, "tls")
	str(&cfg.TLSCert, "tlscert")
	str(&cfg.TLSKey, "tlskey")
	boolean(&cfg.TLSVerify, "tlsverify")
	str(&cfg.TLSCACert, "tlscacert")
	boolean(&o.JetStream, "js", "jetstream")
	str(&o.StoreDir, "sd", "store_dir")
	str(&o.Username, "user")
	str(&o.Password, "pass")
	str(&o.Authorization, "auth")
	num(&cfg.Profile, "profile")
	boolean(&cfg.Version, "v", "version")
	boolean(&cfg.Help, "h", "help")
	// Limits nats-server only takes from a config file; flags save writing
	// one for a quick run.
	size(&o.MaxPayload, "max_payload")
	size(&o.MaxPending, "max_pending")
	size(&o.MaxControlLine, "max_control_line")
	num(&o.MaxConnections, "max_connections")
	num(&o.MaxSubscriptions, "max_subscriptions")
	dur(&o.PingInterval, "ping_interval")
	num(&o.PingMax, "ping_max")
	dur(&o.WriteDeadline, "write_deadline")
	dur(&o.AuthTimeout, "auth_timeout")

	var wanted string
	for name, what := range unsupported {
		if unsupportedBool[name] {
			fs.Var(unsupportedFlag{&wanted, what, true}, name, "")
		} else {
			fs.Var(unsupportedFlag{&wanted, what, false}, name, "")
		}
	}

	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if wanted != "" {
		return fmt.Errorf("%s is not supported by this version of Starling yet", wanted)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if dv {
		cfg.Debug, cfg.Trace = true, true
	}
	return nil
}

type unsupportedFlag struct {
	wanted *string
	what   string
	isBool bool
}

func (u unsupportedFlag) String() string   { return "" }
func (u unsupportedFlag) IsBoolFlag() bool { return u.isBool }
func (u unsupportedFlag) Set(string) error {
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
