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
	"github.com/starling-mq/starling/internal/core"
)

// Config is what a configuration file sets: server options, and the
// process-level settings that belong to the command around the server.
type Config struct {
	File     string
	Opts     core.Options
	Process  Process
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
	Set          map[string]bool // which of the above the file set
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
	c := &Config{File: path, Process: Process{LogTime: true, Set: map[string]bool{}}}
	d := &decoder{cfg: c}
	for _, e := range m.Entries() {
		d.top(e)
	}
	d.finishAuth()
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return c, nil
}

// decoder accumulates errors and warnings while mapping.
type decoder struct {
	cfg  *Config
	errs []error
	auth authBlock
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
	p := &d.cfg.Process
	v := e.Value
	key := strings.ToLower(e.Key)
	switch key {
	case "listen":
		host, port, err := hostPort(v)
		d.fail(err)
		o.Host, o.Port = host, port
	case "host", "net":
		o.Host = d.str(v)
	case "port":
		o.Port = d.port(v)
	case "server_name":
		o.ServerName = d.str(v)
		if strings.Contains(o.ServerName, " ") {
			d.errorf(v.Pos, "server_name cannot contain spaces")
		}
	case "http":
		host, port, err := hostPort(v)
		d.fail(err)
		if host != "" {
			o.HTTPHost = host
		}
		o.HTTPPort = port
	case "http_port", "monitor_port":
		o.HTTPPort = d.port(v)
	case "https":
		host, port, err := hostPort(v)
		d.fail(err)
		if host != "" {
			o.HTTPHost = host
		}
		o.HTTPSPort = port
	case "https_port":
		o.HTTPSPort = d.port(v)
	case "http_host":
		o.HTTPHost = d.str(v)
	case "max_payload":
		o.MaxPayload = d.size(v, "max_payload")
	case "max_control_line":
		o.MaxControlLine = d.size(v, "max_control_line")
	case "max_pending":
		o.MaxPending = d.size(v, "max_pending")
	case "max_connections", "max_conn":
		o.MaxConnections = d.positive(v, key)
	case "max_subscriptions", "max_subs":
		o.MaxSubscriptions = d.nonNegative(v, key)
	case "ping_interval":
		o.PingInterval = d.duration(v, key)
	case "ping_max":
		o.PingMax = d.positive(v, key)
	case "write_deadline":
		o.WriteDeadline = d.duration(v, key)
	case "lame_duck_duration":
		o.LameDuckDuration = d.durationString(v, key)
		if o.LameDuckDuration > 0 && o.LameDuckDuration < 30*time.Second {
			d.errorf(v.Pos, "invalid lame_duck_duration of %v, minimum is 30 seconds", o.LameDuckDuration)
		}
	case "lame_duck_grace_period":
		o.LameDuckGracePeriod = d.durationString(v, key)
	case "no_header_support":
		o.NoHeaderSupport = d.boolean(v)
	case "jetstream":
		d.jetstream(v)
	case "store_dir", "storedir":
		o.StoreDir = d.str(v)
	case "authorization":
		d.authorization(v)
	case "no_auth_user":
		d.auth.noAuthUser = d.str(v)
	case "tls":
		d.tls(v)
	case "debug":
		p.Debug = d.boolean(v)
		p.Set["debug"] = true
	case "trace", "trace_verbose":
		p.Trace = d.boolean(v)
		p.Set["trace"] = true
	case "logtime":
		p.LogTime = d.boolean(v)
		p.Set["logtime"] = true
	case "logtime_utc":
		p.LogTimeUTC = d.boolean(v)
	case "log_file", "logfile":
		p.LogFile = d.str(v)
		p.Set["log_file"] = true
	case "logfile_size_limit", "log_size_limit":
		p.LogSizeLimit = int64(d.size(v, key))
	case "logfile_max_num", "log_max_num":
		p.LogMaxFiles = d.nonNegative(v, key)
	case "pid_file", "pidfile":
		p.PidFile = d.str(v)
		p.Set["pid_file"] = true
	case "connect_error_reports", "reconnect_error_reports":
		// How often nats-server logs failed route, gateway and leaf node
		// connections; Starling makes none, so any valid count is honoured.
		d.nonNegative(v, key)
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

func (d *decoder) port(v *conf.Value) int {
	n := d.integer(v)
	d.fail(checkPort(v, n))
	return int(n)
}

func (d *decoder) positive(v *conf.Value, name string) int {
	n := d.integer(v)
	if v.Kind == conf.KindInt && n <= 0 {
		d.errorf(v.Pos, "%s must be positive, got %d", name, n)
	}
	return int(n)
}

func (d *decoder) nonNegative(v *conf.Value, name string) int {
	n := d.integer(v)
	if v.Kind == conf.KindInt && n < 0 {
		d.errorf(v.Pos, "%s must not be negative, got %d", name, n)
	}
	return int(n)
}

// size reads a byte count: an integer, which the parser has already scaled
// for unit suffixes (64KB, 1MB).
func (d *decoder) size(v *conf.Value, name string) int {
	if v.Kind != conf.KindInt {
		d.errorf(v.Pos, "%s: expected a size such as 1MB, got %s", name, v.Kind)
		return 0
	}
	n := d.integer(v)
	if n <= 0 || n > 1<<40 {
		d.errorf(v.Pos, "%s: size %d out of range", name, n)
	}
	return int(n)
}

// duration reads "2s"-style strings, and integers as seconds with the
// warning nats-server gives.
func (d *decoder) duration(v *conf.Value, name string) time.Duration {
	dur, err := v.Duration()
	d.fail(err)
	if err == nil && v.Kind == conf.KindInt {
		d.warnf(v.Pos, "%s of %d is read as seconds; write a duration such as \"%ds\"", name, int64(dur/time.Second), int64(dur/time.Second))
	}
	if err == nil && dur <= 0 {
		d.errorf(v.Pos, "%s must be positive", name)
	}
	return dur
}

// durationString reads options nats-server only takes as duration strings.
func (d *decoder) durationString(v *conf.Value, name string) time.Duration {
	if v.Kind != conf.KindString {
		d.errorf(v.Pos, "%s: expected a duration string such as \"30s\", got %s", name, v.Kind)
		return 0
	}
	return d.duration(v, name)
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("missing port")
	}
	host := strings.Trim(s[:i], "[]")
	var port int
	if _, err := fmt.Sscanf(s[i+1:], "%d", &port); err != nil || fmt.Sprint(port) != s[i+1:] || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port")
	}
	return host, port, nil
}
