package monitor

// The options of each report, decoded from a $SYS request's JSON body by
// nats-server's names; the HTTP handlers fill the same structs from their
// query parameters. Members a $SYS request may carry for choosing servers
// (server_name, cluster, host, tags, domain) are the caller's business and
// ignored here, as are members nats-server does not know.

// ConnState selects connections by state, numbered as nats-server's JSON.
type ConnState int

const (
	ConnOpen   ConnState = 0
	ConnClosed ConnState = 1
	ConnAll    ConnState = 2
)

// ConnzOptions are /connz's options.
type ConnzOptions struct {
	Sort                string    `json:"sort"`
	Auth                bool      `json:"auth"`
	Subscriptions       bool      `json:"subscriptions"`
	SubscriptionsDetail bool      `json:"subscriptions_detail"`
	Offset              int       `json:"offset"`
	Limit               int       `json:"limit"`
	CID                 uint64    `json:"cid"`
	State               ConnState `json:"state"`
	User                string    `json:"user"`
	Account             string    `json:"acc"`
	FilterSubject       string    `json:"filter_subject"`
}

// SubszOptions are /subsz's options.
type SubszOptions struct {
	Offset        int    `json:"offset"`
	Limit         int    `json:"limit"`
	Subscriptions bool   `json:"subscriptions"`
	Account       string `json:"account"`
	Test          string `json:"test"`
}

// RoutezOptions are /routez's options.
type RoutezOptions struct {
	Subscriptions       bool `json:"subscriptions"`
	SubscriptionsDetail bool `json:"subscriptions_detail"`
}

// JszOptions are /jsz's options.
type JszOptions struct {
	Account    string `json:"account"`
	Accounts   bool   `json:"accounts"`
	Streams    bool   `json:"streams"`
	Consumer   bool   `json:"consumer"`
	Config     bool   `json:"config"`
	LeaderOnly bool   `json:"leader_only"`
	Offset     int    `json:"offset"`
	Limit      int    `json:"limit"`
	Raft       bool   `json:"raft"`
}

// HealthzOptions are /healthz's options.
type HealthzOptions struct {
	JSEnabled     bool   `json:"js-enabled"` // an old name of js-enabled-only
	JSEnabledOnly bool   `json:"js-enabled-only"`
	JSServerOnly  bool   `json:"js-server-only"`
	Account       string `json:"account"`
	Stream        string `json:"stream"`
	Consumer      string `json:"consumer"`
}

// AccountzOptions are /accountz's options: with Account, that account's
// detail; else the list of accounts.
type AccountzOptions struct {
	Accounts bool   `json:"accounts"`
	Account  string `json:"account"`
}

// AccountStatzOptions are /accstatz's options.
type AccountStatzOptions struct {
	Accounts      []string `json:"accounts"`
	IncludeUnused bool     `json:"include_unused"`
}

// StatszOptions, VarzOptions and AccountInfoOptions have no options of
// their own; a body must still be JSON.
type (
	StatszOptions      struct{}
	VarzOptions        struct{}
	AccountInfoOptions struct{}
)
