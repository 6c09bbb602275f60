package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/starling-mq/starling/internal/conf"
)

// block lists the keys of one configuration block: those Starling reads
// (every alias the block's decoder handles), and those nats-server accepts
// that Starling does not implement, each with the feature it belongs to.
// Every key nats-server accepts in a block is in one list or the other, so
// a key in neither is a typo or a key from some other program, and is
// refused with a suggestion.
type block struct {
	name           string // "" for the top level
	known          []string
	notImplemented map[string]string
}

// unknown reports a key the block's decoder did not handle: not
// implemented (a nats-server feature Starling lacks), or unknown. Keys
// used as variables ($name) elsewhere are definitions, not options.
func (d *decoder) unknown(b *block, e conf.Entry) {
	if e.Referenced {
		return
	}
	key := strings.ToLower(e.Key)
	if feature, ok := b.notImplemented[key]; ok {
		d.errs = append(d.errs, &NotImplementedError{Pos: e.KeyPos, Key: e.Key, Block: b.name, Feature: feature})
		return
	}
	d.errs = append(d.errs, &UnknownFieldError{Pos: e.KeyPos, Key: e.Key, Block: b.name, Suggestion: b.suggest(key)})
}

// UnknownFieldError is a key no block of that name has: usually a typo.
type UnknownFieldError struct {
	Pos        conf.Pos
	Key, Block string
	Suggestion string // the closest known key, "" when none is close
}

func (e *UnknownFieldError) Error() string {
	msg := fmt.Sprintf("unknown field %q", e.Key)
	if e.Block != "" {
		msg += " in " + e.Block
	}
	if e.Suggestion != "" {
		msg += " (did you mean " + e.Suggestion + "?)"
	}
	return e.Pos.Errorf("%s", msg).Error()
}

// NotImplementedError is a nats-server key Starling knows but does not
// implement. It is an error, not a warning: a server must never run
// without something its configuration asked for.
type NotImplementedError struct {
	Pos                 conf.Pos
	Key, Block, Feature string
}

func (e *NotImplementedError) Error() string {
	where := ""
	if e.Block != "" {
		where = " in " + e.Block
	}
	return e.Pos.Errorf("not implemented by Starling: %q%s (%s)", e.Key, where, e.Feature).Error()
}

// suggest returns the known or not-implemented key closest to key, when it
// is close enough to be a likely typo: at most two edits, and fewer than a
// third of the key's length.
func (b *block) suggest(key string) string {
	best, bestDist := "", 3
	consider := func(k string) {
		dist := editDistance(key, k)
		if dist < bestDist && dist*3 < len(k) || dist == bestDist && dist*3 < len(k) && k < best {
			best, bestDist = k, dist
		}
	}
	for _, k := range b.known {
		consider(k)
	}
	names := make([]string, 0, len(b.notImplemented))
	for k := range b.notImplemented {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		consider(k)
	}
	return best
}

// editDistance is the optimal string alignment distance between two short
// ASCII keys: insertions, deletions, substitutions and swaps of adjacent
// letters (the commonest typo) each count one. Anything longer than 64
// bytes is simply "far".
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 10
	}
	// Three rows: two back for the swap, one back, and the current one.
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev2, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, prev2
	}
	return rows[1][len(b)]
}

// Feature names shared by several keys.
const (
	featJSCluster  = "clustered JetStream"
	featOperator   = "operator mode (JWT)"
	featOCSP       = "OCSP"
	featCertStore  = "the Windows certificate store"
	featEncryption = "encryption at rest"
	featProxies    = "trusted proxies"
	featKnownURLs  = "checking peer certificates against known URLs"
)

