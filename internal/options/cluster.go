package options

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/subject"
)

// Route defaults, as nats-server 2.11 sets them (const.go, route.go).
const (
	// DefaultRoutePoolSize is Starling's: no pooling, one route per pair
	// of servers, which is how nats-server before 2.10 connects and how
	// later ones connect to such a peer (they see no route_pool_size).
	DefaultRoutePoolSize = -1
	// MaxRoutePingInterval caps the interval between PINGs on a route,
	// whatever ping_interval says: a dead peer must be noticed quickly.
	MaxRoutePingInterval = 30 * time.Second
	// RouteConnectDelay is the pause between attempts to dial a route;
	// with ConnectBackoff it doubles after each failure, up to
	// MaxRouteConnectDelay.
	RouteConnectDelay    = time.Second
	MaxRouteConnectDelay = 30 * time.Second
)

// Route compression modes, as nats-server names them in configuration and
// in the route INFO.
const (
	CompressionNotSupported = "not supported"
	CompressionOff          = "off"
	CompressionAccept       = "accept"
	CompressionS2Auto       = "s2_auto"
	CompressionS2Fast       = "s2_fast"
	CompressionS2Better     = "s2_better"
	CompressionS2Best       = "s2_best"
)

// ClusterOptions are the routes between servers: nats-server's cluster
// block and its command-line flags. Clustering is on when Port is set
// (Enabled). SetDefaults fills the defaults only then, as nats-server does.
type ClusterOptions struct {
	// Name is the cluster's name; "" lets the servers agree on a generated
	// one (a "dynamic" name, which yields to a configured one).
	Name string
	// Host and Port are the route listener: Port 0 turns clustering off,
	// RandomPort picks a free port. Host defaults to DefaultHost.
	Host string
	Port int
	// Advertise is the host[:port] other servers are told to dial instead
	// of Host:Port (behind NAT, in containers); the port defaults to Port.
	Advertise string
	// NoAdvertise keeps the cluster's client URLs out of the INFO sent to
	// clients (connect_urls), so they do not learn other servers.
	NoAdvertise bool

	// Routes are the explicit routes: dialled at start and redialled for
	// as long as they stay configured. User and password in a URL are what
	// this server presents in its CONNECT to that peer.
	Routes []*url.URL
	// ConnectRetries is how many times an implicit route (one learned by
	// gossip) is retried after its first attempt fails; 0: not retried.
	ConnectRetries int
	// ConnectBackoff doubles the pause between attempts (from
	// RouteConnectDelay up to MaxRouteConnectDelay) instead of keeping it.
	ConnectBackoff bool

	// Username and Password are what a peer must present in its CONNECT
	// (the cluster's authorization block); none: any peer may connect.
	// AuthTimeout defaults like the client one (TLSTimeout + 1s with TLS).
	Username    string
	Password    string
	AuthTimeout time.Duration
	// Permissions limit the interest exchanged with peers; nil: none.
	Permissions *RoutePermissions

	// TLS for routes, accepted and dialled: nil means plaintext. Peers
	// always present verified certificates (ClientAuth is
	// RequireAndVerifyClientCert and RootCAs the ca_file, as nats-server
	// forces for routes). TLSMap takes the route user from the peer's
	// certificate (verify_and_map).
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	TLSMap     bool

	// PingInterval, PingMax and WriteDeadline for route connections; 0
	// takes the client value (Options.PingInterval and so on). The ping
	// interval is capped at MaxRoutePingInterval.
	PingInterval  time.Duration
	PingMax       int
	WriteDeadline time.Duration

	// PoolSize is how many routes to each peer carry the accounts not
	// pinned, in nats-server 2.10 and later. Starling does not pool: -1
	// (the default) is the only value it runs with; any other is refused.
	PoolSize int
	// PinnedAccounts each get a route of their own to every peer (needs
	// pooling: refused).
	PinnedAccounts []string
	// Compression of route traffic; Mode defaults to CompressionAccept.
	Compression Compression
}

// RoutePermissions limit the interest a route carries: Import is what this
// server may receive from peers (the subjects it subscribes to on their
// behalf: nats-server's import), Export what peers may subscribe to here.
// nats-server reads them from the cluster block's permissions, import and
// export standing for publish and subscribe.
type RoutePermissions struct {
	Import *auth.SubjectPermission `json:"import"`
	Export *auth.SubjectPermission `json:"export"`
}

// Compression is a route compression mode and, for CompressionS2Auto, the
// round-trip times at which the level steps up.
type Compression struct {
	Mode          string
	RTTThresholds []time.Duration
}

// Enabled reports whether the server listens for routes.
func (c *ClusterOptions) Enabled() bool { return c.Port != 0 }

