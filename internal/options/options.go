// Package options is the server's settings: the Options struct, its
// defaults, its validation, and which settings a reload may change. It is
// pure data and rules: it reads no files and no environment, so the
// configuration file mapping (internal/config), the command line
// (internal/servercmd) and the engine (internal/core) can all share it
// without depending on one another. The public server package has its own
// Options, free of internal types, that it converts to this one.
package options

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/starling-mq/starling/internal/auth"
)

// Defaults, as nats-server sets them.
const (
	DefaultHost                = "0.0.0.0"
	DefaultPort                = 4222
	DefaultMaxPending          = 64 * 1024 * 1024
	DefaultMaxConnections      = 64 * 1024
	DefaultPingInterval        = 2 * time.Minute
	DefaultPingMax             = 2
	DefaultWriteDeadline       = 10 * time.Second
	DefaultAuthTimeout         = 2 * time.Second
	DefaultTLSTimeout          = 2 * time.Second
	DefaultLameDuckDuration    = 2 * time.Minute
	DefaultLameDuckGracePeriod = 10 * time.Second
	// RandomPort asks the OS for a free port; tests use it.
	RandomPort = -1
)

// LevelTrace is the slog level of protocol traces (-V).
const LevelTrace = slog.LevelDebug - 4

// Options configures a server. Zero values mean "use the default";
// SetDefaults fills them in. The public server.Options documents each
// field for embedders; the comments here say what the engine makes of it.
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

	// Simple authentication: a single user/password or a token. When both
	// are set the token is what counts, as in nats-server.
	Username      string
	Password      string
	Authorization string

	// TLS for client connections: nil means plaintext. TLSMap takes the
	// user from the client certificate (verify_and_map).
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	TLSMap     bool

	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration

	// JetStream. StoreDir has no default here: where it lives depends on
	// the environment, which the server package reads (internal/storedir).
	JetStream             bool
	StoreDir              string
	SyncInterval          time.Duration // 0 = sync before acknowledging
	JetStreamMaxMemory    int64
	JetStreamMaxStore     int64
	JetStreamDomain       string
	JetStreamMaxOpenFiles int // 0 = derived from the descriptor limit
	// JetStreamCompactEntries: entries of a replicated file stream's log
	// between compactions (0 = the default).
	JetStreamCompactEntries int

	// Monitoring. HTTPPort and HTTPSPort 0 turn a listener off.
	HTTPHost  string
	HTTPPort  int
	HTTPSPort int

	// Full authorization; not combinable with the simple forms above.
	Users              []*auth.User
	Nkeys              []*auth.NkeyUser
	NoAuthUser         string
	DefaultPermissions *auth.Permissions

	NoHeaderSupport bool

	// Routes to other servers (nats-server's cluster block).
	Cluster ClusterOptions

	// Accounts (nats-server's accounts block); their users are in Users
	// and Nkeys, naming their account. SystemAccount defaults to
	// DefaultSystemAccount when there are accounts. Mappings rewrite
	// subjects published in the global account.
	Accounts      []AccountOptions
	SystemAccount string
	Mappings      []Mapping

	Logger *slog.Logger // nil logs nothing
	Trace  bool         // log every protocol operation at LevelTrace
}

// TLSVerify reports whether clients must present a verified certificate.
func (o *Options) TLSVerify() bool {
	return o.TLSConfig != nil && o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert
}

// AuthConfig gathers the authorization settings for the auth package.
func (o *Options) AuthConfig() auth.Config {
	return auth.Config{
		Token:              o.Authorization,
		Username:           o.Username,
		Password:           o.Password,
		Users:              o.Users,
		Nkeys:              o.Nkeys,
		NoAuthUser:         o.NoAuthUser,
		DefaultPermissions: o.DefaultPermissions,
		AccountPermissions: o.accountPermissions(),
		TLSMap:             o.TLSMap,
	}
}
