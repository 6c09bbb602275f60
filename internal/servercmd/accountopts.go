package servercmd

import (
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/server"
)

// publicAccounts shares the lists: server.New copies them again.
func publicAccounts(in []options.AccountOptions) []server.AccountOptions {
	if in == nil {
		return nil
	}
	out := make([]server.AccountOptions, len(in))
	for i, a := range in {
		pa := server.AccountOptions{
			Name:               a.Name,
			Mappings:           publicMappings(a.Mappings),
			DefaultPermissions: publicPermissions(a.DefaultPermissions),
		}
		if a.Exports != nil {
			pa.Exports = make([]server.Export, len(a.Exports))
			for j, e := range a.Exports {
				pa.Exports[j] = server.Export(e)
			}
		}
		if a.Imports != nil {
			pa.Imports = make([]server.Import, len(a.Imports))
			for j, im := range a.Imports {
				pa.Imports[j] = server.Import{Stream: publicSource(im.Stream), Service: publicSource(im.Service),
					Prefix: im.Prefix, To: im.To, Share: im.Share, AllowTrace: im.AllowTrace}
			}
		}
		if js := a.JetStream; js != nil {
			pa.JetStream = &server.AccountJetStream{MaxMemory: js.MaxMemory, MaxStore: js.MaxStore,
				MaxStreams: js.MaxStreams, MaxConsumers: js.MaxConsumers}
		}
		out[i] = pa
	}
	return out
}

func publicSource(s *options.ImportSource) *server.ImportSource {
	if s == nil {
		return nil
	}
	return &server.ImportSource{Account: s.Account, Subject: s.Subject}
}

func publicMappings(in []options.Mapping) []server.Mapping {
	if in == nil {
		return nil
	}
	out := make([]server.Mapping, len(in))
	for i, m := range in {
		out[i] = server.Mapping{Subject: m.Subject}
		if m.Destinations != nil {
			out[i].Destinations = make([]server.MapDest, len(m.Destinations))
			for j, d := range m.Destinations {
				out[i].Destinations[j] = server.MapDest(d)
			}
		}
	}
	return out
}
