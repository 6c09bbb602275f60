package config

import (
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/conf"
)

// authorization maps nats-server's authorization block.
func (d *decoder) authorization(v *conf.Value) {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return
	}
	o := &d.cfg.Opts
	for _, e := range m.Entries() {
		mv := e.Value
		key := strings.ToLower(e.Key)
		if s := settingFor["authorization."+key]; s != nil {
			d.apply(s, "authorization "+key, mv)
			continue
		}
		switch key {
		case "users":
			users, nkeys := d.users(mv)
			for _, u := range users {
				d.acct.users = append(d.acct.users, userPos{name: u.Username, pos: e.KeyPos})
			}
			for _, n := range nkeys {
				d.acct.users = append(d.acct.users, userPos{name: n.Nkey, nkey: true, pos: e.KeyPos})
			}
			o.Users = append(o.Users, users...)
			o.Nkeys = append(o.Nkeys, nkeys...)
		case "default_permission", "default_permissions", "permissions":
			o.DefaultPermissions = d.permissions(mv)
		default:
			d.unknown(&authorizationBlock, e)
		}
	}
	if o.Authorization != "" && (o.Username != "" || o.Password != "") {
		d.errorf(v.Pos, "can not have a token and a user/password in authorization")
	}
	if (o.Username != "" || o.Authorization != "") && d.globalUsers() {
		d.errorf(v.Pos, "can not have a single user/password or token and a users array")
	}
}

// globalUsers reports whether the authorization block listed users (the
// accounts' users are checked against a single user in checkAccounts).
func (d *decoder) globalUsers() bool {
	for _, u := range d.acct.users {
		if u.account == "" {
			return true
		}
	}
	return false
}

// users reads a users array, of the authorization block or an account.
func (d *decoder) users(v *conf.Value) (users []*auth.User, nkeys []*auth.NkeyUser) {
	arr, err := v.AsArray()
	if err != nil {
		d.fail(err)
		return nil, nil
	}
	for _, uv := range arr {
		um, err := uv.AsMap()
		if err != nil {
			d.fail(err)
			continue
		}
		var user auth.User
		var nkey string
		var perms *auth.Permissions
		for _, e := range um.Entries() {
			switch strings.ToLower(e.Key) {
			case "user", "username":
				user.Username = d.str(e.Value)
			case "pass", "password":
				user.Password = d.str(e.Value)
			case "nkey":
				nkey = d.str(e.Value)
			case "permission", "permissions", "authorization":
				perms = d.permissions(e.Value)
			case "allowed_connection_types", "connection_types", "clients":
				d.connectionTypes(e)
			default:
				d.unknown(&userBlock, e)
			}
		}
		switch {
		case nkey != "":
			if user.Username != "" || user.Password != "" {
				d.errorf(uv.Pos, "a user entry has either an nkey or a user and password")
			}
			nkeys = append(nkeys, &auth.NkeyUser{Nkey: nkey, Permissions: perms})
		case user.Username != "":
			user.Permissions = perms
			users = append(users, &user)
		default:
			d.errorf(uv.Pos, "user entry needs a user or an nkey")
		}
	}
	return users, nkeys
}

// permissions maps a user's permissions block and checks it.
func (d *decoder) permissions(v *conf.Value) *auth.Permissions {
	p := d.parsePermissions(v)
	if err := p.Validate(); err != nil {
		d.errorf(v.Pos, "%v", err)
	}
	return p
}

// parsePermissions maps a permissions block: publish and subscribe as a
// subject, a list, or {allow, deny}; allow_responses as true or
// {max, expires}.
func (d *decoder) parsePermissions(v *conf.Value) *auth.Permissions {
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return nil
	}
	p := &auth.Permissions{}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "pub", "publish", "import":
			p.Publish = d.subjectPermission(e.Value)
		case "sub", "subscribe", "export":
			p.Subscribe = d.subjectPermission(e.Value)
		case "publish_allow_responses", "allow_responses":
			p.Response = d.responses(e.Value)
		default:
			d.unknown(&permissionsBlock, e)
		}
	}
	if p.Response != nil {
		// Answering requests only: nats-server turns the blanket publish
		// allowance off when responses are granted without a publish list.
		if p.Publish == nil {
			p.Publish = &auth.SubjectPermission{}
		}
		if p.Publish.Allow == nil {
			p.Publish.Allow = []string{}
		}
	}
	return p
}

