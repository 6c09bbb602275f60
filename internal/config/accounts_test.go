package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
)

const accountsConf = `
accounts {
  ORDERS: {
    users: [
      {user: alice, password: a}
      {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, permissions: {publish: "x"}}
    ]
    default_permissions: {subscribe: "orders.>"}
    exports: [
      {stream: "orders.events.>"}
      {service: "orders.get", accounts: [BILLING], response_type: stream, response_threshold: "5s", allow_trace: true}
    ]
    jetstream: {max_memory: 1GB, max_file: 10GB, max_streams: 10}
    mappings: {"orders.old": "orders.new"}
  }
  BILLING: {
    users: [{user: bob, password: b}]
    imports: [
      {stream: {account: ORDERS, subject: "orders.events.>"}, prefix: "from_orders"}
      {service: {account: ORDERS, subject: "orders.get"}, to: "get.order", share: true}
    ]
    jetstream: enabled
  }
  EMPTY: {}
}
system_account: BILLING
mappings: {
  "a.*": [{destination: "b.{{wildcard(1)}}", weight: 40%}, {destination: "c.$1", weight: 60}]
  "single": {dest: "one", weight: 100}
}
authorization { users: [{user: global, password: g}] }
no_auth_user: bob
`

func TestAccountsBlock(t *testing.T) {
	c := mustLoad(t, accountsConf)
	o := &c.Opts
	want := []options.AccountOptions{
		{
			Name:               "ORDERS",
			DefaultPermissions: &auth.Permissions{Subscribe: &auth.SubjectPermission{Allow: []string{"orders.>"}}},
			Exports: []options.Export{
				{Stream: "orders.events.>"},
				{Service: "orders.get", Accounts: []string{"BILLING"}, ResponseType: options.ResponseStream,
					ResponseThreshold: 5 * time.Second, AllowTrace: true},
			},
			JetStream: &options.AccountJetStream{MaxMemory: 1 << 30, MaxStore: 10 << 30, MaxStreams: 10, MaxConsumers: -1},
			Mappings:  []options.Mapping{{Subject: "orders.old", Destinations: []options.MapDest{{Subject: "orders.new", Weight: 100}}}},
		},
		{
			Name: "BILLING",
			Imports: []options.Import{
				{Stream: &options.ImportSource{Account: "ORDERS", Subject: "orders.events.>"}, Prefix: "from_orders"},
				{Service: &options.ImportSource{Account: "ORDERS", Subject: "orders.get"}, To: "get.order", Share: true},
			},
			JetStream: options.UnlimitedJetStream(),
		},
		{Name: "EMPTY"},
	}
	if !reflect.DeepEqual(o.Accounts, want) {
		t.Errorf("accounts:\n got %+v\nwant %+v", o.Accounts, want)
	}
	if o.SystemAccount != "BILLING" {
		t.Errorf("system account %q", o.SystemAccount)
	}
	wantMaps := []options.Mapping{
		{Subject: "a.*", Destinations: []options.MapDest{{Subject: "b.{{wildcard(1)}}", Weight: 40}, {Subject: "c.$1", Weight: 60}}},
		{Subject: "single", Destinations: []options.MapDest{{Subject: "one", Weight: 100}}},
	}
	if !reflect.DeepEqual(o.Mappings, wantMaps) {
		t.Errorf("mappings %+v", o.Mappings)
	}
	users := map[string]string{}
	for _, u := range o.Users {
		users[u.Username] = u.Account
	}
	for _, n := range o.Nkeys {
		users[n.Nkey] = n.Account
	}
	wantUsers := map[string]string{"alice": "ORDERS", "bob": "BILLING", "global": "",
		"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4": "ORDERS"}
	if !reflect.DeepEqual(users, wantUsers) {
		t.Errorf("users %v, want %v", users, wantUsers)
	}
	if o.NoAuthUser != "bob" {
		t.Errorf("no_auth_user %q", o.NoAuthUser)
	}
}