// setDefaults fills a cluster's zero fields from the defaults and from the
// client settings, which the caller has defaulted already.
func (c *ClusterOptions) setDefaults(o *Options) {
	if !c.Enabled() {
		return
	}
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.TLSTimeout == 0 {
		c.TLSTimeout = DefaultTLSTimeout
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = DefaultAuthTimeout
		if c.TLSConfig != nil {
			c.AuthTimeout = c.TLSTimeout + time.Second
		}
	}
	if c.PingInterval == 0 {
		c.PingInterval = o.PingInterval
	}
	c.PingInterval = min(c.PingInterval, MaxRoutePingInterval)
	if c.PingMax == 0 {
		c.PingMax = o.PingMax
	}
	if c.WriteDeadline == 0 {
		c.WriteDeadline = o.WriteDeadline
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultRoutePoolSize
	}
	// nats-server also pins its system account here; Starling has none,
	// which is nats-server's behaviour with no_system_account.
	if c.Compression.Mode == "" {
		c.Compression.Mode = CompressionAccept
	} else if mode, err := ParseCompressionMode(c.Compression.Mode); err == nil {
		c.Compression.Mode = mode
	}
}

// validate returns every problem with the cluster options.
func (c *ClusterOptions) validate() []error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Port >= RandomPort && c.Port <= 65535, "cluster port %d out of range", c.Port)
	if err := CheckClusterName(c.Name); err != nil {
		errs = append(errs, err)
	}
	for _, u := range c.Routes {
		if err := CheckRouteURL(u); err != nil {
			errs = append(errs, err)
		}
	}
	check(len(c.Routes) == 0 || c.Enabled(),
		"solicited routes require cluster capabilities, e.g. --cluster: give the cluster a port (cluster { listen } or --cluster)")
	if c.Advertise != "" {
		if _, _, err := c.AdvertiseHostPort(); err != nil {
			errs = append(errs, err)
		}
	}
	check(c.ConnectRetries >= 0, "cluster connect_retries must not be negative")
	check(c.Password == "" || c.Username != "", "cluster authorization: a password needs a user")
	check(c.AuthTimeout >= 0, "cluster authorization timeout must not be negative")
	check(c.TLSTimeout >= 0, "cluster tls timeout must not be negative")
	check(!c.TLSMap || c.TLSConfig != nil, "cluster tls verify_and_map needs a tls configuration")
	check(c.PingInterval >= 0, "cluster ping_interval must not be negative")
	check(c.PingMax >= 0, "cluster ping_max must not be negative")
	check(c.WriteDeadline >= 0, "cluster write_deadline must not be negative")
	check(c.PoolSize >= -1, "cluster pool_size %d: -1 turns pooling off, no other negative value is valid", c.PoolSize)
	if err := c.Permissions.Validate(); err != nil {
		errs = append(errs, err)
	}
	// Pinned accounts need pooling, which Starling does not do: checked
	// as nats-server would with pooling on, then refused.
	if err := CheckPinnedAccounts(c.PinnedAccounts, max(c.PoolSize, 1)); err != nil {
		errs = append(errs, err)
	} else if len(c.PinnedAccounts) > 0 {
		errs = append(errs, fmt.Errorf("cluster accounts (pinned accounts): %w (they need route pooling; remove them)", ErrCompressionNotImplemented))
	}
	if c.PoolSize > 0 {
		errs = append(errs, fmt.Errorf("cluster pool_size %d: %w (Starling keeps one route per pair of servers, which nats-server 2.10 and later accept; remove pool_size or set it to -1)", c.PoolSize, ErrCompressionNotImplemented))
	}
	check(!c.TLSMap, "cluster tls verify_and_map: not implemented by Starling (routes authenticate with the authorization block)")
	if err := CheckCompression(c.Compression.Mode); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// CheckClusterName applies nats-server's rules to a cluster name.
func CheckClusterName(name string) error {
	switch {
	case strings.Contains(name, " "):
		return errors.New("cluster name cannot contain spaces")
	case name == "_":
		// The origin of interest from leaf nodes that have no cluster.
		return errors.New("cluster name is reserved")
	}
	return nil
}

// ParseRouteURL reads one route URL as nats-server does. Any scheme is
// accepted (nats-route:// and nats:// are usual); see CheckRouteURL.
func ParseRouteURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing route url [%q]", s)
	}
	return u, CheckRouteURL(u)
}

// CheckRouteURL refuses a route URL that names no host and port to dial.
// nats-server accepts one and fails to dial it, forever; a configuration
// error is the kinder answer.
func CheckRouteURL(u *url.URL) error {
	if u == nil {
		return errors.New("route url is missing")
	}
	host, port, err := splitHostPort(u.Host)
	if err == nil && host == "" {
		err = errors.New("missing host")
	}
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 {
			err = fmt.Errorf("invalid port %q", port)
		}
	}
	if err != nil {
		return fmt.Errorf("route url %s: %w (want scheme://host:port, e.g. nats-route://10.0.0.2:6222)", u.Redacted(), err)
	}
	return nil
}

