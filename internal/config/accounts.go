package config

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/options"
)

// accountPositions remembers where accounts, their exports, imports and
// mappings, and the global mappings were written, so the errors
// options.ValidateAccounts finds (an import not authorized, a cycle) are
// reported where the mistake is.
type accountPositions struct {
	block         conf.Pos // the accounts key
	systemAccount conf.Pos
	items         map[string][]conf.Pos // "account/item" -> position of each
	// users of the accounts, and of the authorization block, for the
	// checks across both.
	users []userPos
}

type userPos struct {
	name, account string
	nkey          bool
	pos           conf.Pos // the users key of the block it was in
}

func itemKey(account, item string) string { return account + "/" + item }

func (p *accountPositions) add(account, item string, pos conf.Pos) {
	if p.items == nil {
		p.items = map[string][]conf.Pos{}
	}
	k := itemKey(account, item)
	p.items[k] = append(p.items[k], pos)
}

// accounts maps nats-server's accounts block: a map of accounts, or an
// array of account names.
func (d *decoder) accounts(e conf.Entry) {
	v := e.Value
	d.acct.block = e.KeyPos
	o := &d.cfg.Opts
	if v.Kind == conf.KindArray {
		arr, _ := v.AsArray()
		for _, nv := range arr {
			name := d.str(nv)
			if d.accountNameTaken(nv.Pos, name) {
				continue
			}
			o.Accounts = append(o.Accounts, options.AccountOptions{Name: name})
		}
		return
	}
	m, err := v.AsMap()
	if err != nil {
		d.errorf(v.Pos, "Expected map entries for accounts, got %s", v.Kind)
		return
	}
	for _, ae := range m.Entries() {
		if ae.Referenced {
			continue // a variable defined in the block, not an account
		}
		if ae.Value.Kind != conf.KindMap {
			d.errorf(ae.Value.Pos, "Expected map entries for accounts")
			continue
		}
		if d.accountNameTaken(ae.KeyPos, ae.Key) {
			continue
		}
		d.account(ae)
	}
}

// accountNameTaken refuses the global account's name and, in the array
// form, a name given twice.
func (d *decoder) accountNameTaken(pos conf.Pos, name string) bool {
	if name == options.GlobalAccount {
		d.errorf(pos, "%q is a Reserved Account", name)
		return true
	}
	for _, a := range d.cfg.Opts.Accounts {
		if a.Name == name {
			d.errorf(pos, "Duplicate Account Entry: %s", name)
			return true
		}
	}
	return false
}

func (d *decoder) account(ae conf.Entry) {
	m, _ := ae.Value.AsMap()
	acc := options.AccountOptions{Name: ae.Key}
	var users []*auth.User
	var nkeys []*auth.NkeyUser
	var usersPos conf.Pos
	for _, e := range m.Entries() {
		v := e.Value
		switch strings.ToLower(e.Key) {
		case "users":
			usersPos = e.KeyPos
			users, nkeys = d.users(v)
		case "exports":
			acc.Exports = d.exports(acc.Name, v)
		case "imports":
			acc.Imports = d.imports(acc.Name, v)
		case "jetstream":
			acc.JetStream = d.accountJetStream(v)
		case "mappings", "maps":
			acc.Mappings = d.mappings(acc.Name, v)
		case "default_permissions":
			acc.DefaultPermissions = d.permissions(v)
		default:
			d.unknown(&accountBlock, e)
		}
	}
	for _, u := range users {
		u.Account = acc.Name
		d.acct.users = append(d.acct.users, userPos{name: u.Username, account: acc.Name, pos: usersPos})
	}
	for _, n := range nkeys {
		n.Account = acc.Name
		d.acct.users = append(d.acct.users, userPos{name: n.Nkey, account: acc.Name, nkey: true, pos: usersPos})
	}
	o := &d.cfg.Opts
	o.Users = append(o.Users, users...)
	o.Nkeys = append(o.Nkeys, nkeys...)
	o.Accounts = append(o.Accounts, acc)
}

