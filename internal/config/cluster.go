package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/options"
)

// cluster maps nats-server's cluster block: the route listener, the routes
// to dial, what peers must present, and how routes behave.
func (d *decoder) cluster(v *conf.Value) {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return
	}
	c := &d.cfg.Opts.Cluster
	// permissions may be given in the block or (deprecated) in its
	// authorization; the block's win, wherever they are written.
	var blockPerms, authPerms *options.RoutePermissions
	for _, e := range m.Entries() {
		mv := e.Value
		key := strings.ToLower(e.Key)
		switch key {
		case "listen":
			host, port, err := hostPort(mv)
			d.fail(err)
			if err == nil {
				c.Host, c.Port = host, port
			}
		case "routes":
			d.routes(mv)
		case "authorization":
			authPerms = d.clusterAuthorization(mv)
		case "permissions":
			blockPerms = d.routePermissions(mv)
		case "tls":
			ts, ok := d.tlsBlock(mv, &clusterTLSBlock)
			if ts.timeoutSet {
				c.TLSTimeout = ts.timeout
			}
			c.TLSMap = c.TLSMap || ts.mapUsers
			if ok {
				c.TLSConfig = ts.config
			}
		case "compression":
			d.compression(e)
		case "ping_interval":
			d.apply(settingFor["cluster.ping_interval"], "cluster ping_interval", mv)
			if c.PingInterval > options.MaxRoutePingInterval {
				d.warnf(mv.Pos, "Cluster 'ping_interval' will reset to %v which is the max for routes", options.MaxRoutePingInterval)
			}
		default:
			if s := settingFor["cluster."+key]; s != nil {
				d.apply(s, "cluster "+key, mv)
				continue
			}
			d.unknown(&clusterBlock, e)
		}
	}
	switch {
	case blockPerms != nil:
		c.Permissions = blockPerms
	case authPerms != nil:
		c.Permissions = authPerms
	}
}

// routes reads the routes array: duplicates are dropped with nats-server's
// warning, and each URL is checked where it is written.
func (d *decoder) routes(v *conf.Value) {
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "cluster routes: expected an array of route URLs, got %s", v.Kind)
		return
	}
	seen := map[string]bool{}
	var list []string
	ok := true
	for _, rv := range arr {
		s, err := rv.AsString()
		if err != nil {
			d.fail(err)
			ok = false
			continue
		}
		if seen[s] {
			d.warnf(rv.Pos, "Duplicate route entry detected")
			continue
		}
		seen[s] = true
		if _, err := options.ParseRouteURL(s); err != nil {
			d.errorf(rv.Pos, "%v", err)
			ok = false
			continue
		}
		list = append(list, s)
	}
	if ok {
		d.fail(settingFor["cluster.routes"].set(d.cfg, value{name: "cluster routes", list: list}))
	}
}

// clusterAuthorization maps the cluster's authorization block: the one
// user and password a peer must present. It returns the permissions found
// there (deprecated in nats-server, in favour of the block's own).
func (d *decoder) clusterAuthorization(v *conf.Value) *options.RoutePermissions {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return nil
	}
	c := &d.cfg.Opts.Cluster
	var perms *options.RoutePermissions
	for _, e := range m.Entries() {
		mv := e.Value
		switch strings.ToLower(e.Key) {
		case "user", "username":
			c.Username = d.str(mv)
		case "pass", "password":
			c.Password = d.str(mv)
		case "timeout":
			// 0 means the default, as in the client block.
			val, ok := d.read(kindSeconds, "cluster authorization timeout", mv)
			switch {
			case !ok:
			case val.dur < 0:
				d.errorf(mv.Pos, "cluster authorization timeout must not be negative")
			default:
				c.AuthTimeout = val.dur
			}
		case "permissions", "default_permission", "default_permissions":
			d.warnf(e.KeyPos, `setting "permissions" within cluster authorization block is deprecated`)
			perms = d.routePermissions(mv)
		// nats-server's own refusals.
		case "token":
			d.errorf(e.KeyPos, "Cluster authorization does not support tokens")
		case "users":
			d.errorf(e.KeyPos, "Cluster authorization does not allow multiple users")
		case "auth_callout", "auth_hook":
			d.errorf(e.KeyPos, "Cluster authorization does not support callouts")
		default:
			d.unknown(&clusterAuthorizationBlock, e)
		}
	}
	return perms
}

// routePermissions maps a permissions block for routes: import and export
// (or their client spellings, publish and subscribe), subjects only.
func (d *decoder) routePermissions(v *conf.Value) *options.RoutePermissions {
	p := d.parsePermissions(v)
	if p == nil {
		return nil
	}
	if p.Response != nil {
		d.errorf(v.Pos, "Cluster permissions do not support dynamic responses")
		return nil
	}
	rp := &options.RoutePermissions{Import: p.Publish, Export: p.Subscribe}
	if err := rp.Validate(); err != nil {
		d.errorf(v.Pos, "%v", err)
	}
	return rp
}

// compression maps the cluster's compression: a boolean, a mode, or a
// block {mode, rtt_thresholds}. Modes Starling cannot honour are refused
// as not implemented.
func (d *decoder) compression(e conf.Entry) {
	v := e.Value
	c := &d.cfg.Opts.Cluster.Compression
	var mode string
	modePos := v.Pos
	switch v.Kind {
	case conf.KindBool:
		// "On" is s2_fast for routes, as in nats-server.
		mode = options.CompressionOff
		if d.boolean(v) {
			mode = options.CompressionS2Fast
		}
	case conf.KindString:
		mode = d.str(v)
	case conf.KindMap:
		m, _ := v.AsMap()
		for _, me := range m.Entries() {
			switch strings.ToLower(me.Key) {
			case "mode":
				mode, modePos = d.str(me.Value), me.Value.Pos
			case "rtt_thresholds", "thresholds", "rtts", "rtt":
				c.RTTThresholds = d.rttThresholds(me.Value)
			default:
				d.unknown(&compressionBlock, me)
			}
		}
	default:
		d.errorf(v.Pos, "field %q should be a boolean or a structure, got %s", e.Key, v.Kind)
		return
	}
	if mode == "" {
		return
	}
	canonical, err := options.ParseCompressionMode(mode)
	if err != nil {
		d.errorf(modePos, "%v", err)
		return
	}
	if options.CheckCompression(canonical) != nil {
		d.notImplemented(&clusterBlock, e, fmt.Sprintf("route compression %s; Starling supports %s and %s",
			canonical, options.CompressionOff, options.CompressionAccept))
		return
	}
	c.Mode = canonical
}

func (d *decoder) rttThresholds(v *conf.Value) []time.Duration {
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "rtt_thresholds: expected an array of durations, got %s", v.Kind)
		return nil
	}
	out := make([]time.Duration, 0, len(arr))
	for _, tv := range arr {
		if tv.Kind != conf.KindString {
			d.errorf(tv.Pos, "rtt_thresholds: expected a duration string such as \"10ms\", got %s", tv.Kind)
			continue
		}
		dur, err := time.ParseDuration(d.str(tv))
		if err != nil {
			d.errorf(tv.Pos, "%v", err)
			continue
		}
		out = append(out, dur)
	}
	return out
}