// The top level of a configuration file.
var topBlock = block{
	known: []string{
		"listen", "host", "net", "port", "server_name",
		"http", "http_port", "monitor_port", "https", "https_port", "http_host",
		"max_payload", "max_control_line", "max_pending", "max_connections", "max_conn",
		"max_subscriptions", "max_subs", "ping_interval", "ping_max", "write_deadline",
		"lame_duck_duration", "lame_duck_grace_period", "no_header_support",
		"jetstream", "store_dir", "storedir", "authorization", "no_auth_user", "tls",
		"debug", "trace", "trace_verbose", "logtime", "logtime_utc", "log_file", "logfile",
		"logfile_size_limit", "log_size_limit", "logfile_max_num", "log_max_num",
		"pid_file", "pidfile", "connect_error_reports", "reconnect_error_reports",
		"disable_sublist_cache", "no_sublist_cache", "no_system_account", "no_system", "no_sys_acc",
		"cluster", "accounts", "system_account", "system", "mappings", "maps",
	},
	notImplemented: map[string]string{
		"client_advertise":         "advertising another client address (clustering)",
		"trace_headers":            "tracing headers only",
		"default_sentinel":         "auth callout",
		"http_base_path":           "a monitoring base path",
		"gateway":                  "gateways (superclusters)",
		"leaf":                     "leaf nodes",
		"leafnodes":                "leaf nodes",
		"syslog":                   "syslog",
		"remote_syslog":            "syslog",
		"ports_file_dir":           "ports files",
		"prof_port":                "the profiler in the configuration file; use --profile",
		"prof_block_rate":          "block profiling",
		"proxy_protocol":           "the PROXY protocol",
		"max_traced_msg_len":       "truncating traced messages",
		"max_sub_tokens":           "a limit on subject tokens",
		"max_subscription_tokens":  "a limit on subject tokens",
		"ocsp":                     featOCSP,
		"ocsp_cache":               featOCSP,
		"allow_non_tls":            "plain connections beside TLS",
		"write_timeout":            "write timeout policies",
		"operator":                 featOperator,
		"operators":                featOperator,
		"root":                     featOperator,
		"roots":                    featOperator,
		"root_operator":            featOperator,
		"root_operators":           featOperator,
		"resolver":                 featOperator,
		"account_resolver":         featOperator,
		"accounts_resolver":        featOperator,
		"resolver_tls":             featOperator,
		"resolver_preload":         featOperator,
		"resolver_pinned_accounts": featOperator,
		"trusted":                  featOperator,
		"trusted_keys":             featOperator,
		"websocket":                "WebSocket",
		"ws":                       "WebSocket",
		"mqtt":                     "MQTT",
		"server_tags":              "server tags",
		"server_metadata":          "server metadata",
		"feature_flags":            "feature flags",
		"default_js_domain":        "JetStream domains per account",
		"no_fast_producer_stall":   "fast producer stalls",
		"max_closed_clients":       "a configurable closed-connection history (it keeps 10,000)",
		"proxies":                  featProxies,
	},
}

var authorizationBlock = block{
	name: "authorization",
	known: []string{"user", "username", "pass", "password", "token", "timeout", "users",
		"default_permission", "default_permissions", "permissions"},
	notImplemented: map[string]string{
		"auth_callout":   "auth callout",
		"auth_hook":      "auth callout",
		"proxy_required": featProxies,
	},
}

var userBlock = block{
	name: "user entry",
	known: []string{"user", "username", "pass", "password", "nkey", "permission", "permissions", "authorization",
		"allowed_connection_types", "connection_types", "clients"},
	notImplemented: map[string]string{"proxy_required": featProxies},
}

var permissionsBlock = block{
	name:  "permissions",
	known: []string{"pub", "publish", "import", "sub", "subscribe", "export", "publish_allow_responses", "allow_responses"},
}

var subjectPermissionBlock = block{name: "subject permissions", known: []string{"allow", "deny"}}

var responsesBlock = block{
	name:  "allow_responses",
	known: []string{"max", "max_msgs", "max_messages", "max_responses", "expires", "expiration", "ttl"},
}

var tlsBlock = block{
	name: "tls",
	known: []string{"cert_file", "key_file", "ca_file", "verify", "verify_and_map", "timeout",
		"min_version", "minimum_version", "cipher_suites", "allow_insecure_cipher_suites", "curve_preferences"},
	notImplemented: map[string]string{
		"insecure":                         "skipping verification (a client-side setting, for routes and leaf nodes)",
		"verify_cert_and_check_known_urls": featKnownURLs,
		"connection_rate_limit":            "a TLS connection rate limit",
		"pinned_certs":                     "pinned client certificates",
		"cert_store":                       featCertStore,
		"cert_match_by":                    featCertStore,
		"cert_match":                       featCertStore,
		"ca_certs_match":                   featCertStore,
		"cert_match_skip_invalid":          featCertStore,
		"handshake_first":                  "TLS before INFO",
		"first":                            "TLS before INFO",
		"immediate":                        "TLS before INFO",
		"ocsp_peer":                        featOCSP,
		"certs":                            "several certificates",
		"certificates":                     "several certificates",
	},
}

