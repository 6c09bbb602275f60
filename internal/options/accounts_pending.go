package options

import "errors"

// ErrAccountsNotImplemented is the refusal of the account settings the
// engine does not run yet.
var ErrAccountsNotImplemented = errors.New("accounts: JetStream in accounts and subject mappings are parsed and checked but not run yet: " +
	"remove jetstream (from the accounts, or from the server when it has accounts) and mappings to run the server")

// refuseAccountsUntilTheyRun is the one place that keeps a server from
// starting (or reloading) with the account settings internal/core does not
// run yet: JetStream per account (a server with accounts runs JetStream in
// none of them) and subject mappings. Accounts, their users, exports and
// imports run. Every account setting is parsed and validated meanwhile, so
// -t checks a configuration in full. When the rest lands, delete this file,
// its call in Validate, and the tests that expect the refusal (grep
// ErrAccountsNotImplemented and "not run yet").
func (o *Options) refuseAccountsUntilTheyRun() error {
	if len(o.Mappings) > 0 {
		return ErrAccountsNotImplemented
	}
	for _, a := range o.Accounts {
		if a.JetStream != nil || len(a.Mappings) > 0 {
			return ErrAccountsNotImplemented
		}
	}
	if len(o.Accounts) > 0 && o.JetStream {
		return ErrAccountsNotImplemented
	}
	return nil
}
