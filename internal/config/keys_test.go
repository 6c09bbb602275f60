package config

import (
	"errors"
	"strings"
	"testing"
)

// natsServerKeys are the keys nats-server (2.11 and 2.15) accepts in each
// block Starling reads, with every alias, from its option parser. Each must
// be implemented or reported as not implemented: never "unknown".
var natsServerKeys = map[string][]string{
	"": {"listen", "client_advertise", "port", "server_name", "host", "net", "debug", "trace", "trace_verbose",
		"trace_headers", "logtime", "logtime_utc", "mappings", "maps", "disable_sublist_cache", "no_sublist_cache",
		"accounts", "default_sentinel", "authorization", "http", "https", "http_port", "monitor_port", "https_port",
		"http_base_path", "cluster", "gateway", "leaf", "leafnodes", "store_dir", "storedir", "jetstream",
		"logfile", "log_file", "logfile_size_limit", "log_size_limit", "logfile_max_num", "log_max_num", "syslog",
		"remote_syslog", "pidfile", "pid_file", "ports_file_dir", "prof_port", "prof_block_rate", "max_control_line",
		"max_payload", "max_pending", "proxy_protocol", "max_connections", "max_conn", "max_traced_msg_len",
		"max_subscriptions", "max_subs", "max_sub_tokens", "max_subscription_tokens", "ping_interval", "ping_max",
		"tls", "ocsp", "allow_non_tls", "write_deadline", "write_timeout", "lame_duck_duration",
		"lame_duck_grace_period", "operator", "operators", "roots", "root", "root_operators", "root_operator",
		"resolver", "account_resolver", "accounts_resolver", "resolver_tls", "resolver_preload",
		"resolver_pinned_accounts", "no_auth_user", "system_account", "system", "no_system_account", "no_system",
		"no_sys_acc", "no_header_support", "trusted", "trusted_keys", "connect_error_reports",
		"reconnect_error_reports", "websocket", "ws", "mqtt", "server_tags", "server_metadata", "feature_flags",
		"default_js_domain", "ocsp_cache", "no_fast_producer_stall", "max_closed_clients", "proxies"},
	"authorization": {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
		"default_permissions", "permissions", "auth_callout", "auth_hook", "proxy_required"},
	"user entry": {"nkey", "user", "username", "pass", "password", "permission", "permissions", "authorization",
		"allowed_connection_types", "connection_types", "clients", "proxy_required"},
	"permissions":         {"pub", "publish", "import", "sub", "subscribe", "export", "publish_allow_responses", "allow_responses"},
	"cluster permissions": {"pub", "publish", "import", "sub", "subscribe", "export", "publish_allow_responses", "allow_responses"},
	"subject permissions": {"allow", "deny"},
	"allow_responses":     {"max", "max_msgs", "max_messages", "max_responses", "expires", "expiration", "ttl"},
	"tls": {"cert_file", "key_file", "ca_file", "insecure", "verify", "verify_and_map",
		"verify_cert_and_check_known_urls", "allow_insecure_cipher_suites", "cipher_suites", "curve_preferences",
		"timeout", "connection_rate_limit", "pinned_certs", "cert_store", "cert_match_by", "cert_match",
		"ca_certs_match", "handshake_first", "first", "immediate", "cert_match_skip_invalid", "ocsp_peer", "certs",
		"certificates", "min_version"},
	"cluster": {"name", "listen", "port", "host", "net", "authorization", "routes", "tls", "cluster_advertise",
		"advertise", "no_advertise", "connect_retries", "connect_backoff", "permissions", "pool_size", "accounts",
		"compression", "ping_interval", "ping_max", "write_deadline", "write_timeout"},
	"cluster authorization": {"user", "username", "pass", "password", "token", "timeout", "users", "default_permission",
		"default_permissions", "permissions", "auth_callout", "auth_hook", "proxy_required"},
	"cluster tls": {"cert_file", "key_file", "ca_file", "insecure", "verify", "verify_and_map",
		"verify_cert_and_check_known_urls", "allow_insecure_cipher_suites", "cipher_suites", "curve_preferences",
		"timeout", "connection_rate_limit", "pinned_certs", "cert_store", "cert_match_by", "cert_match",
		"ca_certs_match", "handshake_first", "first", "immediate", "cert_match_skip_invalid", "ocsp_peer", "certs",
		"certificates", "min_version"},
	"compression": {"mode", "rtt_thresholds", "thresholds", "rtts", "rtt"},
	"jetstream": {"enabled", "enable", "disabled", "disable", "strict", "store", "store_dir", "storedir", "sync",
		"sync_interval", "max_memory_store", "max_mem_store", "max_mem", "max_file_store", "max_file", "domain",
		"key", "ek", "encryption_key", "prev_key", "prev_ek", "prev_encryption_key", "cipher", "extension_hint",
		"limits", "tpm", "unique_tag", "max_outstanding_catchup", "max_buffered_size", "max_buffered_msgs",
		"request_queue_limit", "info_queue_limit", "meta_compact", "meta_compact_size", "meta_compact_sync",
		"max_concurrent_io"},
}

