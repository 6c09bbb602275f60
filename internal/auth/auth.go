// Package auth decides who a client is and what it may do: tokens, users
// with plain or bcrypt passwords, NKey users answering a nonce challenge,
// client certificates mapped to users, and per-user publish and subscribe
// permissions. It makes decisions only; the connection code owns sockets,
// timers and protocol errors.
//
// Behaviour follows nats-server's; where it deliberately differs the
// comment on the function says so and why.
package auth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nkeys"
)

// User is a configured user. Password is plain text or a bcrypt hash.
type User struct {
	Username    string
	Password    string
	Permissions *Permissions // nil: the defaults of the user's account (see Config)
	Account     string       // "" is the global account
}

// LogValue keeps the password out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", u.Username), slog.Bool("bcrypt", isBcrypt(u.Password)))
}

// NkeyUser is a configured user known by its public NKey ("U...").
type NkeyUser struct {
	Nkey        string
	Permissions *Permissions // nil: the defaults of the user's account (see Config)
	Account     string       // "" is the global account
}

// Config is the authorization settings of a server.
type Config struct {
	// Token, or Username with Password, is the simple form: a client
	// presenting it is admitted with no permission limits. It cannot be
	// combined with Users or Nkeys. Token and Password may be bcrypt
	// hashes. If both Token and Username are set only the token is
	// checked, as in nats-server.
	Token    string
	Username string
	Password string

	Users []*User
	Nkeys []*NkeyUser

	// NoAuthUser names a user or NKey that clients presenting no
	// credentials are taken to be.
	NoAuthUser string

	// DefaultPermissions apply to Users and Nkeys of the global account
	// without their own. AccountPermissions are the defaults of users of
	// the accounts they name; as in nats-server, a user of an account
	// without defaults gets none, not DefaultPermissions.
	DefaultPermissions *Permissions
	AccountPermissions map[string]*Permissions

	// TLSMap is verify_and_map: a client that is not an NKey user is the
	// user its certificate names (see Authenticator.certUser).
	TLSMap bool
}

// LogValue keeps secrets out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("token", c.Token != ""),
		slog.String("user", c.Username),
		slog.Int("users", len(c.Users)),
		slog.Int("nkeys", len(c.Nkeys)),
		slog.String("no_auth_user", c.NoAuthUser),
		slog.Bool("verify_and_map", c.TLSMap),
	)
}

// Credentials are what a client presented: its CONNECT fields, the nonce
// the server sent it, and its verified TLS certificate if any.
type Credentials struct {
	User, Pass, Token string
	Nkey, Sig         string
	Nonce             string
	Cert              *x509.Certificate
}

// LogValue keeps secrets out of logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user", c.User),
		slog.Bool("pass", c.Pass != ""),
		slog.Bool("token", c.Token != ""),
		slog.String("nkey", c.Nkey),
		slog.Bool("cert", c.Cert != nil),
	)
}

// Identity is an authenticated client.
type Identity struct {
	// Name is the user name or public NKey; empty for a token client and
	// when nothing is configured.
	Name string
	// Permissions are the effective permissions, allow_responses defaults
	// applied; nil allows everything. Shared between connections: do not
	// modify.
	Permissions *Permissions
	// Account is the account the user belongs to; "" is the global
	// account (every client of a server without accounts).
	Account string
}

// ErrAuthentication is wrapped by every Authenticate error. The wrapped
// reason is for server logs; clients are told only
// "Authorization Violation".
var ErrAuthentication = errors.New("authentication failed")

func authErr(reason string) error { return fmt.Errorf("%w: %s", ErrAuthentication, reason) }

// Reasons never include what the client sent, so logs cannot leak a secret
// a client put in the wrong field.
var (
	errNoCredentials = authErr("no usable credentials")
	errUnknownUser   = authErr("unknown user")
	errBadPassword   = authErr("wrong password")
	errBadToken      = authErr("wrong token")
	errUnknownNkey   = authErr("unknown nkey")
	errNoNonce       = authErr("no nonce was issued")
	errNoSignature   = authErr("nonce signature missing")
	errBadSignature  = authErr("nonce signature invalid")
	errNoCert        = authErr("client certificate required")
	errCertNotMapped = authErr("certificate does not name a user")
)