// AdvertiseHostPort returns the host and port Advertise names, the port
// defaulting to the cluster port as in nats-server.
func (c *ClusterOptions) AdvertiseHostPort() (string, int, error) {
	host, port, err := splitHostPort(c.Advertise)
	if err != nil && strings.Contains(err.Error(), "missing port") {
		host, port, err = splitHostPort(c.Advertise + ":" + strconv.Itoa(c.Port))
	}
	n := 0
	if err == nil {
		n, err = strconv.Atoi(strings.TrimSpace(port))
	}
	if err != nil {
		return "", 0, fmt.Errorf("invalid Cluster.Advertise value of %s, err=%v", c.Advertise, err)
	}
	if n == 0 || n == RandomPort {
		n = c.Port
	}
	return strings.TrimSpace(host), n, nil
}

// splitHostPort splits "host:port" and "[v6]:port" as net.SplitHostPort
// does (this package does no I/O and imports no net).
func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("address %s: missing port in address", s)
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", fmt.Errorf("address %s: missing ']' in address", s)
		}
		return host[1 : len(host)-1], port, nil
	}
	if strings.ContainsAny(host, ":[]") {
		return "", "", fmt.Errorf("address %s: too many colons in address", s)
	}
	return host, port, nil
}

// Validate checks that every subject is a valid subject (queue groups
// have no meaning here), with nats-server's messages.
func (p *RoutePermissions) Validate() error {
	if p == nil {
		return nil
	}
	lists := []struct {
		what string
		sp   *auth.SubjectPermission
	}{{"import", p.Import}, {"export", p.Export}}
	for _, l := range lists {
		if l.sp == nil {
			continue
		}
		for _, deny := range []bool{false, true} {
			list, kind := l.sp.Allow, "allow"
			if deny {
				list, kind = l.sp.Deny, "deny"
			}
			for _, s := range list {
				if !subject.Valid(s) {
					return fmt.Errorf("cluster %s %s: subject %q is not a valid subject", l.what, kind, s)
				}
			}
		}
	}
	return nil
}

// GlobalAccount is the account every Starling client is in, and so the
// only one a route can be pinned to.
const GlobalAccount = "$G"

// CheckPinnedAccounts applies nats-server's rules to the accounts pinned to
// routes of their own, and Starling's: it has only the global account.
func CheckPinnedAccounts(accounts []string, poolSize int) error {
	if len(accounts) == 0 {
		return nil
	}
	if poolSize < 0 {
		return errors.New("pool_size cannot be negative if pinned accounts are specified")
	}
	seen := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		if seen[a] {
			return fmt.Errorf("found duplicate account name %q in pinned accounts list %q", a, accounts)
		}
		seen[a] = true
		if a != GlobalAccount {
			return fmt.Errorf("cluster accounts: %q is not an account of this server (Starling has only the global account, %s)", a, GlobalAccount)
		}
	}
	return nil
}

// ParseCompressionMode reads a compression mode in any of nats-server's
// spellings ("on", "fast", "s2_fast", "disabled", ...) and returns its
// canonical name. "on" means s2_fast for routes, as in nats-server.
func ParseCompressionMode(s string) (string, error) {
	switch strings.ToLower(s) {
	case "not supported", "not_supported":
		return CompressionNotSupported, nil
	case "disabled", "off", "false":
		return CompressionOff, nil
	case "accept":
		return CompressionAccept, nil
	case "auto", "s2_auto":
		return CompressionS2Auto, nil
	case "on", "enabled", "true", "fast", "s2_fast":
		return CompressionS2Fast, nil
	case "better", "s2_better":
		return CompressionS2Better, nil
	case "best", "s2_best":
		return CompressionS2Best, nil
	}
	return "", fmt.Errorf("unsupported compression mode %q", s)
}

// ErrCompressionNotImplemented matches (errors.Is) the refusal of an s2
// compression mode, and of the other cluster settings Starling does not
// run (route pooling, pinned accounts).
var ErrCompressionNotImplemented = errors.New("not implemented by Starling")

// CheckCompression refuses a mode nats-server does not know, and the modes
// in which this server would start compressing a route itself (s2_*),
// which Starling does not implement. Off, not supported, and accept (the
// default: compress only when the peer asks for it) are allowed.
func CheckCompression(mode string) error {
	if mode == "" {
		return nil
	}
	m, err := ParseCompressionMode(mode)
	if err != nil {
		return err
	}
	switch m {
	case CompressionOff, CompressionAccept, CompressionNotSupported:
		return nil
	}
	return fmt.Errorf("cluster compression %q: %w (route compression; use %q or %q)",
		mode, ErrCompressionNotImplemented, CompressionOff, CompressionAccept)
}
