package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
	for _, ci := range configuredImports(o) {
		if err := s.addImport(ci); err != nil {
			return fmt.Errorf("account %q: %w", ci.dst, err)
		}
	}
	return nil
}

// configuredImport is one import of the configuration, with what its
// exporter says of the responses, and the key that tells whether a reload
// changed it.
type configuredImport struct {
	dst       string
	im        options.Import
	rt        ResponseType
	threshold time.Duration
	key       string
}

// configuredImports lists the imports of every account in o.
func configuredImports(o *Options) []configuredImport {
	var out []configuredImport
	for _, ao := range o.Accounts {
		for _, im := range ao.Imports {
			ci := configuredImport{dst: ao.Name, im: im, rt: ResponseSingleton, threshold: options.DefaultResponseThreshold}
			if im.Service != nil {
				if exp := serviceExport(o, im.Service.Account, im.Service.Subject); exp != nil {
					switch exp.ResponseType {
					case options.ResponseStream:
						ci.rt = ResponseStream
					case options.ResponseChunked:
						ci.rt = ResponseChunked
					}
					if exp.ResponseThreshold > 0 {
						ci.threshold = exp.ResponseThreshold
					}
				}
			}
			ci.key = ci.makeKey()
			out = append(out, ci)
		}
	}
	return out
}

// makeKey names everything the import's subscriptions are made from, so
// equal keys can keep their subscriptions (and a service import the
// requests in flight) across a reload.
func (ci *configuredImport) makeKey() string {
	kind, src := "stream", ci.im.Stream
	if ci.im.Service != nil {
		kind, src = "service", ci.im.Service
	}
	if src == nil {
		return ""
	}
	return strings.Join([]string{kind, ci.dst, src.Account, src.Subject, ci.im.Prefix, ci.im.To,
		strconv.Itoa(int(ci.rt)), ci.threshold.String()}, "\x00")
}

func (s *Server) addImport(ci configuredImport) error {
	dst := s.LookupAccount(ci.dst)
	if dst == nil {
		return fmt.Errorf("import into unknown account %q", ci.dst)
	}
	im := ci.im
	switch {
	case im.Stream != nil:
		src := s.LookupAccount(im.Stream.Account)
		if src == nil {
			return fmt.Errorf("stream import from unknown account %q", im.Stream.Account)
		}
		return s.addStreamImport(ci.key, dst, src, im.Stream.Subject, im.Prefix, im.To)
	case im.Service != nil:
		src := s.LookupAccount(im.Service.Account)
		if src == nil {
			return fmt.Errorf("service import from unknown account %q", im.Service.Account)
		}
		return s.addServiceImport(ci.key, dst, src, im.Service.Subject, im.To, ci.rt, ci.threshold, false)
	}
	return nil
}

// reloadAccounts brings the accounts to next's, keeping what did not
// change: accounts added are made, with their mappings; imports no longer
// configured (or changed, or whose export now answers otherwise) are
// removed and the new ones added, while the others keep their
// subscriptions and the requests they have in flight. Clients'
// subscriptions are untouched. Accounts next no longer has are removed
// afterwards (removeAccounts), once their users' connections are closed.
func (s *Server) reloadAccounts(next *Options) {
	for _, ao := range next.Accounts {
		s.RegisterAccount(ao.Name)
	}
	if next.SystemAccount != "" {
		// The first accounts of a server started without any bring the
		// system account with them.
		s.RegisterAccount(next.SystemAccount)
	}
	if err := s.reloadMappings(next); err != nil {
		// Validate compiled the same mappings: this does not happen.
		s.log.Error("subject mappings not reloaded", "err", err)
	}
	imports := configuredImports(next)
	keep := make(map[string]bool, len(imports))
	for _, ci := range imports {
		keep[ci.key] = true
	}
	s.removeImports(keep)
	have := s.importKeys()
	for _, ci := range imports {
		if have[ci.key] {
			continue
		}
		if err := s.addImport(ci); err != nil {
			// Validate checked the same imports: this does not happen.
			s.log.Error("import not reloaded", "account", ci.dst, "err", err)
		}
	}
}

// removeAccounts removes the accounts old configured and next does not.
func (s *Server) removeAccounts(old, next *Options) {
	// The system account stays, as in nats-server (a reload cannot change
	// which it is).
	kept := map[string]bool{old.SystemAccount: true, next.SystemAccount: true,
		options.DefaultSystemAccount: true, globalAccountName: true}
	for _, ao := range next.Accounts {
		kept[ao.Name] = true
	}
	for _, ao := range old.Accounts {
		if !kept[ao.Name] {
			s.removeAccount(ao.Name)
		}
	}
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