type userEntry struct {
	name, password string
	perms          *Permissions
	account        string
	dn             dn // the name read as a distinguished name, or nil
}

type nkeyEntry struct {
	pub     nkeys.KeyPair
	perms   *Permissions
	account string
}

// Authenticator checks credentials against a Config. It is immutable and
// safe for concurrent use; build a new one to change settings.
type Authenticator struct {
	token, username, password string
	users                     map[string]*userEntry
	userList                  []*userEntry // configuration order
	nkeys                     map[string]*nkeyEntry
	noAuthUser                string
	tlsMap                    bool
}

// New validates cfg and builds an Authenticator. It copies what it keeps.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := cfg.DefaultPermissions.Validate(); err != nil {
		return nil, fmt.Errorf("default permissions: %w", err)
	}
	a := &Authenticator{
		token:      cfg.Token,
		username:   cfg.Username,
		password:   cfg.Password,
		users:      make(map[string]*userEntry),
		nkeys:      make(map[string]*nkeyEntry),
		noAuthUser: cfg.NoAuthUser,
		tlsMap:     cfg.TLSMap,
	}
	for name, p := range cfg.AccountPermissions {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("account %q default permissions: %w", name, err)
		}
	}
	perms := func(p *Permissions, account string) *Permissions {
		switch {
		case p != nil:
		case account == "":
			p = cfg.DefaultPermissions
		default:
			p = cfg.AccountPermissions[account]
		}
		return p.effective()
	}
	for _, u := range cfg.Users {
		if err := u.Permissions.Validate(); err != nil {
			return nil, fmt.Errorf("user %q: %w", u.Username, err)
		}
		e := &userEntry{name: u.Username, password: u.Password, perms: perms(u.Permissions, u.Account), account: u.Account}
		if d, err := parseDN(u.Username); err == nil {
			e.dn = d
		}
		a.users[u.Username] = e
		a.userList = append(a.userList, e)
	}
	for _, n := range cfg.Nkeys {
		if err := n.Permissions.Validate(); err != nil {
			return nil, fmt.Errorf("nkey %q: %w", n.Nkey, err)
		}
		pub, err := nkeys.FromPublicKey(n.Nkey)
		if err != nil {
			return nil, fmt.Errorf("nkey %q: %w", n.Nkey, err)
		}
		a.nkeys[n.Nkey] = &nkeyEntry{pub: pub, perms: perms(n.Permissions, n.Account), account: n.Account}
	}
	return a, nil
}

// validate checks the combinations nats-server refuses in a configuration
// file, plus a password without a user, which it would silently ignore.
func (cfg *Config) validate() error {
	multi := len(cfg.Users) > 0 || len(cfg.Nkeys) > 0
	switch {
	case multi && cfg.Token != "":
		return errors.New("auth: a token cannot be combined with a users list")
	case multi && cfg.Username != "":
		return errors.New("auth: a single user cannot be combined with a users list")
	case cfg.Password != "" && cfg.Username == "":
		return errors.New("auth: a password needs a user")
	}
	names := make(map[string]bool)
	for _, u := range cfg.Users {
		if u == nil || u.Username == "" {
			return errors.New("auth: user without a name")
		}
		if names[u.Username] {
			return fmt.Errorf("auth: duplicate user %q", u.Username)
		}
		names[u.Username] = true
	}
	for _, n := range cfg.Nkeys {
		if n == nil || !nkeys.IsValidPublicUserKey(n.Nkey) {
			return fmt.Errorf("auth: %q is not a public user nkey", nkeyOf(n))
		}
		if names[n.Nkey] {
			return fmt.Errorf("auth: duplicate nkey %q", n.Nkey)
		}
		names[n.Nkey] = true
	}
	if cfg.NoAuthUser != "" && !names[cfg.NoAuthUser] {
		return fmt.Errorf("auth: no_auth_user %q is not a configured user or nkey", cfg.NoAuthUser)
	}
	return nil
}