// blocks maps a block name to its table and to a configuration that puts
// a key (written as KEY) with a value in that block.
var blocks = map[string]struct {
	b    *block
	wrap string
}{
	"":                      {&topBlock, "KEY: 1"},
	"authorization":         {&authorizationBlock, "authorization { KEY: 1 }"},
	"user entry":            {&userBlock, "authorization { users: [ {user: u, KEY: 1} ] }"},
	"permissions":           {&permissionsBlock, "authorization { users: [ {user: u, permissions: {KEY: 1}} ] }"},
	"subject permissions":   {&subjectPermissionBlock, "authorization { users: [ {user: u, permissions: {publish: {KEY: 1}}} ] }"},
	"allow_responses":       {&responsesBlock, "authorization { users: [ {user: u, permissions: {allow_responses: {KEY: 1}}} ] }"},
	"tls":                   {&tlsBlock, "tls { KEY: 1 }"},
	"jetstream":             {&jetstreamBlock, "jetstream { KEY: 1 }"},
	"cluster":               {&clusterBlock, "cluster { KEY: 1 }"},
	"cluster permissions":   {&permissionsBlock, "cluster { permissions { KEY: 1 } }"},
	"cluster authorization": {&clusterAuthorizationBlock, "cluster { authorization { KEY: 1 } }"},
	"cluster tls":           {&clusterTLSBlock, "cluster { tls { KEY: 1 } }"},
	"compression":           {&compressionBlock, "cluster { compression { KEY: 1 } }"},
}

// keyErrors loads text and returns the unknown-field and not-implemented
// errors it produced.
func keyErrors(t *testing.T, text string) (unknown []*UnknownFieldError, notImpl []*NotImplementedError) {
	t.Helper()
	_, err := load(t, text)
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var u *UnknownFieldError
		var n *NotImplementedError
		switch {
		case errors.As(err, &u):
			unknown = append(unknown, u)
		case errors.As(err, &n):
			notImpl = append(notImpl, n)
		}
	}
	walk(err)
	return unknown, notImpl
}

// TestEveryNatsServerKeyIsKnown: no key nats-server accepts is "unknown"
// to Starling, in any block, and every key is in exactly one of the
// block's lists.
func TestEveryNatsServerKeyIsKnown(t *testing.T) {
	for name, keys := range natsServerKeys {
		bl, ok := blocks[name]
		if !ok {
			t.Fatalf("no block %q", name)
		}
		for _, key := range keys {
			t.Run(name+"/"+key, func(t *testing.T) {
				known := contains(bl.b.known, key)
				_, notImpl := bl.b.notImplemented[key]
				if known == notImpl {
					t.Fatalf("%q is known=%v and not-implemented=%v; want exactly one", key, known, notImpl)
				}
				unknown, ni := keyErrors(t, strings.Replace(bl.wrap, "KEY", key, 1))
				if len(unknown) > 0 {
					t.Fatalf("reported unknown: %v", unknown[0])
				}
				if notImpl && (len(ni) == 0 || ni[0].Key != key) {
					t.Fatalf("not reported as not implemented: %v", ni)
				}
			})
		}
	}
}