// TestAccountsValid: the whole file, JetStream in accounts included,
// passes the checks.
func TestAccountsValid(t *testing.T) {
	c := mustLoad(t, accountsConf)
	c.Opts.SetDefaults()
	if err := c.Opts.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestAccountForms(t *testing.T) {
	tests := []struct {
		text string
		ok   func(*options.Options) bool
	}{
		{"accounts: [A, B]", func(o *options.Options) bool {
			return len(o.Accounts) == 2 && o.Accounts[0].Name == "A" && o.Accounts[1].Name == "B"
		}},
		{"accounts { A { jetstream: true } }", func(o *options.Options) bool {
			return reflect.DeepEqual(o.Accounts[0].JetStream, options.UnlimitedJetStream())
		}},
		{"accounts { A { jetstream: disabled } }", func(o *options.Options) bool { return o.Accounts[0].JetStream == nil }},
		{"accounts { A { jetstream: {mem: 5, disk: 6, streams: 7, consumers: 8} } }", func(o *options.Options) bool {
			return *o.Accounts[0].JetStream == options.AccountJetStream{MaxMemory: 5, MaxStore: 6, MaxStreams: 7, MaxConsumers: 8}
		}},
		{"accounts { A { exports: [{service: s, response: chunk}] } }", func(o *options.Options) bool {
			return o.Accounts[0].Exports[0].ResponseType == options.ResponseChunked
		}},
		{"accounts { A { exports: [{accounts: [A], stream: s}] } }", func(o *options.Options) bool {
			return reflect.DeepEqual(o.Accounts[0].Exports[0].Accounts, []string{"A"})
		}},
		{"system: \"$SYS\"\naccounts { $SYS { users: [{user: admin, password: x}] } }", func(o *options.Options) bool {
			return o.SystemAccount == "$SYS" && o.Users[0].Account == "$SYS"
		}},
		// nats-server ignores share on a stream and prefix on a service.
		{"accounts { A { exports: [{stream: s}, {service: v}] }, B { imports: [{stream: {account: A, subject: s}, share: true}, {service: {account: A, subject: v}, prefix: p}] } }",
			func(o *options.Options) bool {
				return !o.Accounts[1].Imports[0].Share && o.Accounts[1].Imports[1].Prefix == ""
			}},
		{"accounts { A { exports: [{service: \"q.>\", accounts: []}] }, B { imports: [{service: {account: A, subject: q.x}}] } }",
			func(o *options.Options) bool { return o.Accounts[0].Exports[0].Accounts == nil }},
		{"maps { a: b }", func(o *options.Options) bool {
			return o.Mappings[0].Destinations[0] == options.MapDest{Subject: "b", Weight: 100}
		}},
		{"V = 5\naccounts { A { jetstream { max_streams: $V } } }", func(o *options.Options) bool { return o.Accounts[0].JetStream.MaxStreams == 5 }},
	}
	for _, tt := range tests {
		c, err := load(t, tt.text)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if !tt.ok(&c.Opts) {
			t.Errorf("%q: got %+v", tt.text, c.Opts.Accounts)
		}
	}
}

func TestAccountErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"accounts { $G {} }", `nats.conf:1:12: "$G" is a Reserved Account`},
		{"accounts: [A, A]", `nats.conf:1:15: Duplicate Account Entry: A`},
		{"accounts { A: 5 }", `nats.conf:1:15: Expected map entries for accounts`},
		{"accounts { A { user: [] } }", `nats.conf:1:16: unknown field "user" in account (did you mean users?)`},
		{"accounts { A { nkey: ABC } }", `not implemented by Starling: "nkey" in account`},
		{"accounts { A { msg_trace: x } }", `not implemented by Starling: "msg_trace" in account`},
		{"accounts { A { jetstream: maybe } }", `Expected 'enabled' or 'disabled' for string value, got 'maybe'`},
		{"accounts { A { jetstream: {max_mem: \"lots\"} } }", `Expected a parseable size for "max_mem"`},
		{"accounts { A { jetstream: {max_ack_pending: 5} } }", `not implemented by Starling: "max_ack_pending" in account jetstream`},
		{"accounts { A { jetstream: {max_streem: 5} } }", `unknown field "max_streem" in account jetstream (did you mean max_streams?)`},
		{"accounts { A { exports: {stream: s} } }", `Exports should be an array`},
		{"accounts { A { exports: [s] } }", `Export Items should be a map with type entry`},
		{"accounts { A { exports: [{stream: s, service: v}] } }", `Detected service "v" but already saw a stream`},
		{"accounts { A { exports: [{stream: s, response_type: stream}] } }", `Detected response directive on non-service`},
		{"accounts { A { exports: [{service: s, response_type: many}] } }", `Unknown response type: "many"`},
		{"accounts { A { exports: [{service: s, response_threshold: \"soon\"}] } }", `Expected response threshold to be a parseable time duration`},
		{"accounts { A { exports: [{stream: s, allow_trace: true}] } }", `Detected allow_trace directive on non-service`},
		{"accounts { A { exports: [{service: s, latency: lat}] } }", `not implemented by Starling: "latency" in export (service latency tracking)`},
		{"accounts { A { exports: [{stream: s, accounts: [B]}] } }", `nats.conf:1:26: "B" account not defined for stream export`},
		{"accounts { A { exports: [{stream: \"a..b\"}] } }", `Error adding stream export "a..b": invalid subject`},
		{"accounts { A { imports: [{stream: {account: B, subject: s}}] } }", `nats.conf:1:26: "B" account not defined for stream import`},
		{"accounts { A { imports: [{stream: {account: B}}] } }", `Expect an account name and a subject`},
		{"accounts { A { imports: [{stream: {acount: B, subject: s}}] } }", `unknown field "acount" in import source (did you mean account?)`},
		{"accounts { A { imports: [{service: {account: B, subject: s}, allow_trace: true}] } }", `Detected allow_trace directive on a non-stream`},
		{"accounts { A { imports: [{stream: {account: B, subject: s}, prefix: p, to: t}] } }", `Stream import can not have a 'prefix' and a 'to' property`},
		{"accounts { A {}, B { imports: [{stream: {account: A, subject: s}}] } }", `Error adding stream import "s": stream import not authorized`},
		{"accounts { A { exports: [{service: s, accounts: [C]}] }, B { imports: [{service: {account: A, subject: s}}] }, C {} }",
			`Error adding service import "s": service import not authorized`},
		{"accounts { A { exports: [{stream: \">\"}] }, B { imports: [{stream: {account: A, subject: s}, prefix: \"p.*\"}] } }",
			`stream import prefix can not contain wildcard tokens`},
		{"accounts {\n A { exports: [{service: a}], imports: [{service: {account: B, subject: b}, to: a}] }\n B { exports: [{service: b}], imports: [{service: {account: A, subject: a}, to: b}] }\n}",
			`Error adding service import "a": import forms a cycle`},
		{"accounts { A { exports: [{service: a}, {service: b}] }, B { imports: [{service: {account: A, subject: a}, to: x}, {service: {account: A, subject: b}, to: x}] } }",
			`Duplicate service import subject "x", previously used in import for account "A", subject "a"`},
		{"accounts { A { users: [{user: u}] }, B { users: [{user: u}] } }", `Duplicate user "u" detected`},
		{"authorization { users: [{user: u}] }\naccounts { A { users: [{user: u}] } }", `nats.conf:2:16: Duplicate user "u" detected`},
		{"authorization { user: a, password: b }\naccounts { A { users: [{user: u}] } }", `nats.conf:2:1: Can not have a single user/pass and accounts`},
		{"authorization { token: t }\naccounts { A { users: [{user: u}] } }", `Can not have a token and accounts`},
		{"accounts { A {} }\nsystem_account: B", `nats.conf:2:17: error resolving system account`},
		{"system_account: 5", `system account name must be a string`},
		{"mappings { \"a..b\": c }", `Subject "a..b" is not a valid subject`},
		{"mappings { a: [{destination: b, weight: 60}, {destination: c, weight: 50}] }", `Error adding mapping for "a" : total weight needs to be <= 100`},
		{"mappings { a: [{destination: b, weight: 10}, {destination: b, weight: 10}] }", `duplicate entry for "b"`},
		{"mappings { a: {destination: b} }", `Missing weight for mapping destination "b"`},
		{"mappings { a: {destination: b, weight: 101} }", `Invalid weight 101 for mapping destination`},
		{"mappings { a: {destination: b, weight: \"x%\"} }", `Invalid weight "x" for mapping destination`},
		{"mappings { a: {destination: b, weight: 100, cluster: east} }", `not implemented by Starling: "cluster" in mapping destination`},
		{"mappings { a: {destination: b, wieght: 100} }", `unknown field "wieght" in mapping destination (did you mean weight?)`},
		{"mappings { \"a.*\": \"b.$2\" }", `nats.conf:1:12: Error adding mapping for "a.*" to "b.$2" : invalid mapping destination: wildcard index out of range in $2: [2]`},
		{"mappings { a: 5 }", `Unknown type`},
		{"operator: x", `not implemented by Starling: "operator"`},
		{"resolver: MEMORY", `not implemented by Starling: "resolver"`},
	}
	for _, tt := range tests {
		_, err := load(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n error %v\n want it to contain %q", tt.text, err, tt.want)
		}
	}
}
