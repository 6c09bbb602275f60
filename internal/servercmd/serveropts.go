package servercmd

import (
	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/server"
)

// serverOptions hands what the file and the flags set to the public server
// API, which takes server.Options and converts them back; a test checks
// that the round trip keeps every field.
func serverOptions(o *options.Options) *server.Options {
	return &server.Options{
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
		Users:                   convertAll(o.Users, publicUser),
		Nkeys:                   convertAll(o.Nkeys, publicNkeyUser),
		NoAuthUser:              o.NoAuthUser,
		DefaultPermissions:      publicPermissions(o.DefaultPermissions),
		NoHeaderSupport:         o.NoHeaderSupport,
		Cluster:                 publicCluster(&o.Cluster),
		Accounts:                publicAccounts(o.Accounts),
		SystemAccount:           o.SystemAccount,
		Mappings:                publicMappings(o.Mappings),
		Logger:                  o.Logger,
		Trace:                   o.Trace,
	}
}

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

func publicUser(u *auth.User) *server.User {
	return &server.User{Username: u.Username, Password: u.Password, Permissions: publicPermissions(u.Permissions), Account: u.Account}
}

func publicNkeyUser(n *auth.NkeyUser) *server.NkeyUser {
	return &server.NkeyUser{Nkey: n.Nkey, Permissions: publicPermissions(n.Permissions), Account: n.Account}
}

func publicPermissions(p *auth.Permissions) *server.Permissions {
	if p == nil {
		return nil
	}
	out := &server.Permissions{Publish: publicSubjects(p.Publish), Subscribe: publicSubjects(p.Subscribe)}
	if r := p.Response; r != nil {
		out.Response = &server.ResponsePermission{MaxMsgs: r.MaxMsgs, Expires: r.Expires}
	}
	return out
}

// publicSubjects shares the lists: server.New copies them again.
func publicSubjects(sp *auth.SubjectPermission) *server.SubjectPermission {
	if sp == nil {
		return nil
	}
	return &server.SubjectPermission{Allow: sp.Allow, Deny: sp.Deny}
}

// publicCluster shares the lists and URLs: server.New copies them again.
func publicCluster(c *options.ClusterOptions) server.ClusterOptions {
	out := server.ClusterOptions{
		Name:           c.Name,
		Host:           c.Host,
		Port:           c.Port,
		Advertise:      c.Advertise,
		NoAdvertise:    c.NoAdvertise,
		Routes:         c.Routes,
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
		PinnedAccounts: c.PinnedAccounts,
		Compression:    server.Compression{Mode: c.Compression.Mode, RTTThresholds: c.Compression.RTTThresholds},
	}
	if p := c.Permissions; p != nil {
		out.Permissions = &server.RoutePermissions{Import: publicSubjects(p.Import), Export: publicSubjects(p.Export)}
	}
	return out
}
