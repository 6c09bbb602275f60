package core

import (
	"fmt"
	"reflect"

	"github.com/starling-mq/starling/internal/mapping"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/subject"
)

// setupAccounts makes the configured accounts, the system account, and
// every account's imports.
func (s *Server) setupAccounts(o *Options) error {
	for _, ao := range o.Accounts {
		if err := setMappings(s.RegisterAccount(ao.Name), ao.Mappings); err != nil {
			return fmt.Errorf("account %q: %w", ao.Name, err)
		}
	}
	if err := setMappings(s.gacc, o.Mappings); err != nil {
		return err
	}
	if o.SystemAccount != "" {
		s.RegisterAccount(o.SystemAccount)
	}
	for _, ao := range o.Accounts {
		dst := s.LookupAccount(ao.Name)
		for _, im := range ao.Imports {
			if err := s.addImport(o, dst, im); err != nil {
				return fmt.Errorf("account %q: %w", ao.Name, err)
			}
		}
	}
	return nil
}

func (s *Server) addImport(o *Options, dst *Account, im options.Import) error {
	switch {
	case im.Stream != nil:
		src := s.LookupAccount(im.Stream.Account)
		if src == nil {
			return fmt.Errorf("stream import from unknown account %q", im.Stream.Account)
		}
		return s.AddStreamImport(dst, src, im.Stream.Subject, im.Prefix, im.To)
	case im.Service != nil:
		src := s.LookupAccount(im.Service.Account)
		if src == nil {
			return fmt.Errorf("service import from unknown account %q", im.Service.Account)
		}
		rt, threshold := ResponseSingleton, options.DefaultResponseThreshold
		if exp := serviceExport(o, im.Service.Account, im.Service.Subject); exp != nil {
			switch exp.ResponseType {
			case options.ResponseStream:
				rt = ResponseStream
			case options.ResponseChunked:
				rt = ResponseChunked
			}
			if exp.ResponseThreshold > 0 {
				threshold = exp.ResponseThreshold
			}
		}
		return s.AddServiceImport(dst, src, im.Service.Subject, im.To, rt, threshold)
	}
	return nil
}

// reloadMappings puts the new subject mappings in force.
func (s *Server) reloadMappings(o *Options) error {
	if err := setMappings(s.gacc, o.Mappings); err != nil {
		return err
	}
	for _, ao := range o.Accounts {
		if acc := s.LookupAccount(ao.Name); acc != nil {
			if err := setMappings(acc, ao.Mappings); err != nil {
				return fmt.Errorf("account %q: %w", ao.Name, err)
			}
		}
	}
	return nil
}

// setMappings compiles an account's subject mappings.
func setMappings(acc *Account, ms []options.Mapping) error {
	if len(ms) == 0 {
		acc.mappings.Store(nil)
		return nil
	}
	entries := make([]mapping.Entry, 0, len(ms))
	for _, m := range ms {
		e := mapping.Entry{Source: m.Subject}
		for _, d := range m.Destinations {
			e.Destinations = append(e.Destinations, mapping.Destination{Subject: d.Subject, Weight: d.Weight, Cluster: d.Cluster})
		}
		entries = append(entries, e)
	}
	compiled, err := mapping.New("", entries)
	if err != nil {
		return err
	}
	acc.mappings.Store(compiled)
	return nil
}

// serviceExport is the service export of account acc that covers subj.
func serviceExport(o *Options, acc, subj string) *options.Export {
	for i := range o.Accounts {
		if o.Accounts[i].Name != acc {
			continue
		}
		for j := range o.Accounts[i].Exports {
			e := &o.Accounts[i].Exports[j]
			if e.Service != "" && (e.Service == subj || (!subject.HasWildcard(subj) && subject.Matches(e.Service, subj))) {
				return e
			}
		}
	}
	return nil
}

// errAccountsReload refuses a reload that changes accounts, which take
// effect at start only for now (their mappings excepted).
var errAccountsReload = fmt.Errorf("config reload not supported for accounts yet: " +
	"accounts, their exports and imports, the system account and the account of each user change with a restart")

// checkAccountsReload refuses a reload that would change the accounts
// (other than their mappings) or move a user to another account.
func checkAccountsReload(old, next *Options) error {
	withoutMappings := func(as []options.AccountOptions) []options.AccountOptions {
		out := make([]options.AccountOptions, len(as))
		for i, a := range as {
			a.Mappings = nil
			out[i] = a
		}
		return out
	}
	if !reflect.DeepEqual(withoutMappings(old.Accounts), withoutMappings(next.Accounts)) || old.SystemAccount != next.SystemAccount {
		return errAccountsReload
	}
	accountOf := func(o *Options) map[string]string {
		m := map[string]string{}
		for _, u := range o.Users {
			m[u.Username] = u.Account
		}
		for _, u := range o.Nkeys {
			m[u.Nkey] = u.Account
		}
		return m
	}
	was := accountOf(old)
	for user, acc := range accountOf(next) {
		if prev, ok := was[user]; ok && prev != acc {
			return errAccountsReload
		}
	}
	return nil
}