// accountJetStream reads an account's jetstream: true/false, "enabled" or
// "disabled", or a block of limits (unset limits are -1, no limit).
func (d *decoder) accountJetStream(v *conf.Value) *options.AccountJetStream {
	switch v.Kind {
	case conf.KindBool:
		if d.boolean(v) {
			return options.UnlimitedJetStream()
		}
		return nil
	case conf.KindString:
		switch s := d.str(v); strings.ToLower(s) {
		case "enabled", "enable":
			return options.UnlimitedJetStream()
		case "disabled", "disable":
			return nil
		default:
			d.errorf(v.Pos, "Expected 'enabled' or 'disabled' for string value, got '%s'", s)
			return nil
		}
	case conf.KindMap:
	default:
		d.errorf(v.Pos, "Expected map, bool or string to define JetStream, got %s", v.Kind)
		return nil
	}
	m, _ := v.AsMap()
	js := options.UnlimitedJetStream()
	limit := func(e conf.Entry) int64 {
		if e.Value.Kind != conf.KindInt {
			d.errorf(e.Value.Pos, "Expected a parseable size for %q, got %s", e.Key, e.Value.Kind)
			return -1
		}
		n := d.integer(e.Value)
		if n < -1 {
			d.errorf(e.Value.Pos, "%s must be -1 (no limit) or more, got %d", e.Key, n)
			return -1
		}
		return n
	}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "max_memory", "max_mem", "mem", "memory":
			js.MaxMemory = limit(e)
		case "max_store", "max_file", "max_disk", "store", "disk":
			js.MaxStore = limit(e)
		case "max_streams", "streams":
			js.MaxStreams = int(limit(e))
		case "max_consumers", "consumers":
			js.MaxConsumers = int(limit(e))
		default:
			d.unknown(&accountJetStreamBlock, e)
		}
	}
	return js
}

// exports reads an account's exports: an array of {stream|service,
// accounts, response_type, response_threshold, allow_trace}.
func (d *decoder) exports(account string, v *conf.Value) []options.Export {
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "Exports should be an array, got %s", v.Kind)
		return nil
	}
	var out []options.Export
	for _, xv := range arr {
		if xv.Kind != conf.KindMap {
			d.errorf(xv.Pos, "Export Items should be a map with type entry, got %s", xv.Kind)
			continue
		}
		if x, ok := d.export(xv); ok {
			d.acct.add(account, "export", xv.Pos)
			out = append(out, x)
		}
	}
	return out
}

func (d *decoder) export(xv *conf.Value) (options.Export, bool) {
	m, _ := xv.AsMap()
	var x options.Export
	ok := true
	var respSeen, threshSeen bool
	for _, e := range m.Entries() {
		v := e.Value
		switch strings.ToLower(e.Key) {
		case "stream", "service":
			if v.Kind != conf.KindString {
				d.errorf(v.Pos, "Expected %s name to be string, got %s", strings.ToLower(e.Key), v.Kind)
				ok = false
				continue
			}
			if x.Stream != "" || x.Service != "" {
				d.errorf(e.KeyPos, "Detected %s %q but already saw a %s", strings.ToLower(e.Key), d.str(v), exportKind(&x))
				ok = false
				continue
			}
			if strings.EqualFold(e.Key, "stream") {
				x.Stream = d.str(v)
			} else {
				x.Service = d.str(v)
			}
		case "accounts":
			x.Accounts = d.accountList(v)
		case "response", "response_type":
			if respSeen {
				d.errorf(e.KeyPos, "Duplicate response type definition")
				ok = false
				continue
			}
			respSeen = true
			if v.Kind != conf.KindString {
				d.errorf(v.Pos, "Expected response type to be string, got %s", v.Kind)
				ok = false
				continue
			}
			rt, known := responseTypes[strings.ToLower(d.str(v))]
			if !known {
				d.errorf(v.Pos, "Unknown response type: %q", d.str(v))
				ok = false
				continue
			}
			x.ResponseType = rt
		case "threshold", "response_threshold", "response_max_time", "response_time":
			if threshSeen {
				d.errorf(e.KeyPos, "Duplicate response threshold detected")
				ok = false
				continue
			}
			threshSeen = true
			dur, err := time.ParseDuration(d.str(v))
			if v.Kind != conf.KindString || err != nil {
				d.errorf(v.Pos, "Expected response threshold to be a parseable time duration, got %s", v.Kind)
				ok = false
				continue
			}
			x.ResponseThreshold = dur
		case "allow_trace":
			x.AllowTrace = d.boolean(v)
		default:
			d.unknown(&exportBlock, e)
		}
	}
	if x.Stream != "" && (x.ResponseType != "" || x.ResponseThreshold != 0) {
		d.errorf(xv.Pos, "Detected response directive on non-service")
		ok = false
	}
	if x.Stream != "" && x.AllowTrace {
		d.errorf(xv.Pos, "Detected allow_trace directive on non-service")
		ok = false
	}
	return x, ok
}

