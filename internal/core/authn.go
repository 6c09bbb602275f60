package core

import (
	"crypto/x509"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/proto"
)

// credentials are what the client presented in CONNECT, with our nonce and
// its verified certificate.
func (c *client) credentials(o *proto.ConnectOptions) auth.Credentials {
	cr := auth.Credentials{
		User: o.User, Pass: o.Pass, Token: o.Token,
		Nkey: o.Nkey, Sig: o.Sig, Nonce: c.nonce,
	}
	cr.Cert = c.peerCert()
	return cr
}

func (c *client) peerCert() *x509.Certificate {
	if st := c.tlsState; st != nil && len(st.VerifiedChains) > 0 && len(st.VerifiedChains[0]) > 0 {
		return st.VerifiedChains[0][0]
	}
	return nil
}

// authenticate checks a CONNECT against the authorization in force and, on
// success, gives the connection its identity and permissions.
func (c *client) authenticate(o *proto.ConnectOptions) bool {
	authn := c.srv.authn.Load()
	if !authn.Required() {
		c.setIdentity("", nil)
		return true
	}
	id, err := authn.Authenticate(c.credentials(o))
	if err != nil {
		c.log.Info("authorization violation", "err", err, "user", o.User, "nkey", o.Nkey)
		return false
	}
	name := id.Name
	if name == "" && o.Token != "" {
		name = "[REDACTED]" // a token is a secret, not a name
	}
	if !c.connected.Load() && id.Account != "" {
		// The user's account: set before the client's first
		// subscription, in its read loop, and never changed after.
		acc := c.srv.LookupAccount(id.Account)
		if acc == nil {
			c.log.Error("user of an unknown account refused", "user", name, "account", id.Account)
			return false
		}
		c.mu.Lock()
		c.acc = acc
		c.mu.Unlock()
	}
	c.setIdentity(name, id.Permissions)
	return true
}

// implicitLogin runs when an operation other than CONNECT comes first. It
// is fine without authorization, and with no_auth_user it logs the client
// in as that user, as nats-server does for telnet-style sessions.
func (c *client) implicitLogin() bool {
	authn := c.srv.authn.Load()
	if !authn.Required() {
		return true
	}
	if c.srv.getOpts().NoAuthUser == "" {
		return false
	}
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	if !c.authenticate(&opts) {
		return false
	}
	c.connected.Store(true)
	c.stopAuthTimer()
	c.srv.emitClient(EventConnect, c, nil)
	return true
}

func (c *client) setIdentity(name string, p *auth.Permissions) {
	c.mu.Lock()
	c.authName = name
	c.rawPerms = p
	c.mu.Unlock()
	c.perms.Store(auth.NewChecker(p))
}
