package servercmd

import "flag"

// flagDef is one `starling server` flag: the parser and the help text are
// both made from flagTable, so neither can list a flag the other lacks.
type flagDef struct {
	section string
	names   []string // every spelling; short ones (up to 3 letters) are shown with one dash
	arg     string   // the value's placeholder in help; "" for a boolean flag
	usage   string
	def     string // the default, shown in help; "" for none
	bind    binding
	// refused names the feature of a nats-server flag Starling does not
	// implement: it is accepted by the parser only to be refused with that
	// name.
	refused string
}

// binding is what a flag sets: a configuration key, whose own setter
// (internal/config) parses, checks and stores the value, so the flag and
// the key cannot drift apart; or, for flags no key stands for, a field
// of Config, or a flag.Value of their own.
type binding struct {
	key string
	// field returns the field the flag sets in c (a *string, *int or
	// *bool); dt is the -DV pseudo-field.
	field func(c *Config, dt *bool) any
	// value returns a flag.Value that sets c.
	value func(c *Config) flag.Value
}

// key binds a flag to a configuration key.
func key(k string) binding { return binding{key: k} }

// field binds a flag to a field of Config.
func field(f func(c *Config, dt *bool) any) binding { return binding{field: f} }

// Help sections, in the order shown.
const (
	secServer    = "Server Options"
	secLogging   = "Logging Options"
	secJetStream = "JetStream Options"
	secAuth      = "Authorization Options"
	secTLS       = "TLS Options"
	secCluster   = "Cluster Options"
	secLimits    = "Limits (nats-server reads these from its configuration file only)"
	secProfiling = "Profiling Options"
	secCommon    = "Common Options"
	secRefused   = "nats-server options Starling does not implement (refused with an error)"
)

var sections = []string{secServer, secLogging, secJetStream, secAuth, secTLS, secCluster, secLimits, secProfiling, secCommon, secRefused}

