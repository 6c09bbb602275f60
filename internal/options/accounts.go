package options

import (
	"errors"
	"fmt"
	"time"

	"github.com/starling-mq/starling/internal/auth"
)

// Account names nats-server creates (GlobalAccount is in cluster.go).
const (
	// DefaultSystemAccount is the system account when accounts are
	// configured and system_account does not name another; nats-server
	// creates it when the configuration does not define it.
	DefaultSystemAccount = "$SYS"
)

// Service export response types (Export.ResponseType), as nats-server
// spells them once parsed.
const (
	ResponseSingleton = "singleton" // one reply per request (the default)
	ResponseStream    = "stream"    // any number of replies
	ResponseChunked   = "chunked"   // replies in chunks
)

// DefaultResponseThreshold is how long a service export waits for a
// response before dropping its response mapping, when Export does not say.
const DefaultResponseThreshold = 2 * time.Minute

// AccountOptions is one account of nats-server's accounts block: an
// isolated subject space. Its users are in Options.Users and Options.Nkeys,
// each naming it in its Account field, so authentication keeps one list.
type AccountOptions struct {
	Name    string
	Exports []Export
	Imports []Import
	// JetStream is nil when the account may not use JetStream.
	JetStream *AccountJetStream
	// Mappings rewrite subjects published in this account.
	Mappings []Mapping
	// DefaultPermissions apply to this account's users that have none of
	// their own (the authorization block's defaults do not reach them).
	DefaultPermissions *auth.Permissions
}

// AccountJetStream is an account's JetStream limits; -1 means no limit
// beyond the server's (what "jetstream: enabled" gives every field).
type AccountJetStream struct {
	MaxMemory    int64
	MaxStore     int64
	MaxStreams   int
	MaxConsumers int
}

// UnlimitedJetStream is "jetstream: enabled" in an account.
func UnlimitedJetStream() *AccountJetStream {
	return &AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}
}

// Export is a stream or a service an account offers to others: exactly
// one of Stream and Service is set.
type Export struct {
	Stream  string
	Service string
	// Accounts may import it; nil means every account (a public export).
	// A non-nil empty list admits nobody: nats-server then wants an
	// activation token, which only operator mode issues.
	Accounts []string
	// Service exports only.
	ResponseType      string        // ResponseSingleton when ""
	ResponseThreshold time.Duration // DefaultResponseThreshold when 0
	AllowTrace        bool          // message traces may cross into the service
}

// Subject is the exported subject, whichever kind of export it is.
func (e *Export) Subject() string {
	if e.Stream != "" {
		return e.Stream
	}
	return e.Service
}

// Import brings another account's export into this one: exactly one of
// Stream and Service is set.
type Import struct {
	Stream  *ImportSource
	Service *ImportSource
	// Prefix (streams only) is prepended to the imported subjects.
	Prefix string
	// To is the subject here: for a stream what the imported subjects
	// become (instead of Prefix), for a service the subject this account's
	// clients send requests to (default the exported subject).
	To string
	// Share (services only) lets the exporter see the importer's request
	// latency details.
	Share bool
	// AllowTrace (streams only) lets message traces cross the import.
	AllowTrace bool
}

// ImportSource names what is imported: an account and a subject it
// exports.
type ImportSource struct {
	Account string
	Subject string
}

// accountsUsed reports whether the configuration asks for accounts at all.
func (o *Options) accountsUsed() bool {
	return len(o.Accounts) > 0
}

// setAccountDefaults names the system account: nats-server always runs one
// when accounts are configured ($SYS unless system_account names another).
func (o *Options) setAccountDefaults() {
	if o.SystemAccount == "" && o.accountsUsed() {
		o.SystemAccount = DefaultSystemAccount
	}
}

// accountNames maps every defined account to its options, and reports
// duplicate and reserved names with nats-server's texts.
func (o *Options) accountNames() (map[string]*AccountOptions, []error) {
	var errs []error
	byName := make(map[string]*AccountOptions, len(o.Accounts))
	for i := range o.Accounts {
		a := &o.Accounts[i]
		switch {
		case a.Name == "":
			errs = append(errs, fmt.Errorf("account %d has no name", i+1))
			continue
		case a.Name == GlobalAccount:
			errs = append(errs, fmt.Errorf("%q is a Reserved Account", a.Name))
			continue
		case byName[a.Name] != nil:
			errs = append(errs, fmt.Errorf("Duplicate Account Entry: %s", a.Name))
			continue
		}
		byName[a.Name] = a
	}
	return byName, errs
}

