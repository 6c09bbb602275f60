package server

import (
	"crypto/tls"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
)

// RandomPort asks the OS for a free port (for Port, HTTPPort or HTTPSPort).
const RandomPort = options.RandomPort

// LevelTrace is the slog level of protocol traces (Options.Trace), below
// slog.LevelDebug.
const LevelTrace = options.LevelTrace

// Options configures a server. Zero values mean "use the default": the zero
// value listens on 0.0.0.0:4222 with nats-server's defaults. Field names
// follow nats-server's Options where the two have the same setting. New and
// Reload copy what they keep, so the caller may reuse the struct.
type Options struct {
	ServerName string // the server's name in INFO and monitoring; its ID when empty
	Host       string // client listen address; default 0.0.0.0
	Port       int    // client port; 0 = 4222, RandomPort = any free port

	MaxPayload       int           // bytes per message (headers and payload); default 1 MB
	MaxControlLine   int           // bytes of arguments on one protocol line; default 4 KB
	MaxPending       int           // outbound bytes held for one client before it is a slow consumer; default 64 MB
	MaxConnections   int           // client connections at once; default 65536
	MaxSubscriptions int           // per connection; 0 = no limit
	WriteDeadline    time.Duration // one socket write may take this long before the client is dropped; default 10s
	PingInterval     time.Duration // between server PINGs; default 2m
	PingMax          int           // unanswered PINGs before a connection is stale; default 2
	AuthTimeout      time.Duration // time to send CONNECT; default 2s (TLSTimeout + 1s with TLS)

	// Simple authentication: a single user/password or a token. Setting
	// either makes the server require it from every client; when both are
	// set the token is what counts, as in nats-server. Password and token
	// may be bcrypt hashes.
	Username      string
	Password      string
	Authorization string

	// TLS for client connections: nil means plaintext. Clients get INFO in
	// the clear and then start the handshake, which must finish within
	// TLSTimeout (default 2s). TLSMap (verify_and_map) takes the user from
	// the client certificate; TLSConfig must then require and verify
	// client certificates.
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	TLSMap     bool

	// Lame-duck mode: after LameDuckGracePeriod (default 10s), clients
	// are closed one by one over the rest of LameDuckDuration (default 2m).
	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration

	// JetStream: durable streams. StoreDir defaults to the user's state
	// directory ($STATE_DIRECTORY, $XDG_STATE_HOME/starling or
	// ~/.local/state/starling). SyncInterval 0 means "always": a publish
	// is acknowledged only once it is on stable storage (group commit). A
	// positive interval syncs on a timer instead and can lose acknowledged
	// messages on power loss. Max sizes of 0 mean no limit beyond the
	// machine's. JetStreamMaxOpenFiles bounds the store files kept open
	// while idle, shared by all file streams; 0 derives it from the
	// descriptor limit. JetStreamCompactEntries is how many entries of a
	// replicated file stream's Raft log pass between compactions (after
	// a sync of the stream's store); 0 takes the default (65536).
	JetStream               bool
	StoreDir                string
	SyncInterval            time.Duration
	JetStreamMaxMemory      int64
	JetStreamMaxStore       int64
	JetStreamDomain         string
	JetStreamMaxOpenFiles   int
	JetStreamCompactEntries int

	// Monitoring: HTTP endpoints (/varz, /connz, ...) on HTTPHost:HTTPPort
	// (HTTPHost defaults to Host). HTTPPort 0 turns them off; RandomPort
	// picks a free port. HTTPSPort serves the same endpoints over TLS,
	// with TLSConfig.
	HTTPHost  string
	HTTPPort  int
	HTTPSPort int

	// Full authorization: users with plain or bcrypt passwords, NKey users,
	// the user a client without credentials becomes, and the permissions
	// of users that have none of their own. Not combinable with the simple
	// forms above.
	Users              []*User
	Nkeys              []*NkeyUser
	NoAuthUser         string
	DefaultPermissions *Permissions

	// NoHeaderSupport turns off header support in INFO, as nats-server's
	// no_header_support does.
	NoHeaderSupport bool

	// Cluster: routes to other servers, nats-server's cluster block.
	// Clustering is on when Cluster.Port is set.
	Cluster ClusterOptions

	// Accounts, nats-server's accounts block: their users are in Users
	// and Nkeys, naming their account. SystemAccount defaults to
	// DefaultSystemAccount when there are accounts. Mappings rewrite
	// subjects published in the global account. (JetStream in accounts,
	// JetStream with accounts, and mappings are parsed and checked but not
	// run yet: New refuses them.)
	Accounts      []AccountOptions
	SystemAccount string
	Mappings      []Mapping

	Logger *slog.Logger // nil logs nothing
	Trace  bool         // log every protocol operation at LevelTrace
}

// User is a user known by name. Password is plain text or a bcrypt hash.
type User struct {
	Username    string
	Password    string
	Permissions *Permissions // nil: the defaults of the user's account
	Account     string       // the AccountOptions.Name the user belongs to; "" is the global account
}