func exportKind(x *options.Export) string {
	if x.Stream != "" {
		return "stream"
	}
	return "service"
}

var responseTypes = map[string]string{
	"single": options.ResponseSingleton, "singleton": options.ResponseSingleton,
	"stream": options.ResponseStream,
	"chunk":  options.ResponseChunked, "chunked": options.ResponseChunked,
}

// accountList reads an export's accounts: an array of names.
func (d *decoder) accountList(v *conf.Value) []string {
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "accounts: expected an array of account names, got %s", v.Kind)
		return nil
	}
	// An empty list is a public export in nats-server's file (its parser
	// leaves the list nil), not one nobody may import.
	var out []string
	for _, av := range arr {
		out = append(out, d.str(av))
	}
	return out
}

// imports reads an account's imports: an array of {stream|service:
// {account, subject}, prefix, to, share, allow_trace}.
func (d *decoder) imports(account string, v *conf.Value) []options.Import {
	arr, err := v.AsArray()
	if err != nil {
		d.errorf(v.Pos, "Imports should be an array, got %s", v.Kind)
		return nil
	}
	var out []options.Import
	for _, iv := range arr {
		if iv.Kind != conf.KindMap {
			d.errorf(iv.Pos, "Import Items should be a map with type entry, got %s", iv.Kind)
			continue
		}
		if im, ok := d.importItem(iv); ok {
			d.acct.add(account, "import", iv.Pos)
			out = append(out, im)
		}
	}
	return out
}

func (d *decoder) importItem(iv *conf.Value) (options.Import, bool) {
	m, _ := iv.AsMap()
	var im options.Import
	ok := true
	var share, trace bool
	var tracePos conf.Pos
	for _, e := range m.Entries() {
		v := e.Value
		switch key := strings.ToLower(e.Key); key {
		case "stream", "service":
			if im.Stream != nil || im.Service != nil {
				d.errorf(e.KeyPos, "Detected %s but already saw a %s", key, map[bool]string{true: "stream", false: "service"}[im.Stream != nil])
				ok = false
				continue
			}
			src := d.importSource(key, v)
			if src == nil {
				ok = false
				continue
			}
			if key == "stream" {
				im.Stream = src
			} else {
				im.Service = src
			}
		case "prefix":
			im.Prefix = d.str(v)
		case "to":
			im.To = d.str(v)
		case "share":
			share = d.boolean(v)
		case "allow_trace":
			trace, tracePos = d.boolean(v), e.KeyPos
		default:
			d.unknown(&importBlock, e)
		}
	}
	switch {
	case im.Stream != nil:
		// nats-server ignores share on a stream import.
		im.AllowTrace = trace
		if im.Prefix != "" && im.To != "" {
			d.errorf(iv.Pos, "Stream import can not have a 'prefix' and a 'to' property")
			ok = false
		}
	case im.Service != nil:
		// nats-server ignores prefix on a service import.
		im.Share, im.Prefix = share, ""
		if trace {
			d.errorf(tracePos, "Detected allow_trace directive on a non-stream")
			ok = false
		}
	}
	return im, ok
}

// importSource reads {account, subject}.
func (d *decoder) importSource(kind string, v *conf.Value) *options.ImportSource {
	m, err := v.AsMap()
	if err != nil {
		d.errorf(v.Pos, "%s entry should be an account map, got %s", strings.ToUpper(kind[:1])+kind[1:], v.Kind)
		return nil
	}
	src := &options.ImportSource{}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "account":
			src.Account = d.str(e.Value)
		case "subject":
			src.Subject = d.str(e.Value)
		default:
			d.unknown(&importSourceBlock, e)
		}
	}
	if src.Account == "" || src.Subject == "" {
		d.errorf(v.Pos, "Expect an account name and a subject")
		return nil
	}
	return src
}