func (d *decoder) subjectPermission(v *conf.Value) *auth.SubjectPermission {
	if v.Kind != conf.KindMap {
		return &auth.SubjectPermission{Allow: d.subjects(v)}
	}
	m, _ := v.AsMap()
	sp := &auth.SubjectPermission{}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "allow":
			sp.Allow = d.subjects(e.Value)
		case "deny":
			sp.Deny = d.subjects(e.Value)
		default:
			d.unknown(&subjectPermissionBlock, e)
		}
	}
	return sp
}

func (d *decoder) subjects(v *conf.Value) []string {
	if v.Kind == conf.KindString {
		return []string{d.str(v)}
	}
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "expected subject permissions to be a subject, or array of subjects, got %s", v.Kind)
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, sv := range arr {
		out = append(out, d.str(sv))
	}
	return out
}

func (d *decoder) responses(v *conf.Value) *auth.ResponsePermission {
	rp := &auth.ResponsePermission{MaxMsgs: auth.DefaultResponseMaxMsgs, Expires: auth.DefaultResponseExpires}
	if v.Kind == conf.KindBool {
		if d.boolean(v) {
			return rp
		}
		return nil
	}
	m, err := v.AsMap()
	if err != nil {
		d.errorf(v.Pos, "error parsing response permissions, expected a boolean or a map")
		return nil
	}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "max", "max_msgs", "max_messages", "max_responses":
			// 0 keeps the default; negative means no limit.
			if n := d.integer(e.Value); n != 0 {
				rp.MaxMsgs = int(n)
			}
		case "expires", "expiration", "ttl":
			if e.Value.Kind != conf.KindString {
				d.errorf(e.Value.Pos, "error parsing expires, not a duration string")
				continue
			}
			ttl, err := time.ParseDuration(d.str(e.Value))
			if err != nil {
				d.errorf(e.Value.Pos, "error parsing expires: %v", err)
				continue
			}
			if ttl != 0 {
				rp.Expires = ttl
			}
		default:
			d.unknown(&responsesBlock, e)
		}
	}
	return rp
}

// connectionTypes reads a user's allowed_connection_types. Every client
// connection to Starling is of nats-server's STANDARD type (there are no
// WebSocket, MQTT or leaf node listeners), so a list that allows STANDARD
// restricts nothing, and one that does not would lock the user out of
// every connection Starling can take: that is refused, not guessed.
func (d *decoder) connectionTypes(e conf.Entry) {
	arr, err := e.Value.AsArray()
	if err != nil {
		d.errorf(e.Value.Pos, "error parsing allowed connection types: expected an array of strings")
		return
	}
	standard := false
	for _, v := range arr {
		t := strings.ToUpper(d.str(v))
		if !knownConnectionTypes[t] {
			d.errorf(v.Pos, "unknown connection type %q", t)
		}
		standard = standard || t == "STANDARD"
	}
	// An empty list restricts nothing, in nats-server too.
	if !standard && len(arr) > 0 {
		d.notImplemented(&userBlock, e, "connection types other than STANDARD (WebSocket, MQTT, leaf nodes, in-process)")
	}
}

// knownConnectionTypes are nats-server's connection type names.
var knownConnectionTypes = map[string]bool{
	"STANDARD": true, "WEBSOCKET": true, "LEAFNODE": true, "LEAFNODE_WS": true,
	"MQTT": true, "MQTT_WS": true, "IN_PROCESS": true,
}