// LogValue keeps the password out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", u.Username), slog.Bool("password", u.Password != ""))
}

// NkeyUser is a user known by its public NKey ("U..."), who proves it by
// signing the server's nonce.
type NkeyUser struct {
	Nkey        string
	Permissions *Permissions // nil: the defaults of the user's account
	Account     string       // the AccountOptions.Name the user belongs to; "" is the global account
}

// Permissions are what one user may publish and subscribe to. A nil
// Publish or Subscribe places no restriction.
type Permissions struct {
	Publish   *SubjectPermission  `json:"publish"`
	Subscribe *SubjectPermission  `json:"subscribe"`
	Response  *ResponsePermission `json:"responses,omitempty"`
}

// SubjectPermission lists subjects allowed and denied; deny wins over
// allow. Wildcards are allowed. A nil Allow places no restriction; for
// publishing a non-nil empty Allow allows nothing. Subscribe entries may
// name a queue group after the subject ("orders.* workers") and then apply
// only to queue subscriptions in a matching group.
type SubjectPermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// ResponsePermission (allow_responses) lets a connection that receives a
// request publish to its reply subject MaxMsgs times within Expires, even
// where its publish permissions would refuse it. Zero values mean the
// defaults (1 message, 2 minutes); negative values mean no limit.
type ResponsePermission struct {
	MaxMsgs int           `json:"max"`
	Expires time.Duration `json:"ttl"`
}

// Route compression modes (ClusterOptions.Compression.Mode). The s2 modes
// are nats-server's; Starling refuses them until it compresses routes.
const (
	CompressionOff          = options.CompressionOff
	CompressionAccept       = options.CompressionAccept
	CompressionNotSupported = options.CompressionNotSupported
	CompressionS2Auto       = options.CompressionS2Auto
	CompressionS2Fast       = options.CompressionS2Fast
	CompressionS2Better     = options.CompressionS2Better
	CompressionS2Best       = options.CompressionS2Best
)

// ClusterOptions are the routes between servers, with nats-server's
// ClusterOpts field names where the two share a setting. Zero values mean
// the defaults, which apply when Port is set.
type ClusterOptions struct {
	Name        string // the cluster's name; "" lets the servers agree on a generated one
	Host        string // route listen address; default 0.0.0.0
	Port        int    // route port; 0 = clustering off, RandomPort = any free port
	Advertise   string // host[:port] other servers are told to dial instead of Host:Port
	NoAdvertise bool   // keep the cluster's client URLs out of the INFO sent to clients

	// Routes are dialled at start and redialled for as long as they stay
	// configured (nats-route://host:port or nats://host:port). A user and
	// password in a URL are what this server presents to that peer.
	Routes         []*url.URL
	ConnectRetries int  // retries of a route learned from a peer (gossip) after a failed attempt; default 0
	ConnectBackoff bool // double the pause between attempts (1s up to 30s) instead of keeping it

	// Username and Password are what a peer must present (the cluster's
	// authorization block); AuthTimeout defaults to 2s (TLSTimeout + 1s
	// with TLS). Permissions limit the interest exchanged with peers.
	Username    string
	Password    string
	AuthTimeout time.Duration
	Permissions *RoutePermissions

	// TLS for routes, accepted and dialled; nil means plaintext. Peers
	// must present a certificate the configuration verifies. TLSMap
	// takes the route user from the peer's certificate.
	TLSConfig  *tls.Config
	TLSTimeout time.Duration // default 2s
	TLSMap     bool

	// Route connections' PINGs and write deadline; 0 takes the client
	// settings (PingInterval, PingMax, WriteDeadline). The ping interval
	// is capped at 30s.
	PingInterval  time.Duration
	PingMax       int
	WriteDeadline time.Duration

	// PoolSize is how many routes to each peer carry the accounts not
	// pinned (default 3; -1 = one route per peer, no pooling).
	// PinnedAccounts each get routes of their own; Starling has only the
	// global account, "$G".
	PoolSize       int
	PinnedAccounts []string
	// Compression of routes; default CompressionAccept.
	Compression Compression
}

// RoutePermissions limit the interest a route carries: Import what this
// server accepts from peers, Export what peers may subscribe to here
// (nats-server's cluster permissions import and export).
type RoutePermissions struct {
	Import *SubjectPermission `json:"import"`
	Export *SubjectPermission `json:"export"`
}

// Compression is a route compression mode and, for CompressionS2Auto, the
// round-trip times at which the level steps up.
type Compression struct {
	Mode          string
	RTTThresholds []time.Duration
}

