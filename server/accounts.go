package server

import (
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

// Account names: the global account holds the clients of a server without
// accounts (and the users of Options.Users that name no account); the
// system account defaults to DefaultSystemAccount when there are accounts.
const (
	GlobalAccount        = options.GlobalAccount
	DefaultSystemAccount = options.DefaultSystemAccount
)

// Service export response types (Export.ResponseType).
const (
	ResponseSingleton = options.ResponseSingleton
	ResponseStream    = options.ResponseStream
	ResponseChunked   = options.ResponseChunked
)

// AccountOptions is one account, as nats-server's accounts block defines
// it: an isolated subject space that shares what it Exports and takes what
// it Imports. Its users are in Options.Users and Options.Nkeys, naming it
// in their Account field.
type AccountOptions struct {
	Name    string
	Exports []Export
	Imports []Import
	// JetStream is nil when the account may not use JetStream.
	JetStream *AccountJetStream
	// Mappings rewrite subjects published in this account.
	Mappings []Mapping
	// DefaultPermissions apply to this account's users that have none of
	// their own; Options.DefaultPermissions do not reach them.
	DefaultPermissions *Permissions
}

// AccountJetStream is an account's JetStream limits; -1 means no limit
// beyond the server's.
type AccountJetStream struct {
	MaxMemory    int64
	MaxStore     int64
	MaxStreams   int
	MaxConsumers int
}

// Export is a stream or a service an account offers: exactly one of Stream
// and Service is set.
type Export struct {
	Stream  string
	Service string
	// Accounts may import it; nil means any account.
	Accounts []string
	// Service exports only: how the service replies (ResponseSingleton
	// when ""), how long a response may take (2m when 0), and whether
	// message traces may cross into it.
	ResponseType      string
	ResponseThreshold time.Duration
	AllowTrace        bool
}

// Import takes another account's export: exactly one of Stream and
// Service is set.
type Import struct {
	Stream  *ImportSource
	Service *ImportSource
	// Prefix (streams only) is prepended to the imported subjects.
	Prefix string
	// To is the local subject: for a stream what the imported subjects
	// become, for a service where this account's clients send requests
	// (default the exported subject).
	To string
	// Share (services only) lets the exporter see request latency details.
	Share bool
	// AllowTrace (streams only) lets message traces cross the import.
	AllowTrace bool
}

// ImportSource is an account and a subject it exports.
type ImportSource struct {
	Account string
	Subject string
}

// Mapping rewrites subjects published on Subject (which may hold
// wildcards) to one of Destinations, picked by weight.
type Mapping struct {
	Subject      string
	Destinations []MapDest
}

// MapDest is one destination of a Mapping: a subject that may use the
// source's wildcards ("{{wildcard(1)}}" or "$1"), and the percentage of
// messages sent there. Weights below 100 in total leave the rest on their
// subject. Cluster-scoped destinations are refused.
type MapDest struct {
	Subject string
	Weight  int
	Cluster string
}

func (a *AccountOptions) internal() options.AccountOptions {
	out := options.AccountOptions{
		Name:               a.Name,
		Mappings:           mappingsInternal(a.Mappings),
		DefaultPermissions: a.DefaultPermissions.internal(),
	}
	if a.Exports != nil {
		out.Exports = make([]options.Export, len(a.Exports))
		for i, e := range a.Exports {
			out.Exports[i] = options.Export{Stream: e.Stream, Service: e.Service, Accounts: slices.Clone(e.Accounts),
				ResponseType: e.ResponseType, ResponseThreshold: e.ResponseThreshold, AllowTrace: e.AllowTrace}
		}
	}
	if a.Imports != nil {
		out.Imports = make([]options.Import, len(a.Imports))
		for i, im := range a.Imports {
			out.Imports[i] = options.Import{Stream: im.Stream.internal(), Service: im.Service.internal(),
				Prefix: im.Prefix, To: im.To, Share: im.Share, AllowTrace: im.AllowTrace}
		}
	}
	if js := a.JetStream; js != nil {
		out.JetStream = &options.AccountJetStream{MaxMemory: js.MaxMemory, MaxStore: js.MaxStore,
			MaxStreams: js.MaxStreams, MaxConsumers: js.MaxConsumers}
	}
	return out
}

func (s *ImportSource) internal() *options.ImportSource {
	if s == nil {
		return nil
	}
	return &options.ImportSource{Account: s.Account, Subject: s.Subject}
}

func accountsInternal(in []AccountOptions) []options.AccountOptions {
	if in == nil {
		return nil
	}
	out := make([]options.AccountOptions, len(in))
	for i := range in {
		out[i] = in[i].internal()
	}
	return out
}

func mappingsInternal(in []Mapping) []options.Mapping {
	if in == nil {
		return nil
	}
	out := make([]options.Mapping, len(in))
	for i, m := range in {
		out[i] = options.Mapping{Subject: m.Subject}
		if m.Destinations != nil {
			out[i].Destinations = make([]options.MapDest, len(m.Destinations))
			for j, d := range m.Destinations {
				out[i].Destinations[j] = options.MapDest(d)
			}
		}
	}
	return out
}
