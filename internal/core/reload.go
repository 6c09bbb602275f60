package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/proto"
)

// ErrReloadUnsupported is returned, wrapped, when a reload changes options
// that need a restart.
var ErrReloadUnsupported = errors.New("config reload not supported")

// fixedOptions lists what a running server cannot change: the listeners and
// its identity. A reload that changes any of them is refused whole.
func fixedOptions(a, b *Options) []string {
	var changed []string
	add := func(cond bool, name string) {
		if cond {
			changed = append(changed, name)
		}
	}
	add(a.Host != b.Host, "host")
	add(a.Port != b.Port, "port")
	add(a.ServerName != b.ServerName, "server_name")
	add(a.HTTPHost != b.HTTPHost, "http_host")
	add(a.HTTPPort != b.HTTPPort, "http_port")
	add(a.HTTPSPort != b.HTTPSPort, "https_port")
	add((a.TLSConfig == nil) != (b.TLSConfig == nil), "tls (turning it on or off)")
	add(a.NoHeaderSupport != b.NoHeaderSupport, "no_header_support")
	add(a.JetStream != b.JetStream, "jetstream")
	add(a.StoreDir != b.StoreDir, "store_dir")
	sort.Strings(changed)
	return changed
}

// Reload replaces the options in force. Limits, timeouts, logging flags,
// TLS certificates and all of authorization take effect at once: every
// connection is checked again against the new users and permissions, and
// closed if it no longer authenticates, or loses subscriptions it may no
// longer hold. Options that need a restart are reported and nothing is
// applied.
func (s *Server) Reload(next Options) error {
	old := s.getOpts()
	if next.Logger == nil {
		next.Logger = old.Logger
	}
	next.SetDefaults()
	if err := next.Validate(); err != nil {
		return err
	}
	if fixed := fixedOptions(old, &next); len(fixed) > 0 {
		return fmt.Errorf("%w for: %s", ErrReloadUnsupported, strings.Join(fixed, ", "))
	}
	authn, err := auth.New(next.authConfig())
	if err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	s.opts.Store(&next)
	s.authn.Store(authn)
	s.mu.Lock()
	s.configLoad = time.Now()
	s.mu.Unlock()
	for _, c := range s.clientList() {
		c.reload(old, &next, authn)
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
	c.mu.Unlock()
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
