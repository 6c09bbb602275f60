package servercmd

// flagDef is one `starling server` flag: the parser and the help text are
// both made from flagTable, so neither can list a flag the other lacks.
type flagDef struct {
	section string
	names   []string // every spelling; short ones (up to 3 letters) are shown with one dash
	arg     string   // the value's placeholder in help; "" for a boolean flag
	usage   string
	def     string // the default, shown in help; "" for none
	// value returns the field the flag sets in c (a *string, *int, *bool,
	// *time.Duration or flag.Value); dt is the -DV pseudo-field.
	value func(c *Config, dt *bool) any
	// refused names the feature of a nats-server flag Starling does not
	// implement: it is accepted by the parser only to be refused with that
	// name.
	refused string
}

// Help sections, in the order shown.
const (
	secServer    = "Server Options"
	secLogging   = "Logging Options"
	secJetStream = "JetStream Options"
	secAuth      = "Authorization Options"
	secTLS       = "TLS Options"
	secLimits    = "Limits (nats-server reads these from its configuration file only)"
	secProfiling = "Profiling Options"
	secCommon    = "Common Options"
	secRefused   = "nats-server options Starling does not implement (refused with an error)"
)

var sections = []string{secServer, secLogging, secJetStream, secAuth, secTLS, secLimits, secProfiling, secCommon, secRefused}

