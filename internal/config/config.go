// Package config maps a nats-server configuration file onto Starling's
// options: the keys nats-server knows, with its names, aliases, units and
// defaults. Syntax lives in internal/conf; this package gives it meaning.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/options"
)

// Config is what a configuration file sets: server options, and the
// process-level settings that belong to the command around the server.
// Command-line flags set the same struct through the same settings (see
// Flag).
type Config struct {
	File string
	Opts options.Options
	Process
	Warnings []string // "file:line:col: ..." for keys read but ignored
}

// Process holds settings the server command applies itself.
type Process struct {
	Debug, Trace bool
	LogTime      bool
	LogTimeUTC   bool
	LogFile      string
	LogSizeLimit int64
	LogMaxFiles  int
	PidFile      string
}

// Defaults returns what a configuration holds before any key or flag:
// nothing set, except that logs are timestamped.
func Defaults() Config {
	return Config{Process: Process{LogTime: true}}
}

// Load reads and maps a configuration file.
func Load(path string) (*Config, error) {
	m, err := conf.ParseFile(path)
	if err != nil {
		return nil, err
	}
	return FromMap(path, m)
}

// FromMap maps a parsed configuration. Every problem is reported, each with
// its position, not just the first.
func FromMap(path string, m *conf.Map) (*Config, error) {
	c := new(Config)
	*c = Defaults()
	c.File = path
	d := &decoder{cfg: c}
	for _, e := range m.Entries() {
		d.top(e)
	}
	d.checkAccounts()
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return c, nil
}

// decoder accumulates errors and warnings while mapping.
type decoder struct {
	cfg  *Config
	errs []error
	acct accountPositions
}

func (d *decoder) errorf(p conf.Pos, format string, args ...any) {
	d.errs = append(d.errs, p.Errorf(format, args...))
}

func (d *decoder) fail(err error) {
	if err != nil {
		d.errs = append(d.errs, err)
	}
}

func (d *decoder) warnf(p conf.Pos, format string, args ...any) {
	d.cfg.Warnings = append(d.cfg.Warnings, p.Errorf(format, args...).Error())
}

func (d *decoder) top(e conf.Entry) {
	o := &d.cfg.Opts
	v := e.Value
	key := strings.ToLower(e.Key)
	switch key {
	case "listen":
		host, port, err := hostPort(v)
		d.fail(err)
		o.Host, o.Port = host, port
	case "http":
		host, port, err := hostPort(v)
		d.fail(err)
		if host != "" {
			o.HTTPHost = host
		}
		o.HTTPPort = port
	case "https":
		host, port, err := hostPort(v)
		d.fail(err)
		if host != "" {
			o.HTTPHost = host
		}
		o.HTTPSPort = port
	case "jetstream":
		d.jetstream(v)
	case "authorization":
		d.authorization(v)
	case "tls":
		d.tls(v)
	case "cluster":
		d.cluster(v)
	case "accounts":
		d.accounts(e)
	case "system_account", "system":
		d.systemAccount(v)
	case "mappings", "maps":
		d.cfg.Opts.Mappings = d.mappings(options.GlobalAccount, v)
	case "disable_sublist_cache", "no_sublist_cache":
		if v.Kind == conf.KindBool && d.boolean(v) {
			d.notImplemented(&topBlock, e, "turning the subscription cache off")
		} else {
			d.boolean(v)
		}
	case "no_system_account", "no_system", "no_sys_acc":
		// Starling has no system account: asking for none is what it does.
		if v.Kind == conf.KindBool && !d.boolean(v) {
			d.notImplemented(&topBlock, e, "the system account")
		} else {
			d.boolean(v)
		}
	default:
		if s := settingFor[key]; s != nil && !strings.Contains(key, ".") {
			d.apply(s, key, v)
			return
		}
		d.unknown(&topBlock, e)
	}
}

// notImplemented refuses a known key for a value Starling cannot honour
// (the same key with the value that matches Starling's behaviour is
// accepted).
func (d *decoder) notImplemented(b *block, e conf.Entry, feature string) {
	d.errs = append(d.errs, &NotImplementedError{Pos: e.KeyPos, Key: e.Key, Block: b.name, Feature: feature})
}

func hostPort(v *conf.Value) (string, int, error) {
	switch v.Kind {
	case conf.KindInt:
		n, _ := v.AsInt()
		return "", int(n), checkPort(v, n)
	case conf.KindString:
		s, _ := v.AsString()
		host, port, err := splitHostPort(s)
		if err != nil {
			return "", 0, v.Pos.Errorf("could not parse address string %q", s)
		}
		return host, port, nil
	}
	return "", 0, v.Pos.Errorf("expected port or host:port, got %s", v.Kind)
}

func checkPort(v *conf.Value, n int64) error {
	if n < -1 || n > 65535 {
		return v.Pos.Errorf("port %d out of range", n)
	}
	return nil
}

func (d *decoder) str(v *conf.Value) string {
	s, err := v.AsString()
	d.fail(err)
	return s
}

func (d *decoder) boolean(v *conf.Value) bool {
	b, err := v.AsBool()
	d.fail(err)
	return b
}

func (d *decoder) integer(v *conf.Value) int64 {
	n, err := v.AsInt()
	d.fail(err)
	return n
}

func (d *decoder) positive(v *conf.Value, name string) int {
	n := d.integer(v)
	if v.Kind == conf.KindInt && n <= 0 {
		d.errorf(v.Pos, "%s must be positive, got %d", name, n)
	}
	return int(n)
}

// duration reads "2s"-style strings, and integers as seconds with the
// warning nats-server gives.
func (d *decoder) duration(v *conf.Value, name string) time.Duration {
	val, ok := d.read(kindDuration, name, v)
	if ok && val.dur <= 0 {
		d.errorf(v.Pos, "%s must be positive", name)
	}
	return val.dur
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("missing port")
	}
	host := strings.Trim(s[:i], "[]")
	var port int
	// -1 is any free port, as for port.
	if _, err := fmt.Sscanf(s[i+1:], "%d", &port); err != nil || fmt.Sprint(port) != s[i+1:] || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("bad port")
	}
	return host, port, nil
}