var jetstreamBlock = block{
	name: "jetstream",
	known: []string{"enabled", "enable", "disabled", "disable", "store", "store_dir", "storedir",
		"sync", "sync_interval", "max_memory_store", "max_mem_store", "max_mem", "max_file_store", "max_file", "domain", "max_open_files", "compact_entries"},
	notImplemented: map[string]string{
		"strict":                  "turning strict API checks off",
		"key":                     featEncryption,
		"ek":                      featEncryption,
		"encryption_key":          featEncryption,
		"prev_key":                featEncryption,
		"prev_ek":                 featEncryption,
		"prev_encryption_key":     featEncryption,
		"cipher":                  featEncryption,
		"tpm":                     featEncryption,
		"extension_hint":          "the extension hint",
		"limits":                  "server-wide JetStream API limits",
		"unique_tag":              featJSCluster,
		"max_outstanding_catchup": featJSCluster,
		"meta_compact":            featJSCluster,
		"meta_compact_size":       featJSCluster,
		"meta_compact_sync":       featJSCluster,
		"max_buffered_size":       "stream ingest buffer limits",
		"max_buffered_msgs":       "stream ingest buffer limits",
		"request_queue_limit":     "a JetStream API queue limit",
		"info_queue_limit":        "a JetStream API queue limit",
		"max_concurrent_io":       "a limit on concurrent disk I/O",
	},
}

// The cluster block: routes to other servers.
var clusterBlock = block{
	name: "cluster",
	known: []string{"name", "listen", "port", "host", "net", "authorization", "routes", "tls",
		"cluster_advertise", "advertise", "no_advertise", "connect_retries", "connect_backoff", "permissions",
		"pool_size", "accounts", "compression", "ping_interval", "ping_max", "write_deadline"},
	notImplemented: map[string]string{
		"write_timeout": "write timeout policies",
	},
}

// clusterAuthorizationBlock is what a peer must present. nats-server reads
// it with the client authorization parser and refuses tokens, users and
// callouts itself, so those keys are known here and refused with its
// messages.
var clusterAuthorizationBlock = block{
	name: "cluster authorization",
	known: []string{"user", "username", "pass", "password", "timeout", "permissions", "default_permission",
		"default_permissions", "token", "users", "auth_callout", "auth_hook"},
	notImplemented: map[string]string{"proxy_required": featProxies},
}

// clusterTLSBlock is the tls block's keys, plus insecure: a route is also
// dialled, and skipping the verification of the peer is a client-side
// setting.
var clusterTLSBlock = func() block {
	b := block{name: "cluster tls", known: append([]string{"insecure"}, tlsBlock.known...), notImplemented: map[string]string{}}
	for k, f := range tlsBlock.notImplemented {
		if k != "insecure" {
			b.notImplemented[k] = f
		}
	}
	return b
}()

var compressionBlock = block{
	name:  "compression",
	known: []string{"mode", "rtt_thresholds", "thresholds", "rtts", "rtt"},
}

// An account in the accounts block.
var accountBlock = block{
	name:  "account",
	known: []string{"users", "exports", "imports", "jetstream", "mappings", "maps", "default_permissions"},
	notImplemented: map[string]string{
		"nkey":       "account public keys (operator mode)",
		"limits":     "account limits (max_connections, max_subscriptions, max_payload, max_leafnodes per account)",
		"msg_trace":  "an account's message trace destination",
		"trace_dest": "an account's message trace destination",
	},
}

// An account's jetstream block.
var accountJetStreamBlock = block{
	name: "account jetstream",
	known: []string{"max_memory", "max_mem", "mem", "memory", "max_store", "max_file", "max_disk", "store", "disk",
		"max_streams", "streams", "max_consumers", "consumers"},
	notImplemented: map[string]string{
		"max_bytes_required":      "requiring max_bytes on an account's streams",
		"max_stream_bytes":        "requiring max_bytes on an account's streams",
		"max_bytes":               "requiring max_bytes on an account's streams",
		"mem_max_stream_bytes":    "a per-stream size limit for an account",
		"memory_max_stream_bytes": "a per-stream size limit for an account",
		"disk_max_stream_bytes":   "a per-stream size limit for an account",
		"store_max_stream_bytes":  "a per-stream size limit for an account",
		"max_ack_pending":         "an account limit on pending acknowledgements",
		"cluster_traffic":         featJSCluster,
	},
}

// One entry of an account's exports.
var exportBlock = block{
	name: "export",
	known: []string{"stream", "service", "accounts", "response", "response_type", "threshold", "response_threshold",
		"response_max_time", "response_time", "allow_trace"},
	notImplemented: map[string]string{
		"latency":                "service latency tracking",
		"account_token_position": "exports authorized by an account token in the subject",
	},
}

// One entry of an account's imports.
var importBlock = block{
	name:  "import",
	known: []string{"stream", "service", "prefix", "to", "share", "allow_trace"},
}

// The {account, subject} of an import.
var importSourceBlock = block{name: "import source", known: []string{"account", "subject"}}

// A weighted mapping destination.
var mapDestBlock = block{
	name:  "mapping destination",
	known: []string{"dest", "destination", "weight", "cluster"},
}