// AccountError is a problem with one export, import or mapping of an
// account (the global account's mappings are those of Options.Mappings).
// Err is nats-server's text; the configuration file reports it at the
// item's position.
type AccountError struct {
	Account string
	Item    string // "export", "import" or "mapping"
	Index   int    // in the account's list of that item
	Err     error
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("account %q %s %d: %v", e.Account, e.Item, e.Index+1, e.Err)
}

func (e *AccountError) Unwrap() error { return e.Err }

// ValidateAccounts reports what Validate finds wrong with the accounts,
// their users, exports, imports and mappings, and the global mappings;
// the configuration file calls it to place each error in the file.
func (o *Options) ValidateAccounts() []error {
	return o.validateAccounts()
}

// validateAccounts checks accounts, their users, exports, imports and
// mappings, the system account and the global mappings, as nats-server
// does when it loads a configuration.
func (o *Options) validateAccounts() []error {
	byName, errs := o.accountNames()
	if o.SystemAccount != "" && o.SystemAccount != DefaultSystemAccount && byName[o.SystemAccount] == nil {
		// nats-server fails later, when it resolves the name.
		errs = append(errs, fmt.Errorf("error resolving system account: account %q is not defined", o.SystemAccount))
	}
	errs = append(errs, o.validateAccountUsers(byName)...)
	for i := range o.Accounts {
		a := &o.Accounts[i]
		if err := a.DefaultPermissions.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("account %q default_permissions: %w", a.Name, err))
		}
		if js := a.JetStream; js != nil && (js.MaxMemory < -1 || js.MaxStore < -1 || js.MaxStreams < -1 || js.MaxConsumers < -1) {
			errs = append(errs, fmt.Errorf("account %q: jetstream limits must be -1 (no limit) or more", a.Name))
		}
		for j := range a.Mappings {
			if err := a.Mappings[j].validate(); err != nil {
				errs = append(errs, &AccountError{Account: a.Name, Item: "mapping", Index: j, Err: err})
			}
		}
	}
	for j := range o.Mappings {
		if err := o.Mappings[j].validate(); err != nil {
			errs = append(errs, &AccountError{Account: GlobalAccount, Item: "mapping", Index: j, Err: err})
		}
	}
	errs = append(errs, validateExportsImports(o.Accounts, byName)...)
	return errs
}

// validateAccountUsers checks that each user's account exists, that a
// name is used once across the authorization block and every account,
// and that account users do not come with the simple single user or token
// (nats-server's texts).
func (o *Options) validateAccountUsers(byName map[string]*AccountOptions) []error {
	var errs []error
	inAccounts := false
	for _, u := range o.Users {
		inAccounts = inAccounts || u != nil && u.Account != ""
	}
	for _, n := range o.Nkeys {
		inAccounts = inAccounts || n != nil && n.Account != ""
	}
	if !inAccounts {
		// Without accounts the authenticator reports duplicates, as it
		// always has.
		return nil
	}
	seen := make(map[string]bool)
	check := func(name, account, kind string) {
		if account != "" && byName[account] == nil {
			errs = append(errs, fmt.Errorf("%s %q: account %q is not defined", kind, name, account))
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("Duplicate %s %q detected", kind, name))
		}
		seen[name] = true
	}
	for _, u := range o.Users {
		if u != nil {
			check(u.Username, u.Account, "user")
		}
	}
	for _, n := range o.Nkeys {
		if n != nil {
			check(n.Nkey, n.Account, "nkey")
		}
	}
	if o.Username != "" {
		errs = append(errs, errors.New("Can not have a single user/pass and accounts"))
	}
	if o.Authorization != "" {
		errs = append(errs, errors.New("Can not have a token and accounts"))
	}
	return errs
}

// accountPermissions maps each account with default permissions to them,
// for the authenticator.
func (o *Options) accountPermissions() map[string]*auth.Permissions {
	var m map[string]*auth.Permissions
	for i := range o.Accounts {
		a := &o.Accounts[i]
		if a.DefaultPermissions == nil {
			continue
		}
		if m == nil {
			m = make(map[string]*auth.Permissions)
		}
		m[a.Name] = a.DefaultPermissions
	}
	return m
}
