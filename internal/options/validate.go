package options

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// SetDefaults fills zero fields with defaults. StoreDir is left alone (see
// Options).
func (o *Options) SetDefaults() {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = proto.DefaultMaxPayload
	}
	if o.MaxControlLine == 0 {
		o.MaxControlLine = proto.DefaultMaxControlLine
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.WriteDeadline == 0 {
		o.WriteDeadline = DefaultWriteDeadline
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.PingMax == 0 {
		o.PingMax = DefaultPingMax
	}
	if o.LameDuckDuration == 0 {
		o.LameDuckDuration = DefaultLameDuckDuration
	}
	if o.LameDuckGracePeriod == 0 {
		o.LameDuckGracePeriod = DefaultLameDuckGracePeriod
	}
	if o.TLSTimeout == 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultAuthTimeout
		if o.TLSConfig != nil {
			// nats-server leaves room for the handshake.
			o.AuthTimeout = o.TLSTimeout + time.Second
		}
	}
	if o.HTTPHost == "" {
		o.HTTPHost = o.Host
	}
	o.Cluster.setDefaults(o)
	o.setAccountDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every invalid setting, joined.
func (o *Options) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.Port >= RandomPort && o.Port <= 65535, "port %d out of range", o.Port)
	check(o.HTTPPort >= RandomPort && o.HTTPPort <= 65535, "http port %d out of range", o.HTTPPort)
	check(o.HTTPSPort >= RandomPort && o.HTTPSPort <= 65535, "https port %d out of range", o.HTTPSPort)
	check(o.HTTPSPort == 0 || o.TLSConfig != nil, "https monitoring needs a tls configuration")
	check(!strings.Contains(o.ServerName, " "), "server_name cannot contain spaces")
	check(o.MaxPayload > 0 && o.MaxPayload <= 64*1024*1024, "max_payload %d must be between 1 and 64MB", o.MaxPayload)
	check(o.MaxPending >= o.MaxPayload, "max_pending %d must be at least max_payload %d", o.MaxPending, o.MaxPayload)
	check(o.MaxControlLine > 0, "max_control_line must be positive")
	check(o.MaxConnections > 0, "max_connections must be positive")
	check(o.MaxSubscriptions >= 0, "max_subscriptions must not be negative")
	check(o.WriteDeadline > 0, "write_deadline must be positive")
	check(o.PingInterval > 0, "ping_interval must be positive")
	check(o.PingMax > 0, "ping_max must be positive")
	check(o.AuthTimeout > 0, "auth_timeout must be positive")
	check(o.TLSTimeout > 0, "tls timeout must be positive")
	check(o.SyncInterval >= 0, "sync_interval must not be negative")
	check(o.JetStreamMaxMemory >= 0 && o.JetStreamMaxStore >= 0, "jetstream limits must not be negative")
	check(o.JetStreamMaxOpenFiles == 0 || o.JetStreamMaxOpenFiles >= 16,
		"jetstream max_open_files %d must be at least 16", o.JetStreamMaxOpenFiles)
	check(o.JetStreamCompactEntries >= 0, "jetstream compact_entries must not be negative")
	check(o.LameDuckGracePeriod >= 0 && o.LameDuckGracePeriod < o.LameDuckDuration,
		"lame_duck_grace_period must be shorter than lame_duck_duration")
	check(!o.TLSMap || o.TLSVerify(), "tls verify_and_map needs client certificates to be verified")
	check(o.Password == "" || o.Username != "", "a password needs a user")
	errs = append(errs, o.Cluster.validate()...)
	errs = append(errs, o.validateAccounts()...)
	errs = append(errs, o.validateAccountsJetStream())
	return errors.Join(errs...)
}
