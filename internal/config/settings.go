package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/options"
)

// setting is one option that a single configuration key sets. The file
// decoder and the command line (Config.Flag) both go through its set
// function, so a flag and the key it stands for cannot drift apart: same
// checks, same messages, same field. Keys with structure (listen, tls,
// users, the jetstream block) are decoded by hand in the block decoders.
type setting struct {
	key     string   // as nats-server's file spells it; "authorization.user" for a key in a block
	aliases []string // other spellings the file accepts
	kind    kind
	set     func(c *Config, v value) error
}

// kind is how a setting's value is written.
type kind uint8

const (
	kindString kind = iota
	kindBool
	kindInt
	kindSize           // bytes: an unquoted 64KB in a file; conf.ParseSize on the command line
	kindDuration       // "2s"; a file may also give whole seconds, with a warning
	kindDurationString // "30s" only (nats-server reads these keys as strings)
	kindSeconds        // a file gives seconds (3, 0.5) or "2s"; the command line a duration
	kindList           // a file gives an array of strings (or one string); the command line a comma-separated list
)

// value is a setting's value once read from a file or a flag.
type value struct {
	name string // the key as written (or the setting's key, for a flag), for messages
	str  string
	num  int64
	b    bool
	dur  time.Duration
	list []string
}

// settings is the table. Every key and alias here is also in its block's
// known list (keys.go); a test checks both.
var settings = []setting{
	{"host", []string{"net"}, kindString, setString(func(c *Config) *string { return &c.Opts.Host })},
	{"port", nil, kindInt, setPort(func(c *Config) *int { return &c.Opts.Port })},
	{"server_name", nil, kindString, setServerName},
	{"http_port", []string{"monitor_port"}, kindInt, setPort(func(c *Config) *int { return &c.Opts.HTTPPort })},
	{"https_port", nil, kindInt, setPort(func(c *Config) *int { return &c.Opts.HTTPSPort })},
	{"http_host", nil, kindString, setString(func(c *Config) *string { return &c.Opts.HTTPHost })},
	{"max_payload", nil, kindSize, setSize(func(c *Config) *int { return &c.Opts.MaxPayload })},
	{"max_control_line", nil, kindSize, setSize(func(c *Config) *int { return &c.Opts.MaxControlLine })},
	{"max_pending", nil, kindSize, setSize(func(c *Config) *int { return &c.Opts.MaxPending })},
	// 0 means the default for these, as in nats-server.
	{"max_connections", []string{"max_conn"}, kindInt, setCount(0, func(c *Config) *int { return &c.Opts.MaxConnections })},
	{"max_subscriptions", []string{"max_subs"}, kindInt, setCount(0, func(c *Config) *int { return &c.Opts.MaxSubscriptions })},
	{"ping_interval", nil, kindDuration, setDuration(func(c *Config) *time.Duration { return &c.Opts.PingInterval })},
	{"ping_max", nil, kindInt, setCount(0, func(c *Config) *int { return &c.Opts.PingMax })},
	{"write_deadline", nil, kindDuration, setDuration(func(c *Config) *time.Duration { return &c.Opts.WriteDeadline })},
	{"lame_duck_duration", nil, kindDurationString, setLameDuckDuration},
	{"lame_duck_grace_period", nil, kindDurationString, setDuration(func(c *Config) *time.Duration { return &c.Opts.LameDuckGracePeriod })},
	{"no_header_support", nil, kindBool, setBool(func(c *Config) *bool { return &c.Opts.NoHeaderSupport })},
	// The jetstream key is decoded by hand (it may be a block); its plain
	// true/false form and -js come here.
	{"jetstream", nil, kindBool, setBool(func(c *Config) *bool { return &c.Opts.JetStream })},
	{"store_dir", []string{"storedir"}, kindString, setString(func(c *Config) *string { return &c.Opts.StoreDir })},
	{"no_auth_user", nil, kindString, setString(func(c *Config) *string { return &c.Opts.NoAuthUser })},

	{"authorization.user", []string{"authorization.username"}, kindString, setString(func(c *Config) *string { return &c.Opts.Username })},
	{"authorization.password", []string{"authorization.pass"}, kindString, setString(func(c *Config) *string { return &c.Opts.Password })},
	{"authorization.token", nil, kindString, setString(func(c *Config) *string { return &c.Opts.Authorization })},
	{"authorization.timeout", nil, kindSeconds, setAuthTimeout},

	// The cluster block's single-valued keys (listen, authorization, tls,
	// permissions and compression are decoded in cluster.go).
	{"cluster.name", nil, kindString, setClusterName},
	{"cluster.host", []string{"cluster.net"}, kindString, setString(func(c *Config) *string { return &c.Opts.Cluster.Host })},
	{"cluster.port", nil, kindInt, setPort(func(c *Config) *int { return &c.Opts.Cluster.Port })},
	{"cluster.advertise", []string{"cluster.cluster_advertise"}, kindString, setClusterAdvertise},
	{"cluster.no_advertise", nil, kindBool, setBool(func(c *Config) *bool { return &c.Opts.Cluster.NoAdvertise })},
	{"cluster.routes", nil, kindList, setRoutes},
	{"cluster.connect_retries", nil, kindInt, setCount(0, func(c *Config) *int { return &c.Opts.Cluster.ConnectRetries })},
	{"cluster.connect_backoff", nil, kindBool, setBool(func(c *Config) *bool { return &c.Opts.Cluster.ConnectBackoff })},
	{"cluster.pool_size", nil, kindInt, setPoolSize},
	{"cluster.accounts", nil, kindList, setPinnedAccounts},
	{"cluster.ping_interval", nil, kindDuration, setDuration(func(c *Config) *time.Duration { return &c.Opts.Cluster.PingInterval })},
	{"cluster.ping_max", nil, kindInt, setCount(0, func(c *Config) *int { return &c.Opts.Cluster.PingMax })},
	{"cluster.write_deadline", nil, kindDuration, setDuration(func(c *Config) *time.Duration { return &c.Opts.Cluster.WriteDeadline })},

	{"debug", nil, kindBool, setBool(func(c *Config) *bool { return &c.Process.Debug })},
	{"trace", []string{"trace_verbose"}, kindBool, setBool(func(c *Config) *bool { return &c.Process.Trace })},
	{"logtime", nil, kindBool, setBool(func(c *Config) *bool { return &c.Process.LogTime })},
	{"logtime_utc", nil, kindBool, setBool(func(c *Config) *bool { return &c.Process.LogTimeUTC })},
	{"log_file", []string{"logfile"}, kindString, setString(func(c *Config) *string { return &c.Process.LogFile })},
	{"logfile_size_limit", []string{"log_size_limit"}, kindSize, setLogSizeLimit},
	{"logfile_max_num", []string{"log_max_num"}, kindInt, setCount(0, func(c *Config) *int { return &c.Process.LogMaxFiles })},
	{"pid_file", []string{"pidfile"}, kindString, setString(func(c *Config) *string { return &c.Process.PidFile })},
	// How often nats-server logs failed route, gateway and leaf node
	// connections; Starling makes none, so any valid count is honoured.
	{"connect_error_reports", nil, kindInt, setCount(0, func(*Config) *int { return new(int) })},
	{"reconnect_error_reports", nil, kindInt, setCount(0, func(*Config) *int { return new(int) })},
}

