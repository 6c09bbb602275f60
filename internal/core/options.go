package core

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/storedir"
)

// Defaults, as nats-server sets them.
const (
	DefaultHost           = "0.0.0.0"
	DefaultPort           = 4222
	DefaultMaxPending     = 64 * 1024 * 1024
	DefaultMaxConnections = 64 * 1024
	DefaultPingInterval   = 2 * time.Minute
	DefaultPingMax        = 2
	DefaultWriteDeadline  = 10 * time.Second
	DefaultAuthTimeout    = 2 * time.Second
	// RandomPort asks the OS for a free port; tests use it.
	RandomPort = -1
)

// Options configures a Server. Zero values mean "use the default"; call
// SetDefaults (New does) to fill them in.
type Options struct {
	ServerName string
	Host       string
	Port       int // 0 = DefaultPort, RandomPort = any free port

	MaxPayload       int           // bytes per message (headers and payload)
	MaxControlLine   int           // bytes of arguments on one protocol line
	MaxPending       int           // outbound bytes held for one client before it is a slow consumer
	MaxConnections   int           // client connections at once
	MaxSubscriptions int           // per connection; 0 = no limit
	WriteDeadline    time.Duration // one socket write may take this long before the client is dropped
	PingInterval     time.Duration
	PingMax          int // unanswered PINGs before a connection is stale
	AuthTimeout      time.Duration

	// Simple authentication: a single user/password or a token. Setting
	// either makes the server require it from every client; when both are
	// set the token is what counts, as in nats-server.
	Username      string
	Password      string
	Authorization string

	// TLS for client connections: nil means plaintext. Clients get INFO in
	// the clear and then start the handshake, which must finish within
	// TLSTimeout. Verify-and-map takes the user from the client
	// certificate (TLSConfig must then require client certificates).
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	TLSMap     bool

	// Lame-duck mode: after LameDuckGracePeriod, clients are closed one by
	// one over the rest of LameDuckDuration.
	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration

	// JetStream: durable streams. StoreDir defaults to the user's state
	// directory (see DefaultStoreDir). SyncInterval 0 means
	// "always": a publish is acknowledged only once it is on stable storage
	// (group commit). A positive interval syncs on a timer instead and can
	// lose acknowledged messages on power loss. Max sizes of 0 mean no limit
	// beyond the machine's.
	JetStream          bool
	StoreDir           string
	SyncInterval       time.Duration
	JetStreamMaxMemory int64
	JetStreamMaxStore  int64
	JetStreamDomain    string
	// JetStreamMaxOpenFiles bounds the store files kept open while idle,
	// shared by all file streams; 0 derives it from the descriptor limit
	// (see jetstream.DefaultMaxOpenFiles).
	JetStreamMaxOpenFiles int

	// Monitoring: HTTP endpoints (/varz, /connz, ...) on HTTPHost:HTTPPort.
	// HTTPPort 0 disables them; RandomPort picks a free port.
	HTTPHost string
	HTTPPort int
	// HTTPSPort serves the same endpoints over TLS, with TLSConfig.
	HTTPSPort int

	// Full authorization: users with plain or bcrypt passwords, NKey users,
	// the user a client without credentials becomes, and the permissions
	// of users that have none of their own. Not combinable with the simple
	// forms above.
	Users              []*auth.User
	Nkeys              []*auth.NkeyUser
	NoAuthUser         string
	DefaultPermissions *auth.Permissions

	// NoHeaderSupport turns off header support in INFO, as nats-server's
	// no_header_support does.
	NoHeaderSupport bool

	Logger *slog.Logger // nil logs nothing
	Trace  bool         // log every protocol operation at LevelTrace
}

// LevelTrace is the slog level of protocol traces (-V).
const LevelTrace = slog.LevelDebug - 4

// SetDefaults fills zero fields with defaults.
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
	if o.JetStream && o.StoreDir == "" {
		o.StoreDir = DefaultStoreDir()
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
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first invalid setting.
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
	check(o.LameDuckGracePeriod >= 0 && o.LameDuckGracePeriod < o.LameDuckDuration,
		"lame_duck_grace_period must be shorter than lame_duck_duration")
	check(!o.TLSMap || (o.TLSConfig != nil && o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert),
		"tls verify_and_map needs client certificates to be verified")
	check(o.Password == "" || o.Username != "", "a password needs a user")
	return errors.Join(errs...)
}

func (o *Options) tlsVerify() bool {
	return o.TLSConfig != nil && o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert
}

// DefaultStoreDir is where JetStream keeps data when no store_dir is set:
// a state directory that survives reboots (see storedir.Default), "" when
// the environment names none.
func DefaultStoreDir() string { return storedir.Default() }