var flagTable = []flagDef{
	{secServer, []string{"a", "addr", "net"}, "<host>", "Bind to host address", "0.0.0.0",
		func(c *Config, _ *bool) any { return &c.Opts.Host }, ""},
	{secServer, []string{"p", "port"}, "<port>", "Use port for clients", "4222",
		func(c *Config, _ *bool) any { return &c.Opts.Port }, ""},
	{secServer, []string{"n", "name", "server_name"}, "<server_name>", "Server name", "auto",
		func(c *Config, _ *bool) any { return &c.Opts.ServerName }, ""},
	{secServer, []string{"P", "pid"}, "<file>", "File to store PID", "",
		func(c *Config, _ *bool) any { return &c.PidFile }, ""},
	{secServer, []string{"m", "http_port"}, "<port>", "Use port for http monitoring", "",
		func(c *Config, _ *bool) any { return &c.Opts.HTTPPort }, ""},
	{secServer, []string{"ms", "https_port"}, "<port>", "Use port for https monitoring (needs TLS)", "",
		func(c *Config, _ *bool) any { return &c.Opts.HTTPSPort }, ""},
	{secServer, []string{"c", "config"}, "<file>", "Configuration file (nats-server format)", "",
		func(c *Config, _ *bool) any { return &c.ConfigFile }, ""},
	{secServer, []string{"t"}, "", "Test configuration and exit", "",
		func(c *Config, _ *bool) any { return &c.Check }, ""},
	{secServer, []string{"sl", "signal"}, "<signal>=<pid>", "Send signal to a starling server (ldm, stop, quit, term, reopen, reload); <pid> can be a PID or the path to a PID file", "",
		func(c *Config, _ *bool) any { return &c.Signal }, ""},

	{secLogging, []string{"l", "log"}, "<file>", "File to redirect log output", "",
		func(c *Config, _ *bool) any { return &c.LogFile }, ""},
	{secLogging, []string{"T", "logtime"}, "", "Timestamp log entries", "true",
		func(c *Config, _ *bool) any { return &c.LogTime }, ""},
	{secLogging, []string{"logtime_utc"}, "", "Timestamps in UTC, not local time", "false",
		func(c *Config, _ *bool) any { return &c.LogTimeUTC }, ""},
	{secLogging, []string{"D", "debug"}, "", "Enable debugging output", "",
		func(c *Config, _ *bool) any { return &c.Debug }, ""},
	{secLogging, []string{"V", "trace", "VV"}, "", "Trace the raw protocol (-VV is the same)", "",
		func(c *Config, _ *bool) any { return &c.Trace }, ""},
	{secLogging, []string{"DV", "DVV"}, "", "Debug and trace", "",
		func(_ *Config, dt *bool) any { return dt }, ""},
	{secLogging, []string{"log_size_limit"}, "<size>", "Rotate the log file at this size", "no rotation",
		func(c *Config, _ *bool) any { return (*size64Value)(&c.LogSizeLimit) }, ""},

	{secJetStream, []string{"js", "jetstream"}, "", "Enable JetStream", "",
		func(c *Config, _ *bool) any { return &c.Opts.JetStream }, ""},
	{secJetStream, []string{"sd", "store_dir"}, "<dir>", "Store directory (default: $STATE_DIRECTORY, $XDG_STATE_HOME/starling or ~/.local/state/starling)", "",
		func(c *Config, _ *bool) any { return &c.Opts.StoreDir }, ""},

	{secAuth, []string{"user"}, "<user>", "User required for connections", "",
		func(c *Config, _ *bool) any { return &c.Opts.Username }, ""},
	{secAuth, []string{"pass"}, "<password>", "Password required for connections", "",
		func(c *Config, _ *bool) any { return &c.Opts.Password }, ""},
	{secAuth, []string{"auth"}, "<token>", "Authorization token required for connections", "",
		func(c *Config, _ *bool) any { return &c.Opts.Authorization }, ""},

	{secTLS, []string{"tls"}, "", "Enable TLS, do not verify clients", "false",
		func(c *Config, _ *bool) any { return &c.TLS }, ""},
	{secTLS, []string{"tlscert"}, "<file>", "Server certificate file", "",
		func(c *Config, _ *bool) any { return &c.TLSCert }, ""},
	{secTLS, []string{"tlskey"}, "<file>", "Private key for server certificate", "",
		func(c *Config, _ *bool) any { return &c.TLSKey }, ""},
	{secTLS, []string{"tlsverify"}, "", "Enable TLS, verify client certificates", "",
		func(c *Config, _ *bool) any { return &c.TLSVerify }, ""},
	{secTLS, []string{"tlscacert"}, "<file>", "Client certificate CA for verification", "",
		func(c *Config, _ *bool) any { return &c.TLSCACert }, ""},

	{secLimits, []string{"max_payload"}, "<size>", "Maximum message size", "1MB",
		func(c *Config, _ *bool) any { return (*sizeValue)(&c.Opts.MaxPayload) }, ""},
	{secLimits, []string{"max_pending"}, "<size>", "Maximum bytes buffered for a client", "64MB",
		func(c *Config, _ *bool) any { return (*sizeValue)(&c.Opts.MaxPending) }, ""},
	{secLimits, []string{"max_control_line"}, "<size>", "Maximum protocol line length", "4KB",
		func(c *Config, _ *bool) any { return (*sizeValue)(&c.Opts.MaxControlLine) }, ""},
	{secLimits, []string{"max_connections"}, "<n>", "Maximum client connections", "65536",
		func(c *Config, _ *bool) any { return &c.Opts.MaxConnections }, ""},
	{secLimits, []string{"max_subscriptions"}, "<n>", "Maximum subscriptions per connection", "unlimited",
		func(c *Config, _ *bool) any { return &c.Opts.MaxSubscriptions }, ""},
	{secLimits, []string{"ping_interval"}, "<duration>", "Interval between server PINGs", "2m",
		func(c *Config, _ *bool) any { return &c.Opts.PingInterval }, ""},
	{secLimits, []string{"ping_max"}, "<n>", "Unanswered PINGs before a client is stale", "2",
		func(c *Config, _ *bool) any { return &c.Opts.PingMax }, ""},
	{secLimits, []string{"write_deadline"}, "<duration>", "Time a socket write may take", "10s",
		func(c *Config, _ *bool) any { return &c.Opts.WriteDeadline }, ""},
	{secLimits, []string{"auth_timeout"}, "<duration>", "Time allowed to authenticate", "2s",
		func(c *Config, _ *bool) any { return &c.Opts.AuthTimeout }, ""},

	{secProfiling, []string{"profile"}, "<port>", "Profiling HTTP port (loopback only)", "",
		func(c *Config, _ *bool) any { return &c.Profile }, ""},

	{secCommon, []string{"h", "help"}, "", "Show this message", "",
		func(c *Config, _ *bool) any { return &c.Help }, ""},
	{secCommon, []string{"v", "version"}, "", "Show version", "",
		func(c *Config, _ *bool) any { return &c.Version }, ""},
	{secCommon, []string{"help_tls"}, "", "Show the TLS cipher suites and curves a tls block may name", "",
		func(c *Config, _ *bool) any { return &c.HelpTLS }, ""},

	{secRefused, []string{"s", "syslog"}, "", "Log to syslog", "", nil, "syslog"},
	{secRefused, []string{"r", "remote_syslog"}, "<addr>", "Syslog server address", "", nil, "remote syslog"},
	{secRefused, []string{"max_traced_msg_len"}, "<len>", "Maximum printable length for traced messages", "", nil, "trace truncation"},
	{secRefused, []string{"client_advertise"}, "<string>", "Client URL to advertise to other servers", "", nil, "client advertise"},
	{secRefused, []string{"ports_file_dir"}, "<dir>", "Write a ports file in this directory", "", nil, "ports files"},
	{secRefused, []string{"routes"}, "<rurl-1, rurl-2>", "Routes to solicit and connect", "", nil, "clustering"},
	{secRefused, []string{"cluster"}, "<cluster-url>", "Cluster URL for solicited routes", "", nil, "clustering"},
	{secRefused, []string{"cluster_name"}, "<string>", "Cluster name", "", nil, "clustering"},
	{secRefused, []string{"cluster_listen"}, "<url>", "Cluster URL from which members can solicit routes", "", nil, "clustering"},
	{secRefused, []string{"cluster_advertise"}, "<string>", "Cluster URL to advertise to other servers", "", nil, "clustering"},
	{secRefused, []string{"no_advertise"}, "", "Do not advertise known cluster information to clients", "", nil, "clustering"},
	{secRefused, []string{"connect_retries"}, "<number>", "For implicit routes, number of connect retries", "", nil, "clustering"},
}
