package options

import "errors"

// ErrSystemAccountJetStream refuses JetStream in the system account, with
// nats-server's text: the system account carries the servers' own
// traffic, never streams.
var ErrSystemAccountJetStream = errors.New("Not allowed to enable JetStream on the system account")

// validateAccountsJetStream checks JetStream per account: never in the
// system account of a server that runs it.
func (o *Options) validateAccountsJetStream() error {
	if !o.JetStream {
		return nil
	}
	for _, a := range o.Accounts {
		if a.Name == o.SystemAccount && a.JetStream != nil {
			return ErrSystemAccountJetStream
		}
	}
	return nil
}

// JetStreamAccounts are the accounts that run JetStream on a server that
// runs it, as nats-server chooses them: the global account ($G) alone
// when no account other than the system account is configured, otherwise
// the accounts whose configuration enables it. The map is nil when the
// server does not run JetStream.
func (o *Options) JetStreamAccounts() map[string]*AccountJetStream {
	if !o.JetStream {
		return nil
	}
	out := map[string]*AccountJetStream{}
	others := false
	for _, a := range o.Accounts {
		if a.Name == o.SystemAccount || a.Name == GlobalAccount {
			continue
		}
		others = true
		if a.JetStream != nil {
			out[a.Name] = a.JetStream
		}
	}
	if !others {
		out[GlobalAccount] = UnlimitedJetStream()
	}
	return out
}