// settingFor finds a setting by any spelling, lower case.
var settingFor = func() map[string]*setting {
	m := map[string]*setting{}
	for i := range settings {
		s := &settings[i]
		for _, k := range append([]string{s.key}, s.aliases...) {
			if m[k] != nil {
				panic("config: setting " + k + " defined twice")
			}
			m[k] = s
		}
	}
	return m
}()

func setString(field func(*Config) *string) func(*Config, value) error {
	return func(c *Config, v value) error { *field(c) = v.str; return nil }
}

func setBool(field func(*Config) *bool) func(*Config, value) error {
	return func(c *Config, v value) error { *field(c) = v.b; return nil }
}

func setPort(field func(*Config) *int) func(*Config, value) error {
	return func(c *Config, v value) error {
		if v.num < -1 || v.num > 65535 {
			return fmt.Errorf("port %d out of range", v.num)
		}
		*field(c) = int(v.num)
		return nil
	}
}

// maxSize bounds byte counts well below what would overflow an int.
const maxSize = 1 << 40

// setSize sets a size; 0 means the default, as in nats-server.
func setSize(field func(*Config) *int) func(*Config, value) error {
	return func(c *Config, v value) error {
		if v.num < 0 || v.num > maxSize {
			return fmt.Errorf("%s: size %d out of range", v.name, v.num)
		}
		*field(c) = int(v.num)
		return nil
	}
}

