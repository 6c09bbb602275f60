package options

import (
	"errors"
	"fmt"
)

// ErrReloadUnsupported matches (errors.Is) every refusal of a reload.
var ErrReloadUnsupported = errors.New("config reload not supported")

// ReloadError names one option a running server cannot change. Its text
// is nats-server's for the same refusal.
type ReloadError struct {
	Name     string // as the configuration file names it
	Old, New any
}

func (e *ReloadError) Error() string {
	return fmt.Sprintf("config reload not supported for %s: old=%v, new=%v", e.Name, e.Old, e.New)
}

// Is makes every ReloadError match ErrReloadUnsupported.
func (e *ReloadError) Is(target error) bool { return target == ErrReloadUnsupported }

// fixedOption is an option a reload cannot change.
type fixedOption struct {
	field string // the Options field (a test checks every field has a rule)
	name  string // what the refusal calls it
	get   func(*Options) any
}

// fixedOptions need a restart: the listeners, the server's identity, what
// every connection was told in INFO when it connected, and the logger the
// engine and each connection took at start.
var fixedOptions = []fixedOption{
	{"Host", "host", func(o *Options) any { return o.Host }},
	{"Port", "port", func(o *Options) any { return o.Port }},
	{"ServerName", "server_name", func(o *Options) any { return o.ServerName }},
	{"HTTPHost", "http_host", func(o *Options) any { return o.HTTPHost }},
	{"HTTPPort", "http_port", func(o *Options) any { return o.HTTPPort }},
	{"HTTPSPort", "https_port", func(o *Options) any { return o.HTTPSPort }},
	// Certificates and the rest of the TLS settings reload; turning TLS on
	// or off does not.
	{"TLSConfig", "tls", func(o *Options) any { return onOff(o.TLSConfig != nil) }},
	{"NoHeaderSupport", "no_header_support", func(o *Options) any { return o.NoHeaderSupport }},
	{"JetStream", "jetstream", func(o *Options) any { return onOff(o.JetStream) }},
	{"StoreDir", "store_dir", func(o *Options) any { return o.StoreDir }},
	{"Logger", "logger", func(o *Options) any { return fmt.Sprintf("%p", o.Logger) }},
	// The route listener, as in nats-server (which also cannot turn
	// clustering on or off by reload: that is a change of port).
	{"Cluster.Host", "cluster host", func(o *Options) any { return o.Cluster.Host }},
	{"Cluster.Port", "cluster port", func(o *Options) any { return o.Cluster.Port }},
	// nats-server runs $SYS when nothing names a system account, and
	// refuses any other change of it.
	{"SystemAccount", "system_account", func(o *Options) any {
		if o.SystemAccount == "" {
			return DefaultSystemAccount
		}
		return o.SystemAccount
	}},
}

// fixedWhileJetStream are JetStream's settings, taken when it starts: the
// store's sync policy, the account limits, the domain in every API
// subject, the open-file budget. While JetStream is off nothing reads them.
var fixedWhileJetStream = []fixedOption{
	{"SyncInterval", "jetstream sync_interval", func(o *Options) any { return o.SyncInterval }},
	{"JetStreamMaxMemory", "jetstream max_memory_store", func(o *Options) any { return o.JetStreamMaxMemory }},
	{"JetStreamMaxStore", "jetstream max_file_store", func(o *Options) any { return o.JetStreamMaxStore }},
	{"JetStreamDomain", "jetstream domain", func(o *Options) any { return o.JetStreamDomain }},
	{"JetStreamMaxOpenFiles", "jetstream max_open_files", func(o *Options) any { return o.JetStreamMaxOpenFiles }},
	{"JetStreamCompactEntries", "jetstream compact_entries", func(o *Options) any { return o.JetStreamCompactEntries }},
}

// reloadable are the fields a reload applies at once: limits and timeouts
// are read where they are used (new connections, the next read, write or
// PING), and authorization is rebuilt and every connection checked again.
var reloadable = []string{
	"MaxPayload", "MaxControlLine", "MaxPending", "MaxConnections", "MaxSubscriptions",
	"WriteDeadline", "PingInterval", "PingMax", "AuthTimeout",
	"Username", "Password", "Authorization", "TLSTimeout", "TLSMap",
	"LameDuckDuration", "LameDuckGracePeriod",
	"Users", "Nkeys", "NoAuthUser", "DefaultPermissions", "Trace",
	// The rest of the cluster block reloads in nats-server 2.11: routes
	// added are dialled and routes removed closed; the name, advertised
	// address, authorization, permissions and TLS (on or off too) apply to
	// the routes made from then on and are announced to peers; a new pool
	// size or set of pinned accounts re-makes the routes, a new
	// compression mode re-negotiates them.
	"Cluster.Name", "Cluster.Advertise", "Cluster.NoAdvertise", "Cluster.Routes",
	"Cluster.ConnectRetries", "Cluster.ConnectBackoff", "Cluster.Username", "Cluster.Password",
	"Cluster.AuthTimeout", "Cluster.Permissions", "Cluster.TLSConfig", "Cluster.TLSTimeout", "Cluster.TLSMap",
	"Cluster.PingInterval", "Cluster.PingMax", "Cluster.WriteDeadline", "Cluster.PoolSize",
	"Cluster.PinnedAccounts", "Cluster.Compression",
	// Accounts, their users, exports, imports and mappings reload in
	// nats-server, and so do the global account's mappings.
	"Accounts", "Mappings",
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// CheckReload returns a ReloadError for every option that differs between
// the options in force and next and that a running server cannot change,
// joined; nil when next can be applied whole. Both must have their
// defaults set, so an option left out is not mistaken for a change.
func CheckReload(old, next *Options) error {
	var errs []error
	diff := func(list []fixedOption) {
		for _, f := range list {
			if a, b := f.get(old), f.get(next); a != b {
				errs = append(errs, &ReloadError{Name: f.name, Old: a, New: b})
			}
		}
	}
	diff(fixedOptions)
	if old.JetStream && next.JetStream {
		diff(fixedWhileJetStream)
	}
	return errors.Join(errs...)
}
