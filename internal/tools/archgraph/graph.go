package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Graph maps each package to the packages it imports directly. Every
// package appears as a key; an import of a package that is not a key is
// ignored.
type Graph map[string][]string

// nodes returns the packages of g in sorted order.
func (g Graph) nodes() []string {
	return slices.Sorted(maps.Keys(g))
}

// without returns the graph with the packages drop accepts, and the imports
// of them, removed.
func (g Graph) without(drop func(string) bool) Graph {
	out := Graph{}
	for p, deps := range g {
		if drop(p) {
			continue
		}
		var kept []string
		for _, d := range deps {
			if _, known := g[d]; known && !drop(d) {
				kept = append(kept, d)
			}
		}
		slices.Sort(kept)
		out[p] = slices.Compact(kept)
	}
	return out
}

// reduce returns the transitive reduction of g: an edge A→C is dropped when
// C can also be reached from A through another of A's imports, so that the
// diagram shows each dependency once, at the layer where it is made. Go
// forbids import cycles, and the reduction of a cyclic graph is not unique,
// so a cycle is an error.
func reduce(g Graph) (Graph, error) {
	below, err := descendants(g)
	if err != nil {
		return nil, err
	}
	out := Graph{}
	for p, deps := range g {
		kept := []string{}
		for _, d := range deps {
			if _, known := g[d]; !known {
				continue
			}
			redundant := false
			for _, via := range deps {
				if via != d && below[via][d] {
					redundant = true
					break
				}
			}
			if !redundant {
				kept = append(kept, d)
			}
		}
		slices.Sort(kept)
		out[p] = slices.Compact(kept)
	}
	return out, nil
}

// descendants returns, for every package, the set of packages it reaches
// through one or more imports. It walks the graph depth first and reports
// the first cycle it meets.
func descendants(g Graph) (map[string]map[string]bool, error) {
	below := map[string]map[string]bool{}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(p string, path []string) error
	visit = func(p string, path []string) error {
		switch state[p] {
		case done:
			return nil
		case visiting:
			cycle := append(path[slices.Index(path, p):], p)
			return fmt.Errorf("import cycle: %s", strings.Join(cycle, " -> "))
		}
		state[p] = visiting
		set := map[string]bool{}
		for _, d := range g[p] {
			if _, known := g[d]; !known {
				continue
			}
			if err := visit(d, append(path, p)); err != nil {
				return err
			}
			set[d] = true
			for x := range below[d] {
				set[x] = true
			}
		}
		below[p] = set
		state[p] = done
		return nil
	}
	for _, p := range g.nodes() {
		if err := visit(p, nil); err != nil {
			return nil, err
		}
	}
	return below, nil
}