// setCount sets a count that must be at least lowest (0 or 1).
func setCount(lowest int64, field func(*Config) *int) func(*Config, value) error {
	return func(c *Config, v value) error {
		switch {
		case v.num < lowest && lowest > 0:
			return fmt.Errorf("%s must be positive, got %d", v.name, v.num)
		case v.num < lowest:
			return fmt.Errorf("%s must not be negative, got %d", v.name, v.num)
		case v.num > maxSize:
			return fmt.Errorf("%s %d out of range", v.name, v.num)
		}
		*field(c) = int(v.num)
		return nil
	}
}

// setDuration sets a duration; 0 means the default, as in nats-server.
func setDuration(field func(*Config) *time.Duration) func(*Config, value) error {
	return func(c *Config, v value) error {
		if v.dur < 0 {
			return fmt.Errorf("%s must not be negative", v.name)
		}
		*field(c) = v.dur
		return nil
	}
}

func setServerName(c *Config, v value) error {
	if strings.Contains(v.str, " ") {
		return errors.New("server_name cannot contain spaces")
	}
	c.Opts.ServerName = v.str
	return nil
}

func setLameDuckDuration(c *Config, v value) error {
	switch {
	case v.dur <= 0:
		return fmt.Errorf("%s must be positive", v.name)
	case v.dur < 30*time.Second:
		return fmt.Errorf("invalid lame_duck_duration of %v, minimum is 30 seconds", v.dur)
	}
	c.Opts.LameDuckDuration = v.dur
	return nil
}

// setAuthTimeout: 0 means the default, as in nats-server.
func setAuthTimeout(c *Config, v value) error {
	if v.dur < 0 {
		return errors.New("authorization timeout must not be negative")
	}
	c.Opts.AuthTimeout = v.dur
	return nil
}

func setClusterName(c *Config, v value) error {
	if err := options.CheckClusterName(v.str); err != nil {
		return err
	}
	c.Opts.Cluster.Name = v.str
	return nil
}

// setClusterAdvertise checks the syntax now; nats-server does at start.
func setClusterAdvertise(c *Config, v value) error {
	probe := options.ClusterOptions{Advertise: v.str}
	if _, _, err := probe.AdvertiseHostPort(); v.str != "" && err != nil {
		return err
	}
	c.Opts.Cluster.Advertise = v.str
	return nil
}

// setRoutes replaces the routes, as nats-server's --routes replaces the
// file's.
func setRoutes(c *Config, v value) error {
	var routes []*url.URL
	for _, s := range v.list {
		u, err := options.ParseRouteURL(s)
		if err != nil {
			return err
		}
		routes = append(routes, u)
	}
	c.Opts.Cluster.Routes = routes
	return nil
}

// setPoolSize: 0 means the default (3), -1 no pooling.
func setPoolSize(c *Config, v value) error {
	if v.num < -1 || v.num > maxSize {
		return fmt.Errorf("%s %d: -1 turns pooling off, no other negative value is valid", v.name, v.num)
	}
	c.Opts.Cluster.PoolSize = int(v.num)
	return nil
}

func setPinnedAccounts(c *Config, v value) error {
	// The pool size may come later in the file: Validate checks the
	// two together again.
	if err := options.CheckPinnedAccounts(v.list, 0); err != nil {
		return err
	}
	c.Opts.Cluster.PinnedAccounts = v.list
	return nil
}

// setLogSizeLimit takes 0 (no rotation, the default) as well as sizes.
func setLogSizeLimit(c *Config, v value) error {
	if v.num < 0 {
		return fmt.Errorf("%s must not be negative, got %d", v.name, v.num)
	}
	c.Process.LogSizeLimit = v.num
	return nil
}

// apply reads a key's value from the file and sets it.
func (d *decoder) apply(s *setting, name string, v *conf.Value) {
	val, ok := d.read(s.kind, name, v)
	if !ok {
		return
	}
	if err := s.set(d.cfg, val); err != nil {
		d.errorf(v.Pos, "%v", err)
	}
}

