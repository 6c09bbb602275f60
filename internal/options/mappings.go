package options

import (
	"errors"
	"fmt"

	"github.com/starling-mq/starling/internal/subject"
)

// Mapping rewrites subjects published in an account (nats-server's
// mappings block): a message published on a subject matching Subject goes
// to one of Destinations instead, picked by weight.
type Mapping struct {
	Subject      string
	Destinations []MapDest
}

// MapDest is one destination of a mapping. Weight is the percentage of
// messages sent there; when the weights add up to less than 100 the rest
// keep their subject (nats-server adds the source as a destination),
// unless the source is itself listed, and then the rest are dropped.
type MapDest struct {
	Subject string
	Weight  int // 0..100; a mapping written as a plain subject has one destination of 100
	// Cluster scopes the destination to one cluster. nats-server accepts
	// it; Starling refuses it (see validate).
	Cluster string
}

// ErrClusterScopedMapping refuses a mapping destination scoped to a
// cluster: Starling has no cluster-scoped mappings.
var ErrClusterScopedMapping = errors.New("cluster-scoped mapping destinations are not implemented by Starling")

// validate applies nats-server's checks (its texts where it has them):
// a valid source, each destination once, weights within 100 in total, and
// destinations the source's wildcards can fill.
func (m *Mapping) validate() error {
	if !subject.Valid(m.Subject) {
		return fmt.Errorf("Subject %q is not a valid subject", m.Subject)
	}
	fail := func(err error) error {
		if len(m.Destinations) == 1 && m.Destinations[0].Weight == 100 {
			// nats-server names the destination of a plain "src: dest".
			return fmt.Errorf("Error adding mapping for %q to %q : %w", m.Subject, m.Destinations[0].Subject, err)
		}
		return fmt.Errorf("Error adding mapping for %q : %w", m.Subject, err)
	}
	if len(m.Destinations) == 0 {
		return fail(errors.New("no destination"))
	}
	seen := make(map[string]bool, len(m.Destinations))
	total := map[string]int{}
	for _, d := range m.Destinations {
		if seen[d.Subject] {
			return fail(fmt.Errorf("duplicate entry for %q", d.Subject))
		}
		seen[d.Subject] = true
		if d.Weight < 0 || d.Weight > 100 {
			return fail(errors.New("individual weights need to be <= 100"))
		}
		total[d.Cluster] += d.Weight
		if total[d.Cluster] > 100 {
			return fail(errors.New("total weight needs to be <= 100"))
		}
		if d.Cluster != "" {
			return fail(ErrClusterScopedMapping)
		}
		if _, err := subject.NewMappingTransform(m.Subject, d.Subject); err != nil || d.Subject == "" {
			if err == nil {
				err = errors.New("empty destination")
			}
			return fail(err)
		}
	}
	return nil
}
