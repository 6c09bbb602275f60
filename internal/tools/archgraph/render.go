package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The diagram sits between these two lines of the document.
const (
	beginMarker = "<!-- archgraph:begin -->"
	endMarker   = "<!-- archgraph:end -->"
)

// diagram draws g as a Mermaid flowchart: the packages hidden names are
// left out (and listed below the chart), the rest are reduced transitively
// and boxed by layer. The output depends only on g and the tables, never
// on map order or the machine.
func diagram(g Graph, layers []layer, hidden []string) (string, error) {
	isHidden := func(p string) bool { return matches(p, hidden) }
	shown, err := reduce(g.without(isHidden))
	if err != nil {
		return "", err
	}
	var left []string
	for _, p := range g.nodes() {
		if isHidden(p) {
			left = append(left, "`"+p+"`")
		}
	}
	chart, err := flowchart(shown, layers)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("<!-- Generated from `go list` by internal/tools/archgraph; do not edit by hand. -->\n")
	b.WriteString("```mermaid\n")
	b.WriteString(chart)
	b.WriteString("```\n")
	if len(left) > 0 {
		fmt.Fprintf(&b, "\nNot drawn (benchmarks, tests, test helpers, tools): %s.\n", strings.Join(left, ", "))
	}
	return b.String(), nil
}

// flowchart renders g, one subgraph per layer that holds a package, in the
// order of layers, then the edges. Nodes and edges are sorted.
func flowchart(g Graph, layers []layer) (string, error) {
	boxes := append(layers[:len(layers):len(layers)], other)
	members := make([][]string, len(boxes))
	ids := map[string]string{} // node id → package, to catch two packages with one id
	for _, p := range g.nodes() {
		id := nodeID(p)
		if prev, dup := ids[id]; dup {
			return "", fmt.Errorf("packages %s and %s have the same diagram id %s", prev, p, id)
		}
		ids[id] = p
		i := len(boxes) - 1
		for j, l := range layers {
			if matches(p, l.patterns) {
				i = j
				break
			}
		}
		members[i] = append(members[i], p)
	}
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for i, box := range boxes {
		if len(members[i]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "    subgraph layer_%s [\"%s\"]\n", box.id, box.title)
		for _, p := range members[i] {
			fmt.Fprintf(&b, "        %s[\"%s\"]\n", nodeID(p), p)
		}
		b.WriteString("    end\n")
	}
	for _, p := range g.nodes() {
		for _, d := range slices.Sorted(slices.Values(g[p])) {
			fmt.Fprintf(&b, "    %s --> %s\n", nodeID(p), nodeID(d))
		}
	}
	return b.String(), nil
}

// nodeID turns a package path into a Mermaid node id: letters, digits and
// underscores only. Mermaid reads a node called "end" as the end of a
// subgraph, so that one name gets a suffix.
func nodeID(pkg string) string {
	id := []byte(pkg)
	for i, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			id[i] = '_'
		}
	}
	if string(id) == "end" {
		return "end_"
	}
	return string(id)
}

// splice replaces the lines between the begin and end markers of doc with
// block, which must end in a newline. Each marker must appear exactly
// once, on a line of its own, begin first.
func splice(doc []byte, block string) ([]byte, error) {
	begin, afterBegin, err := markerLine(doc, beginMarker)
	if err != nil {
		return nil, err
	}
	end, _, err := markerLine(doc, endMarker)
	if err != nil {
		return nil, err
	}
	if end < begin {
		return nil, fmt.Errorf("%s comes before %s", endMarker, beginMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:afterBegin])
	out.WriteString(block)
	out.Write(doc[end:])
	return out.Bytes(), nil
}

// markerLine returns where the one line of doc that is marker starts, and
// where the line after it starts.
func markerLine(doc []byte, marker string) (at, next int, err error) {
	at = -1
	for off := 0; off < len(doc); {
		line, lineEnd := doc[off:], len(doc)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, lineEnd = line[:i], off+i+1
		}
		if string(bytes.TrimRight(line, "\r")) == marker {
			if at >= 0 {
				return 0, 0, fmt.Errorf("%s appears twice", marker)
			}
			at, next = off, lineEnd
		}
		off = lineEnd
	}
	if at < 0 {
		return 0, 0, errors.New(marker + " is missing: the diagram goes between " + beginMarker + " and " + endMarker)
	}
	return at, next, nil
}