func nkeyOf(n *NkeyUser) string {
	if n == nil {
		return ""
	}
	return n.Nkey
}

// Required reports whether any authentication is configured: the
// connection must then call Authenticate before accepting other operations
// and enforce the authentication timeout.
func (a *Authenticator) Required() bool {
	return a.token != "" || a.username != "" || len(a.users) > 0 || len(a.nkeys) > 0
}

// AdvertiseRequired is INFO's auth_required. With a no_auth_user, clients
// need no credentials, so nats-server advertises false.
func (a *Authenticator) AdvertiseRequired() bool {
	return a.Required() && a.noAuthUser == ""
}

// NeedsNonce reports whether INFO must carry a nonce for NKey users to sign.
func (a *Authenticator) NeedsNonce() bool { return len(a.nkeys) > 0 }

// Authenticate decides who a client is. With nothing configured every
// client is anonymous with no permission limits. Otherwise, in
// nats-server's order:
//
//  1. an NKey user, if NKeys are configured and the client sent an nkey (or
//     sent nothing and NoAuthUser is an NKey); it must sign the nonce,
//     except as the NoAuthUser. An unknown nkey fails here.
//  2. with a users list: under TLSMap the certificate's user, otherwise
//     NoAuthUser for a client that sent no user, password or token, or the
//     user it names. An unknown user fails here. The password is checked in
//     every case but NoAuthUser, including a certificate-mapped user, whose
//     configured password is normally empty.
//  3. the single token, or else the single user and password.
func (a *Authenticator) Authenticate(c Credentials) (*Identity, error) {
	if !a.Required() {
		return &Identity{}, nil
	}
	bare := c.User == "" && c.Pass == "" && c.Token == ""
	if len(a.nkeys) > 0 {
		key := c.Nkey
		if key == "" && bare && a.nkeys[a.noAuthUser] != nil {
			key = a.noAuthUser
		}
		if key != "" {
			return a.nkeyUser(key, c)
		}
	}
	if len(a.users) > 0 {
		u, err := a.listUser(c, bare)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return &Identity{Name: u.name, Permissions: u.perms, Account: u.account}, nil
		}
	}
	switch {
	case a.token != "":
		if !checkSecret(a.token, c.Token) {
			return nil, errBadToken
		}
		return &Identity{}, nil
	case a.username != "":
		if !equalConstantTime(a.username, c.User) {
			return nil, errUnknownUser
		}
		if !checkSecret(a.password, c.Pass) {
			return nil, errBadPassword
		}
		return &Identity{Name: a.username}, nil
	}
	return nil, errNoCredentials
}

func (a *Authenticator) nkeyUser(key string, c Credentials) (*Identity, error) {
	n := a.nkeys[key]
	if n == nil {
		return nil, errUnknownNkey
	}
	// nats-server skips the signature for the no_auth_user's key even when
	// a client names it: that grants nothing a bare client would not get.
	if key != a.noAuthUser {
		if err := verifyNonce(n.pub, c.Nonce, c.Sig); err != nil {
			return nil, err
		}
	}
	return &Identity{Name: key, Permissions: n.perms, Account: n.account}, nil
}

// listUser finds the users-list entry a client is, checking its password;
// nil and no error when it named no user, leaving the decision to the
// single-user rules.
//
// nats-server admits the NoAuthUser by comparing its configured password
// with itself, which fails for a bcrypt hash; here it needs no password
// check, which is what no_auth_user is for.
func (a *Authenticator) listUser(c Credentials, bare bool) (*userEntry, error) {
	var u *userEntry
	switch {
	case a.tlsMap:
		if c.Cert == nil {
			return nil, errNoCert
		}
		if u = a.certUser(c.Cert); u == nil {
			return nil, errCertNotMapped
		}
	case bare && a.users[a.noAuthUser] != nil:
		return a.users[a.noAuthUser], nil
	case c.User == "":
		return nil, nil
	default:
		if u = a.users[c.User]; u == nil {
			return nil, errUnknownUser
		}
	}
	if !checkSecret(u.password, c.Pass) {
		return nil, errBadPassword
	}
	return u, nil
}