// read converts a file value to the setting's kind, reporting a value of
// the wrong type with its position.
func (d *decoder) read(k kind, name string, v *conf.Value) (value, bool) {
	val := value{name: name}
	var err error
	switch k {
	case kindString:
		val.str, err = v.AsString()
	case kindBool:
		val.b, err = v.AsBool()
	case kindInt:
		val.num, err = v.AsInt()
	case kindSize:
		if v.Kind != conf.KindInt {
			d.errorf(v.Pos, "%s: expected a size such as 1MB, got %s", name, v.Kind)
			return val, false
		}
		val.num, err = v.AsInt()
	case kindDuration:
		val.dur, err = v.Duration()
		if err == nil && v.Kind == conf.KindInt {
			secs := int64(val.dur / time.Second)
			d.warnf(v.Pos, "%s of %d is read as seconds; write a duration such as \"%ds\"", name, secs, secs)
		}
	case kindDurationString:
		if v.Kind != conf.KindString {
			d.errorf(v.Pos, "%s: expected a duration string such as \"30s\", got %s", name, v.Kind)
			return val, false
		}
		val.dur, err = v.Duration()
	case kindList:
		if v.Kind == conf.KindString {
			val.list = []string{d.str(v)}
			break
		}
		var arr []*conf.Value
		if arr, err = v.AsArray(); err != nil {
			d.errorf(v.Pos, "%s: expected an array of strings, got %s", name, v.Kind)
			return val, false
		}
		val.list = make([]string, 0, len(arr))
		for _, ev := range arr {
			s, err := ev.AsString()
			if err != nil {
				d.fail(err)
				return val, false
			}
			val.list = append(val.list, s)
		}
	case kindSeconds:
		var secs float64
		secs, err = v.Seconds()
		if err == nil && secs > 60 {
			d.warnf(v.Pos, "%s of %v seconds is high; an unquoted 1m means a million", name, secs)
		}
		val.dur = time.Duration(secs * float64(time.Second))
	}
	if err != nil {
		d.fail(err)
		return val, false
	}
	return val, true
}

// errParse is what the flag package itself says of a malformed number,
// boolean or duration.
var errParse = errors.New("parse error")

// parseText reads a command-line flag's text as the setting's kind.
func (s *setting) parseText(text string) (value, error) {
	// Messages name a key in a block as the file decoder does
	// ("cluster connect_retries").
	v := value{name: strings.ReplaceAll(s.key, ".", " ")}
	var err error
	switch s.kind {
	case kindString:
		v.str = text
	case kindList:
		for _, item := range strings.Split(text, ",") {
			if item = strings.TrimSpace(item); item != "" {
				v.list = append(v.list, item)
			}
		}
	case kindBool:
		v.b, err = strconv.ParseBool(text)
	case kindInt:
		v.num, err = strconv.ParseInt(text, 0, 64)
	case kindSize:
		// conf.ParseSize says what is wrong with a size; keep its words.
		v.num, err = conf.ParseSize(text)
		return v, err
	default:
		v.dur, err = time.ParseDuration(text)
	}
	if err != nil {
		return v, errParse
	}
	return v, nil
}

// FlagValue is a command-line flag that sets a configuration key through
// the key's own setter. It implements flag.Value.
type FlagValue struct {
	Key string // the setting's key, as the file spells it
	s   *setting
	c   *Config
}

// Flag returns a flag.Value that sets key in c. Flags are code, not input:
// an unknown key panics, which the flag table's tests catch.
func (c *Config) Flag(key string) *FlagValue {
	s := settingFor[key]
	if s == nil || s.key != key {
		panic("config: no setting " + key)
	}
	return &FlagValue{Key: key, s: s, c: c}
}

// Set parses text and applies it.
func (f *FlagValue) Set(text string) error {
	v, err := f.s.parseText(text)
	if err != nil {
		return err
	}
	return f.s.set(f.c, v)
}

// String is required by flag.Value; the help text shows defaults itself.
func (f *FlagValue) String() string { return "" }

// IsBoolFlag lets a boolean flag stand alone (-js means -js=true).
func (f *FlagValue) IsBoolFlag() bool { return f != nil && f.s.kind == kindBool }

// SettingKey returns the key of the setting name spells (a key or an
// alias, lower case), and whether there is one.
func SettingKey(name string) (string, bool) {
	if s := settingFor[name]; s != nil {
		return s.key, true
	}
	return "", false
}