var flagTable = []flagDef{
	{secServer, []string{"a", "addr", "net"}, "<host>", "Bind to host address", "0.0.0.0", key("host"), ""},
	{secServer, []string{"p", "port"}, "<port>", "Use port for clients", "4222", key("port"), ""},
	{secServer, []string{"n", "name", "server_name"}, "<server_name>", "Server name", "auto", key("server_name"), ""},
	{secServer, []string{"P", "pid"}, "<file>", "File to store PID", "", key("pid_file"), ""},
	{secServer, []string{"m", "http_port"}, "<port>", "Use port for http monitoring", "", key("http_port"), ""},
	{secServer, []string{"ms", "https_port"}, "<port>", "Use port for https monitoring (needs TLS)", "", key("https_port"), ""},
	{secServer, []string{"c", "config"}, "<file>", "Configuration file (nats-server format)", "",
		field(func(c *Config, _ *bool) any { return &c.ConfigFile }), ""},
	{secServer, []string{"t"}, "", "Test configuration and exit", "",
		field(func(c *Config, _ *bool) any { return &c.Check }), ""},
	{secServer, []string{"sl", "signal"}, "<signal>=<pid>", "Send signal to a starling server (ldm, stop, quit, term, reopen, reload); <pid> can be a PID or the path to a PID file", "",
		field(func(c *Config, _ *bool) any { return &c.Signal }), ""},

	{secLogging, []string{"l", "log"}, "<file>", "File to redirect log output", "", key("log_file"), ""},
	{secLogging, []string{"T", "logtime"}, "", "Timestamp log entries", "true", key("logtime"), ""},
	{secLogging, []string{"logtime_utc"}, "", "Timestamps in UTC, not local time", "false", key("logtime_utc"), ""},
	{secLogging, []string{"D", "debug"}, "", "Enable debugging output", "", key("debug"), ""},
	{secLogging, []string{"V", "trace", "VV"}, "", "Trace the raw protocol (-VV is the same)", "", key("trace"), ""},
	{secLogging, []string{"DV", "DVV"}, "", "Debug and trace", "",
		field(func(_ *Config, dt *bool) any { return dt }), ""},
	{secLogging, []string{"log_size_limit"}, "<size>", "Rotate the log file at this size", "no rotation",
		key("logfile_size_limit"), ""},

	{secJetStream, []string{"js", "jetstream"}, "", "Enable JetStream", "", key("jetstream"), ""},
	{secJetStream, []string{"sd", "store_dir"}, "<dir>", "Store directory (default: $STATE_DIRECTORY, $XDG_STATE_HOME/starling or ~/.local/state/starling)", "",
		key("store_dir"), ""},

	{secAuth, []string{"user"}, "<user>", "User required for connections", "", key("authorization.user"), ""},
	{secAuth, []string{"pass"}, "<password>", "Password required for connections", "", key("authorization.password"), ""},
	{secAuth, []string{"auth"}, "<token>", "Authorization token required for connections", "", key("authorization.token"), ""},

	{secTLS, []string{"tls"}, "", "Enable TLS, do not verify clients", "false",
		field(func(c *Config, _ *bool) any { return &c.TLS }), ""},
	{secTLS, []string{"tlscert"}, "<file>", "Server certificate file", "",
		field(func(c *Config, _ *bool) any { return &c.TLSCert }), ""},
	{secTLS, []string{"tlskey"}, "<file>", "Private key for server certificate", "",
		field(func(c *Config, _ *bool) any { return &c.TLSKey }), ""},
	{secTLS, []string{"tlsverify"}, "", "Enable TLS, verify client certificates", "",
		field(func(c *Config, _ *bool) any { return &c.TLSVerify }), ""},
	{secTLS, []string{"tlscacert"}, "<file>", "Client certificate CA for verification", "",
		field(func(c *Config, _ *bool) any { return &c.TLSCACert }), ""},

	// nats-server's cluster flags. --cluster takes a URL, not a cluster
	// listen key's host:port, so it has a value of its own (clusterflag.go).
	{secCluster, []string{"routes"}, "<rurl-1, rurl-2>", "Routes to solicit and connect", "", key("cluster.routes"), ""},
	{secCluster, []string{"cluster", "cluster_listen"}, "<cluster-url>",
		"Listen for routes at this URL; credentials in it are what peers must present (nats://[user:pass@]host:port)", "",
		binding{value: func(c *Config) flag.Value { return clusterURL{c} }}, ""},
	{secCluster, []string{"cluster_name"}, "<string>", "Cluster name", "generated", key("cluster.name"), ""},
	{secCluster, []string{"no_advertise"}, "", "Do not advertise known cluster information to clients", "", key("cluster.no_advertise"), ""},
	{secCluster, []string{"cluster_advertise"}, "<addr>", "Route address (host[:port]) to advertise to other servers", "", key("cluster.advertise"), ""},
	{secCluster, []string{"connect_retries"}, "<number>", "For implicit routes, number of connect retries", "0", key("cluster.connect_retries"), ""},

	{secLimits, []string{"max_payload"}, "<size>", "Maximum message size", "1MB", key("max_payload"), ""},
	{secLimits, []string{"max_pending"}, "<size>", "Maximum bytes buffered for a client", "64MB", key("max_pending"), ""},
	{secLimits, []string{"max_control_line"}, "<size>", "Maximum protocol line length", "4KB", key("max_control_line"), ""},
	{secLimits, []string{"max_connections"}, "<n>", "Maximum client connections", "65536", key("max_connections"), ""},
	{secLimits, []string{"max_subscriptions"}, "<n>", "Maximum subscriptions per connection", "unlimited",
		key("max_subscriptions"), ""},
	{secLimits, []string{"ping_interval"}, "<duration>", "Interval between server PINGs", "2m", key("ping_interval"), ""},
	{secLimits, []string{"ping_max"}, "<n>", "Unanswered PINGs before a client is stale", "2", key("ping_max"), ""},
	{secLimits, []string{"write_deadline"}, "<duration>", "Time a socket write may take", "10s", key("write_deadline"), ""},
	{secLimits, []string{"auth_timeout"}, "<duration>", "Time allowed to authenticate", "2s", key("authorization.timeout"), ""},

	{secProfiling, []string{"profile"}, "<port>", "Profiling HTTP port (loopback only)", "",
		field(func(c *Config, _ *bool) any { return &c.Profile }), ""},

	{secCommon, []string{"h", "help"}, "", "Show this message", "",
		field(func(c *Config, _ *bool) any { return &c.Help }), ""},
	{secCommon, []string{"v", "version"}, "", "Show version", "",
		field(func(c *Config, _ *bool) any { return &c.Version }), ""},
	{secCommon, []string{"help_tls"}, "", "Show the TLS cipher suites and curves a tls block may name", "",
		field(func(c *Config, _ *bool) any { return &c.HelpTLS }), ""},

	{secRefused, []string{"s", "syslog"}, "", "Log to syslog", "", binding{}, "syslog"},
	{secRefused, []string{"r", "remote_syslog"}, "<addr>", "Syslog server address", "", binding{}, "remote syslog"},
	{secRefused, []string{"max_traced_msg_len"}, "<len>", "Maximum printable length for traced messages", "", binding{}, "trace truncation"},
	{secRefused, []string{"client_advertise"}, "<string>", "Client URL to advertise to other servers", "", binding{}, "client advertise"},
	{secRefused, []string{"ports_file_dir"}, "<dir>", "Write a ports file in this directory", "", binding{}, "ports files"},
}
