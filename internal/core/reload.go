package core

import (
	"fmt"
	"reflect"
	"time"

	"github.com/nats-io/nuid"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/proto"
)

// Reload replaces the options in force. Limits, timeouts, logging flags,
// TLS certificates, accounts and all of authorization take effect at
// once: every connection is checked again against the new users and
// permissions, and closed if it no longer authenticates, if its user is
// gone or now in another account, or loses subscriptions it may no longer
// hold. Options that need a restart (options.CheckReload) are each named
// in the error and nothing is applied.
func (s *Server) Reload(next Options) error {
	old := s.getOpts()
	if next.Logger == nil {
		next.Logger = old.Logger
	}
	next.SetDefaults()
	if err := next.Validate(); err != nil {
		return err
	}
	if err := options.CheckReload(old, &next); err != nil {
		return err
	}
	authn, err := auth.New(next.AuthConfig())
	if err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	// New accounts first, so that their users may log in as soon as the
	// new authorization is in force.
	s.reloadAccounts(&next)
	s.opts.Store(&next)
	s.authn.Store(authn)
	s.mu.Lock()
	s.configLoad = time.Now()
	s.mu.Unlock()
	for _, c := range s.clientList() {
		c.reload(old, &next, authn)
	}
	s.removeAccounts(old, &next)
	// Routes added are dialled, routes removed closed; a route whose URL
	// changed (its credentials) is both.
	s.setExplicitRoutes(next.Cluster.Routes)
	// Routes up were admitted and filtered under the old authorization
	// and permissions: they start again under the new ones.
	renamed := old.Cluster.Name != next.Cluster.Name && next.Cluster.Enabled()
	if renamed {
		s.cluster.mu.Lock()
		s.cluster.name, s.cluster.dynamic = next.Cluster.Name, next.Cluster.Name == ""
		if s.cluster.dynamic {
			s.cluster.name = nuid.Next()
		}
		s.cluster.mu.Unlock()
	}
	if renamed || !reflect.DeepEqual(old.Cluster.Permissions, next.Cluster.Permissions) ||
		old.Cluster.Username != next.Cluster.Username || old.Cluster.Password != next.Cluster.Password {
		for _, r := range s.routeList() {
			r.close(reasonClientClosed)
		}
	}
	s.log.Info("configuration reloaded")
	return nil
}

// reload applies new options to one connection.
func (c *client) reload(old, o *Options, authn *auth.Authenticator) {
	c.out.mu.Lock()
	c.out.maxPending = o.MaxPending
	c.out.mu.Unlock()
	if old.MaxPayload != o.MaxPayload {
		c.sendAsyncInfo(false) // clients size their publishes by INFO's max_payload
	}
	// The read loop picks up parser limits itself (see processInput).
	if !c.connected.Load() {
		return
	}
	c.mu.Lock()
	opts := c.opts
	acc := c.acc
	c.mu.Unlock()
	if userMoved(old, o, &opts, acc.name) {
		// As nats-server: closed without an error; the client reconnects
		// into the user's account, or is refused.
		c.log.Info("closing: user removed or moved to another account by reload")
		c.close(reasonClientClosed)
		return
	}
	if !c.authenticate(&opts) {
		c.log.Info("closing: no longer authorized after reload")
		c.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		return
	}
	p := c.perms.Load()
	if p == nil {
		return
	}
	c.mu.Lock()
	var lost []*subscription
	for _, sub := range c.subs {
		if !p.CanSubscribe(sub.subject, sub.queue) {
			lost = append(lost, sub)
		}
	}
	c.mu.Unlock()
	for _, sub := range lost {
		c.removeSub(sub)
		c.send(proto.ErrLine(auth.SubscribeViolation(sub.subject, sub.queue) + fmt.Sprintf(" (sid %q)", sub.sid)))
	}
}

// userMoved reports whether the connection logged in as a user (or nkey)
// of old's lists that next no longer has, or has in another account than
// acc. Other logins (single user, token, certificate, no_auth_user) are
// checked by authenticating again.
func userMoved(old, next *Options, co *proto.ConnectOptions, acc string) bool {
	if _, ok := userAccount(old, co); !ok {
		return false
	}
	now, ok := userAccount(next, co)
	return !ok || now != acc
}

// userAccount is the account of the user or nkey co names in o's lists.
func userAccount(o *Options, co *proto.ConnectOptions) (string, bool) {
	named := func(acc string) string {
		if acc == "" {
			return globalAccountName
		}
		return acc
	}
	if co.Nkey != "" {
		for _, n := range o.Nkeys {
			if n != nil && n.Nkey == co.Nkey {
				return named(n.Account), true
			}
		}
		return "", false
	}
	if co.User != "" {
		for _, u := range o.Users {
			if u != nil && u.Username == co.User {
				return named(u.Account), true
			}
		}
	}
	return "", false
}