// internal converts o to the engine's options, copying every slice and
// pointer it owns so the caller's later changes cannot reach a running
// server.
func (o *Options) internal() options.Options {
	return options.Options{
		ServerName:              o.ServerName,
		Host:                    o.Host,
		Port:                    o.Port,
		MaxPayload:              o.MaxPayload,
		MaxControlLine:          o.MaxControlLine,
		MaxPending:              o.MaxPending,
		MaxConnections:          o.MaxConnections,
		MaxSubscriptions:        o.MaxSubscriptions,
		WriteDeadline:           o.WriteDeadline,
		PingInterval:            o.PingInterval,
		PingMax:                 o.PingMax,
		AuthTimeout:             o.AuthTimeout,
		Username:                o.Username,
		Password:                o.Password,
		Authorization:           o.Authorization,
		TLSConfig:               o.TLSConfig,
		TLSTimeout:              o.TLSTimeout,
		TLSMap:                  o.TLSMap,
		LameDuckDuration:        o.LameDuckDuration,
		LameDuckGracePeriod:     o.LameDuckGracePeriod,
		JetStream:               o.JetStream,
		StoreDir:                o.StoreDir,
		SyncInterval:            o.SyncInterval,
		JetStreamMaxMemory:      o.JetStreamMaxMemory,
		JetStreamMaxStore:       o.JetStreamMaxStore,
		JetStreamDomain:         o.JetStreamDomain,
		JetStreamMaxOpenFiles:   o.JetStreamMaxOpenFiles,
		JetStreamCompactEntries: o.JetStreamCompactEntries,
		HTTPHost:                o.HTTPHost,
		HTTPPort:                o.HTTPPort,
		HTTPSPort:               o.HTTPSPort,
		Users:                   convertAll(o.Users, (*User).internal),
		Nkeys:                   convertAll(o.Nkeys, (*NkeyUser).internal),
		NoAuthUser:              o.NoAuthUser,
		DefaultPermissions:      o.DefaultPermissions.internal(),
		NoHeaderSupport:         o.NoHeaderSupport,
		Cluster:                 o.Cluster.internal(),
		Accounts:                accountsInternal(o.Accounts),
		SystemAccount:           o.SystemAccount,
		Mappings:                mappingsInternal(o.Mappings),
		Logger:                  o.Logger,
		Trace:                   o.Trace,
	}
}

// convertAll converts a list, keeping nil as nil and dropping nil entries
// (a nil user is no user).
func convertAll[T, U any](in []*T, conv func(*T) *U) []*U {
	if in == nil {
		return nil
	}
	out := make([]*U, 0, len(in))
	for _, x := range in {
		if x != nil {
			out = append(out, conv(x))
		}
	}
	return out
}

func (u *User) internal() *auth.User {
	return &auth.User{Username: u.Username, Password: u.Password, Permissions: u.Permissions.internal(), Account: u.Account}
}

func (n *NkeyUser) internal() *auth.NkeyUser {
	return &auth.NkeyUser{Nkey: n.Nkey, Permissions: n.Permissions.internal(), Account: n.Account}
}

func (p *Permissions) internal() *auth.Permissions {
	if p == nil {
		return nil
	}
	out := &auth.Permissions{Publish: p.Publish.internal(), Subscribe: p.Subscribe.internal()}
	if r := p.Response; r != nil {
		out.Response = &auth.ResponsePermission{MaxMsgs: r.MaxMsgs, Expires: r.Expires}
	}
	return out
}

// internal keeps a nil Allow nil and an empty one empty: for publishing
// they mean opposite things.
func (sp *SubjectPermission) internal() *auth.SubjectPermission {
	if sp == nil {
		return nil
	}
	return &auth.SubjectPermission{Allow: slices.Clone(sp.Allow), Deny: slices.Clone(sp.Deny)}
}

func (c *ClusterOptions) internal() options.ClusterOptions {
	out := options.ClusterOptions{
		Name:           c.Name,
		Host:           c.Host,
		Port:           c.Port,
		Advertise:      c.Advertise,
		NoAdvertise:    c.NoAdvertise,
		Routes:         convertAll(c.Routes, cloneURL),
		ConnectRetries: c.ConnectRetries,
		ConnectBackoff: c.ConnectBackoff,
		Username:       c.Username,
		Password:       c.Password,
		AuthTimeout:    c.AuthTimeout,
		TLSConfig:      c.TLSConfig,
		TLSTimeout:     c.TLSTimeout,
		TLSMap:         c.TLSMap,
		PingInterval:   c.PingInterval,
		PingMax:        c.PingMax,
		WriteDeadline:  c.WriteDeadline,
		PoolSize:       c.PoolSize,
		PinnedAccounts: slices.Clone(c.PinnedAccounts),
		Compression: options.Compression{
			Mode:          c.Compression.Mode,
			RTTThresholds: slices.Clone(c.Compression.RTTThresholds),
		},
	}
	if p := c.Permissions; p != nil {
		out.Permissions = &options.RoutePermissions{Import: p.Import.internal(), Export: p.Export.internal()}
	}
	return out
}

// cloneURL copies a route URL (its user information is immutable).
func cloneURL(u *url.URL) *url.URL {
	c := *u
	return &c
}
