// Package mapping holds an account's subject mappings: published subjects
// rewritten before delivery, optionally split by weight among several
// destinations ("mappings { src: [{destination: a, weight: 80%}, …] }").
// It is pure: the server builds Mappings from its configuration and calls
// Map on each publish, passing the randomness in.
package mapping

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/starling-mq/starling/internal/subject"
)

// Destination is one weighted destination of a mapping.
type Destination struct {
	Subject string
	Weight  int    // percent, 0 to 100
	Cluster string // when set, used only by servers of that cluster
}

// Entry is one configured mapping: a source pattern and its destinations.
// A plain "src: dest" mapping is one destination of weight 100.
type Entry struct {
	Source       string
	Destinations []Destination
}

// Error tells which mapping was refused; Err carries nats-server's text.
type Error struct {
	Source string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("mapping %q: %v", e.Source, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Errors for weights and duplicates, in nats-server's words.
var (
	ErrWeight          = errors.New("individual weights need to be <= 100")
	ErrNegativeWeight  = errors.New("invalid weight for mapping destination: below 0")
	ErrTotalWeight     = errors.New("total weight needs to be <= 100")
	ErrDuplicateSource = errors.New("duplicate mapping source")
)

// Mappings are an account's mappings, compiled for one cluster.
type Mappings struct {
	list []*mapping
}

type mapping struct {
	src   string
	wild  bool
	dests []dest // for this cluster; cumulative weights, ascending
}

// dest is a compiled destination; tr nil means the subject unchanged.
type dest struct {
	tr  *subject.Transform
	cum uint32 // cumulative weight: chosen when the draw is below it
}

// New compiles entries for a server of the named cluster ("" when not
// clustered). Entries whose destinations are scoped to another cluster
// are checked but not used, as nats-server does.
func New(cluster string, entries []Entry) (*Mappings, error) {
	m := &Mappings{}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if seen[e.Source] {
			return nil, &Error{e.Source, ErrDuplicateSource}
		}
		seen[e.Source] = true
		mp, err := compileEntry(cluster, e)
		if err != nil {
			return nil, &Error{e.Source, err}
		}
		m.list = append(m.list, mp)
	}
	return m, nil
}

// Len is the number of mappings.
func (m *Mappings) Len() int {
	if m == nil {
		return 0
	}
	return len(m.list)
}

// Map rewrites a published subject. It reports false when no mapping's
// source matches (the subject stays as it is). When several match, the
// first in the list wins, as in nats-server's account (whose own config
// parser adds mappings in Go map order, so there overlapping sources
// resolve in no defined order). rnd draws the
// weighted choice; its value is scaled into 0..99 the way nats-server
// scales its random number. An empty result with true means the message
// goes nowhere: the weights chosen sum below 100 and the source itself
// was listed as a destination (nats-server's way to ask for loss), or a
// split left an empty token.
func (m *Mappings) Map(subj string, rnd func() uint32) (string, bool) {
	if m == nil {
		return subj, false
	}
	for _, mp := range m.list {
		if mp.wild && subject.Matches(mp.src, subj) || !mp.wild && mp.src == subj {
			return mp.apply(subj, rnd), true
		}
	}
	return subj, false
}

func (mp *mapping) apply(subj string, rnd func() uint32) string {
	d := mp.pick(rnd)
	if d == nil {
		return ""
	}
	if d.tr == nil {
		return subj
	}
	out, ok := d.tr.Apply(subj)
	if !ok {
		return ""
	}
	return out
}

func (mp *mapping) pick(rnd func() uint32) *dest {
	if len(mp.dests) == 1 && mp.dests[0].cum == 100 {
		return &mp.dests[0] // no draw for a plain mapping
	}
	w := uint32(uint64(rnd()) * 100 >> 32)
	for i := range mp.dests {
		if w < mp.dests[i].cum {
			return &mp.dests[i]
		}
	}
	return nil
}

// sortCumulative orders destinations by weight (stable, so equal weights
// keep their configured order) and turns weights into running totals.
func sortCumulative(ds []dest) {
	slices.SortStableFunc(ds, func(a, b dest) int { return cmp.Compare(a.cum, b.cum) })
	var total uint32
	for i := range ds {
		total += ds[i].cum
		ds[i].cum = total
	}
}