// mappings reads a mappings block: each source subject maps to a subject,
// to a destination block {destination, weight, cluster}, or to an array
// of them.
func (d *decoder) mappings(account string, v *conf.Value) []options.Mapping {
	m, err := v.AsMap()
	if err != nil {
		d.errorf(v.Pos, "mappings: expected a map of subjects, got %s", v.Kind)
		return nil
	}
	var out []options.Mapping
	for _, e := range m.Entries() {
		if e.Referenced {
			continue
		}
		mp := options.Mapping{Subject: e.Key}
		mv := e.Value
		switch mv.Kind {
		case conf.KindString:
			mp.Destinations = []options.MapDest{{Subject: d.str(mv), Weight: 100}}
		case conf.KindMap:
			dest, ok := d.mapDest(mv)
			if !ok {
				continue
			}
			mp.Destinations = []options.MapDest{dest}
		case conf.KindArray:
			arr, _ := mv.AsArray()
			all := true
			for _, dv := range arr {
				dest, ok := d.mapDest(dv)
				all = all && ok
				mp.Destinations = append(mp.Destinations, dest)
			}
			if !all {
				continue
			}
		default:
			d.errorf(mv.Pos, "Unknown type %s for mapping destination", mv.Kind)
			continue
		}
		d.acct.add(account, "mapping", e.KeyPos)
		out = append(out, mp)
	}
	return out
}

func (d *decoder) mapDest(v *conf.Value) (options.MapDest, bool) {
	var dest options.MapDest
	m, err := v.AsMap()
	if err != nil {
		d.errorf(v.Pos, "Expected an entry for the mapping destination")
		return dest, false
	}
	weightSeen, ok := false, true
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "dest", "destination":
			dest.Subject = d.str(e.Value)
		case "weight":
			weightSeen = true
			w, good := d.weight(e.Value)
			dest.Weight, ok = w, ok && good
		case "cluster":
			dest.Cluster = d.str(e.Value)
			d.notImplemented(&mapDestBlock, e, "cluster-scoped subject mappings")
			ok = false
		default:
			d.unknown(&mapDestBlock, e)
		}
	}
	if !weightSeen {
		d.errorf(v.Pos, "Missing weight for mapping destination %q", dest.Subject)
		ok = false
	}
	return dest, ok
}

// weight reads a percentage: 50 or "50%".
func (d *decoder) weight(v *conf.Value) (int, bool) {
	var n int64
	switch v.Kind {
	case conf.KindInt:
		n = d.integer(v)
	case conf.KindString:
		s := strings.TrimSuffix(d.str(v), "%")
		w, err := strconv.Atoi(s)
		if err != nil {
			d.errorf(v.Pos, "Invalid weight %q for mapping destination", s)
			return 0, false
		}
		n = int64(w)
	default:
		d.errorf(v.Pos, "Unknown entry type for weight of %s", v.Kind)
		return 0, false
	}
	if n < 0 || n > 100 {
		d.errorf(v.Pos, "Invalid weight %d for mapping destination", n)
		return 0, false
	}
	return int(n), true
}

// systemAccount reads system_account (or system).
func (d *decoder) systemAccount(v *conf.Value) {
	d.acct.systemAccount = v.Pos
	if v.Kind != conf.KindString {
		d.errorf(v.Pos, "system account name must be a string")
		return
	}
	d.cfg.Opts.SystemAccount = d.str(v)
}

// checkAccounts runs, once the whole file is read, the checks that span
// blocks: users across the authorization block and the accounts, then
// (when the file is otherwise sound, as nats-server bails before adding
// imports) exports, imports and mappings, each error at its item.
func (d *decoder) checkAccounts() {
	o := &d.cfg.Opts
	inAccounts := false
	for _, u := range d.acct.users {
		inAccounts = inAccounts || u.account != ""
	}
	if inAccounts {
		seen := map[string]bool{}
		for _, u := range d.acct.users {
			if seen[u.name] {
				kind := "user"
				if u.nkey {
					kind = "nkey"
				}
				d.errorf(u.pos, "Duplicate %s %q detected", kind, u.name)
			}
			seen[u.name] = true
		}
		if o.Username != "" {
			d.errorf(d.acct.block, "Can not have a single user/pass and accounts")
		}
		if o.Authorization != "" {
			d.errorf(d.acct.block, "Can not have a token and accounts")
		}
	}
	if len(d.errs) > 0 {
		return
	}
	for _, err := range o.ValidateAccounts() {
		var ae *options.AccountError
		if errors.As(err, &ae) {
			if ps := d.acct.items[itemKey(ae.Account, ae.Item)]; ae.Index < len(ps) {
				d.errorf(ps[ae.Index], "%v", ae.Err)
				continue
			}
		}
		pos := d.acct.block
		if strings.Contains(err.Error(), "system account") {
			pos = d.acct.systemAccount
		}
		d.errorf(pos, "%v", err)
	}
}
