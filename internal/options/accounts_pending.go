package options

import "errors"

// ErrAccountsNotImplemented is the refusal of the account settings the
// engine does not run yet.
var ErrAccountsNotImplemented = errors.New("accounts: JetStream in accounts is parsed and checked but not run yet: " +
	"remove jetstream (from the accounts, or from the server when it has accounts) to run the server")

// refuseAccountsUntilTheyRun is the one place that keeps a server from
// starting (or reloading) with the account settings internal/core does not
// run yet: JetStream per account (a server with accounts runs JetStream in
// none of them). Accounts, their users, exports, imports and mappings run.
// Every account setting is parsed and validated meanwhile, so -t checks a
// configuration in full. When JetStream per account lands, delete this
// file, its call in Validate, and the tests that expect the refusal (grep
// ErrAccountsNotImplemented and "not run yet").
func (o *Options) refuseAccountsUntilTheyRun() error {
	for _, a := range o.Accounts {
		if a.JetStream != nil {
			return ErrAccountsNotImplemented
		}
	}
	if len(o.Accounts) > 0 && o.JetStream {
		return ErrAccountsNotImplemented
	}
	return nil
}
