// Package placement chooses the servers that hold a replicated stream or
// consumer, as nats-server chooses them, from a description of the
// cluster's JetStream servers. It is pure: the meta group's leader calls it
// with what it knows of each server, and a seeded random source makes a
// choice replayable.
package placement

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
)

// ExcludeTag on a server keeps every placement off it (nats-server's
// "!jetstream" tag).
const ExcludeTag = "!jetstream"

// Server is what the chooser knows of one JetStream server.
type Server struct {
	ID      string
	Name    string
	Cluster string
	Tags    []string
	Offline bool
	// Limits and use of each storage (a limit of 0 or less is none).
	MaxMemory, MaxStore           int64
	Memory, Store                 uint64 // stored now
	ReservedMemory, ReservedStore uint64 // reserved by streams' max_bytes
	// Assets: streams (and their consumers) it holds now, and of those the
	// replicated ones.
	Streams, HAAssets int
}

// Request is one placement to make.
type Request struct {
	Replicas int
	Cluster  string   // the target cluster (required)
	Tags     []string // every one must be on a chosen server
	Memory   bool     // memory storage (else file)
	MaxBytes int64    // the stream's max_bytes; 0 or less reserves nothing
	// Existing members are kept (a scale-up adds to them); Ignore are
	// never chosen (a server being removed).
	Existing []string
	Ignore   []string
	// UniqueTag is a tag prefix whose values must differ across the
	// chosen servers (jetstream unique_tag, e.g. "az:"), unless the
	// request's own tags name one.
	UniqueTag string
	// MaxHAAssets bounds the replicated assets of a chosen server (0:
	// none).
	MaxHAAssets int
}

// Error says why no placement was possible, as nats-server words it.
type Error struct {
	Offline, ExcludeTag, NoStorage, UniqueTag, Misc, NoJetStream bool
	MissingTags                                                  []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("no suitable peers for placement")
	for _, r := range []struct {
		on   bool
		text string
	}{
		{e.Offline, "peer offline"}, {e.ExcludeTag, "exclude tag set"}, {e.NoStorage, "insufficient storage"},
		{e.UniqueTag, "server tag not unique"}, {e.Misc, "miscellaneous issue"}, {e.NoJetStream, "jetstream not enabled in cluster"},
	} {
		if r.on {
			b.WriteString(", " + r.text)
		}
	}
	if len(e.MissingTags) > 0 {
		b.WriteString(", tags not matched [")
		for i, t := range e.MissingTags {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("'" + t + "'")
		}
		b.WriteString("]")
	}
	return b.String()
}

// missing records a tag some server lacked; the list is kept sorted so
// the text does not depend on the order servers were looked at.
func (e *Error) missing(tag string) {
	if i, found := slices.BinarySearch(e.MissingTags, tag); !found {
		e.MissingTags = slices.Insert(e.MissingTags, i, tag)
	}
}

// candidate is a server that passed every filter.
type candidate struct {
	id          string
	avail       uint64
	ha, streams int
}

// Choose returns req.Replicas server IDs: the existing members first, then
// the servers with the most storage available for the request (ties: the
// fewest streams), and for a replicated request the fewest replicated
// assets first. rng breaks ties among equal servers (shuffled first).
func Choose(servers []Server, req Request, rng *rand.Rand) ([]string, error) {
	if req.Cluster == "" || req.Replicas < 1 {
		return nil, &Error{Misc: true}
	}
	if len(req.Existing) >= req.Replicas {
		return slices.Clone(req.Existing[:req.Replicas]), nil
	}
	unique := req.UniqueTag
	for _, t := range req.Tags {
		if unique != "" && strings.HasPrefix(t, unique) {
			unique = "" // the request pins the value itself
		}
	}
	byID := make(map[string]*Server, len(servers))
	for i := range servers {
		byID[servers[i].ID] = &servers[i]
	}
	taken := map[string]bool{} // unique tag values in use
	for _, id := range req.Existing {
		if s := byID[id]; s != nil && unique != "" {
			if t := uniqueValue(s.Tags, unique); t != "" {
				taken[t] = true
			}
		}
	}
	order := make([]*Server, len(servers))
	for i := range servers {
		order[i] = &servers[i]
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	var e Error
	var cands []candidate
	for _, s := range order {
		switch {
		case s.Cluster != req.Cluster:
			continue
		case s.Offline:
			e.Offline = true
			continue
		case slices.Contains(req.Ignore, s.ID), slices.Contains(req.Existing, s.ID):
			continue
		case slices.Contains(s.Tags, ExcludeTag):
			e.ExcludeTag = true
			continue
		}
		if t, ok := firstMissing(s.Tags, req.Tags); ok {
			e.missing(t)
			continue
		}
		avail := available(s, req.Memory)
		if req.MaxBytes > 0 && uint64(req.MaxBytes) > avail {
			e.NoStorage = true
			continue
		}
		if req.MaxHAAssets > 0 && s.HAAssets > req.MaxHAAssets {
			e.Misc = true
			continue
		}
		if unique != "" {
			t := uniqueValue(s.Tags, unique)
			if t == "" || taken[t] {
				e.UniqueTag = true
				continue
			}
			taken[t] = true
		}
		cands = append(cands, candidate{id: s.ID, avail: avail, ha: s.HAAssets, streams: s.Streams})
	}
	need := req.Replicas - len(req.Existing)
	if len(cands) < need {
		if len(servers) == 0 {
			e.NoJetStream = true
		}
		return nil, &e
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if a.avail != b.avail {
			return cmp.Compare(b.avail, a.avail)
		}
		return cmp.Compare(a.streams, b.streams)
	})
	if req.Replicas > 1 {
		slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(a.ha, b.ha) })
	}
	out := slices.Clone(req.Existing)
	for _, c := range cands[:need] {
		out = append(out, c.id)
	}
	return out, nil
}

// available is what a server can still take of the request's storage:
// its limit less the larger of what is stored and what is reserved. A
// server without a limit has all the room there is.
func available(s *Server, memory bool) uint64 {
	limit, used := s.MaxStore, max(s.Store, s.ReservedStore)
	if memory {
		limit, used = s.MaxMemory, max(s.Memory, s.ReservedMemory)
	}
	if limit <= 0 {
		return ^uint64(0)
	}
	if uint64(limit) <= used {
		return 0
	}
	return uint64(limit) - used
}

// firstMissing is the first of want that tags lacks.
func firstMissing(tags, want []string) (string, bool) {
	for _, t := range want {
		if !slices.Contains(tags, t) {
			return t, true
		}
	}
	return "", false
}

// uniqueValue is the server's tag with the unique prefix, "" without one.
func uniqueValue(tags []string, prefix string) string {
	for _, t := range tags {
		if strings.HasPrefix(t, prefix) {
			return t
		}
	}
	return ""
}
