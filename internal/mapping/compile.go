package mapping

import (
	"fmt"

	"github.com/starling-mq/starling/internal/subject"
)

// compileEntry checks every destination of e, in nats-server's order
// (duplicate, weight, total per cluster, transform), and keeps those
// this cluster uses: its own cluster's when it has any, else the
// unscoped ones.
func compileEntry(cluster string, e Entry) (*mapping, error) {
	if !subject.Valid(e.Source) {
		return nil, subject.ErrBadSubject
	}
	mp := &mapping{src: e.Source, wild: subject.HasWildcard(e.Source)}
	seen := make(map[string]bool, len(e.Destinations))
	total := make(map[string]int)
	var plain, scoped []dest
	hasScoped := false
	for _, d := range e.Destinations {
		if seen[d.Subject] {
			return nil, fmt.Errorf("duplicate entry for %q", d.Subject)
		}
		seen[d.Subject] = true
		switch {
		case d.Weight > 100:
			return nil, ErrWeight
		case d.Weight < 0:
			return nil, ErrNegativeWeight
		}
		if total[d.Cluster] += d.Weight; total[d.Cluster] > 100 {
			return nil, ErrTotalWeight
		}
		tr, err := subject.NewMappingTransform(e.Source, d.Subject)
		if err != nil {
			return nil, err
		}
		cd := dest{tr: tr, cum: uint32(d.Weight)}
		switch d.Cluster {
		case "":
			plain = append(plain, cd)
		case cluster:
			scoped = append(scoped, cd)
			hasScoped = true
		}
	}
	// The source itself takes what the weights leave, unless it was
	// listed: then the rest is dropped, on purpose.
	fill := func(ds []dest) []dest {
		sum := 0
		for _, d := range ds {
			sum += int(d.cum)
		}
		if sum != 100 && !seen[e.Source] {
			ds = append(ds, dest{cum: uint32(100 - sum)})
		}
		sortCumulative(ds)
		return ds
	}
	if hasScoped {
		mp.dests = fill(scoped)
	} else {
		mp.dests = fill(plain)
	}
	return mp, nil
}