// TestKnownKeysAreHandled: every key a block lists as read is handled by
// its decoder (a listed key the decoder forgot would come back unknown).
func TestKnownKeysAreHandled(t *testing.T) {
	for name, bl := range blocks {
		for _, key := range bl.b.known {
			unknown, ni := keyErrors(t, strings.Replace(bl.wrap, "KEY", key, 1))
			if len(unknown) > 0 || len(ni) > 0 && ni[0].Key == key {
				t.Errorf("%s/%s: unknown %v, not implemented %v", name, key, unknown, ni)
			}
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"port: 4222\nmax_paylod: 1MB", `nats.conf:2:1: unknown field "max_paylod" (did you mean max_payload?)`},
		{"Max_Paylod: 1MB", `unknown field "Max_Paylod" (did you mean max_payload?)`},
		{"ping_intervall: \"1m\"", `(did you mean ping_interval?)`},
		{"jetstrem: true", `(did you mean jetstream?)`},
		{"clustr { }", `unknown field "clustr" (did you mean cluster?)`},
		{"frobnicate: 1", `nats.conf:1:1: unknown field "frobnicate"`},
		{"authorization {\n  tokn: x\n}", `nats.conf:2:3: unknown field "tokn" in authorization (did you mean token?)`},
		{"authorization { users: [ {user: a, pasword: b} ] }", `unknown field "pasword" in user entry (did you mean password?)`},
		{"authorization { users: [ {user: a, permissions: {publsh: x}} ] }", `unknown field "publsh" in permissions (did you mean publish?)`},
		{"authorization { users: [ {user: a, permissions: {publish: {allw: x}}} ] }", `unknown field "allw" in subject permissions (did you mean allow?)`},
		{"authorization { users: [ {user: a, permissions: {allow_responses: {expire: \"1s\"}}} ] }", `(did you mean expires?)`},
		{"tls {\n  cert_fil: x\n}", `nats.conf:2:3: unknown field "cert_fil" in tls (did you mean cert_file?)`},
		{"jetstream { max_memory_stor: 1GB }", `unknown field "max_memory_stor" in jetstream (did you mean max_memory_store?)`},
		{"jetstream { stor_dir: /x }", `(did you mean store_dir?)`},
		{"cluster {\n  rotes: []\n}", `nats.conf:2:3: unknown field "rotes" in cluster (did you mean routes?)`},
		{"cluster { authorization { usr: a } }", `unknown field "usr" in cluster authorization (did you mean user?)`},
		{"cluster { tls { insecur: true } }", `unknown field "insecur" in cluster tls (did you mean insecure?)`},
		{"cluster { compression { mod: off } }", `unknown field "mod" in compression (did you mean mode?)`},
	}
	for _, tt := range tests {
		_, err := load(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestNotImplementedKeys(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"cluster {\n  compression: s2_fast\n}", `nats.conf:2:3: not implemented by Starling: "compression" in cluster (route compression s2_fast; Starling supports off and accept)`},
		{"cluster { write_timeout: retry }", `"write_timeout" in cluster (write timeout policies)`},
		{"cluster { authorization { proxy_required: true } }", `"proxy_required" in cluster authorization (trusted proxies)`},
		{"cluster { tls { pinned_certs: [] } }", `"pinned_certs" in cluster tls (pinned client certificates)`},
		{"cluster { tls { verify_cert_and_check_known_urls: true } }", `(checking peer certificates against known URLs)`},
		{"websocket { port: 8080 }", `"websocket" (WebSocket)`},
		{"max_traced_msg_len: 100", `"max_traced_msg_len" (truncating traced messages)`},
		{"disable_sublist_cache: true", `"disable_sublist_cache" (turning the subscription cache off)`},
		{"no_system_account: false", `"no_system_account" (the system account)`},
		{"jetstream {\n  cipher: chachapoly\n}", `nats.conf:2:3: not implemented by Starling: "cipher" in jetstream (encryption at rest)`},
		{"tls { pinned_certs: [] }", `"pinned_certs" in tls (pinned client certificates)`},
		{"authorization { auth_callout { issuer: x } }", `"auth_callout" in authorization (auth callout)`},
		{"authorization { users: [ {user: a, allowed_connection_types: [\"WEBSOCKET\"]} ] }", `"allowed_connection_types" in user entry`},
	}
	for _, tt := range tests {
		_, err := load(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%q: reported as unknown: %v", tt.text, err)
		}
	}
}

// TestAllProblemsReported: one load reports every problem, each with its
// position, unknown and not implemented alike.
func TestAllProblemsReported(t *testing.T) {
	unknown, ni := keyErrors(t, "max_paylod: 1\nmqtt { port: 1883 }\ntls { cert_fil: x }\nsyslog: true\n")
	if len(unknown) != 2 || len(ni) != 2 {
		t.Fatalf("unknown %v, not implemented %v", unknown, ni)
	}
	if unknown[0].Pos.Line != 1 || unknown[1].Pos.Line != 3 || ni[0].Pos.Line != 2 || ni[1].Pos.Line != 4 {
		t.Fatalf("positions: %v %v", unknown, ni)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"max_paylod", "max_payload", 1},
		{"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0},
		{"prot", "port", 1}, {"ab", "ba", 1}, {"ca", "abc", 3},
		{strings.Repeat("a", 65), "a", 1 << 10},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		b         *block
		key, want string
	}{
		{&topBlock, "max_paylod", "max_payload"},
		{&topBlock, "prot", "port"},
		{&topBlock, "xyz", ""}, // nothing close
		{&topBlock, "por", "port"},
		{&topBlock, "po", ""}, // too short to guess
		{&topBlock, "debgu", "debug"},
		{&topBlock, "leafnode", "leafnodes"},
		{&tlsBlock, "verfy", "verify"},
		{&jetstreamBlock, "max_file_stor", "max_file_store"},
	}
	for _, tt := range tests {
		if got := tt.b.suggest(tt.key); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
