package options

// The import graph: the layering docs/architecture.md describes holds only
// as long as a test fails when it stops holding. It lives here because this
// package is what lets the front ends do without the engine.

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/starling-mq/starling/"

// engine are the packages that run the server. The command line and the
// configuration file reach them only through the public server package.
var engine = []string{
	"internal/core", "internal/jetstream", "internal/stream", "internal/consumer",
	"internal/filestore", "internal/monitor",
}

// frontEnds must not import the engine, directly or through anything but
// the server package.
var frontEnds = []string{"internal/config", "internal/servercmd", "cmd/starling", "internal/options"}

// gateway is where the walk stops: the public API is allowed to run the
// engine.
const gateway = module + "server"

// TestFrontEndsDoNotImportTheEngine walks the front ends' dependencies
// (not their tests') and names the import chain of any engine package it
// reaches.
func TestFrontEndsDoNotImportTheEngine(t *testing.T) {
	graph := importGraph(t, frontEnds)
	for _, root := range frontEnds {
		if chain := offending(graph, module+root); chain != nil {
			t.Errorf("%s imports the engine: %s", root, strings.Join(chain, " -> "))
		}
	}
}

// TestOptionsDoNoIO: the options package is data and rules; reading files,
// the environment or the network belongs to its callers.
func TestOptionsDoNoIO(t *testing.T) {
	graph := importGraph(t, []string{"internal/options"})
	for _, imp := range graph[module+"internal/options"] {
		if slices.Contains([]string{"os", "os/exec", "net", "net/http", "io/fs", "syscall", "io/ioutil"}, imp) {
			t.Errorf("internal/options imports %s", imp)
		}
	}
}

// offending returns the import chain from root to the first engine package
// reached without passing through the gateway, or nil.
func offending(graph map[string][]string, root string) []string {
	parent := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if isEngine(p) {
			var chain []string
			for q := p; q != ""; q = parent[q] {
				chain = append(chain, strings.TrimPrefix(q, module))
			}
			slices.Reverse(chain)
			return chain
		}
		if p == gateway {
			continue
		}
		for _, imp := range graph[p] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

func isEngine(pkg string) bool {
	for _, e := range engine {
		if pkg == module+e || strings.HasPrefix(pkg, module+e+"/") {
			return true
		}
	}
	return false
}

func TestOffending(t *testing.T) {
	m := func(s string) string { return module + s }
	graph := map[string][]string{
		m("a"):      {"fmt", m("b"), m("server")},
		m("b"):      {m("c")},
		m("c"):      {m("internal/core")},
		m("server"): {m("internal/core")},
		m("d"):      {m("server"), "fmt"},
		m("e"):      {m("internal/jetstream/api")},
	}
	tests := []struct {
		root string
		want []string
	}{
		{"a", []string{"a", "b", "c", "internal/core"}},
		{"d", nil}, // through the public API only
		{"e", []string{"e", "internal/jetstream/api"}},
	}
	for _, tt := range tests {
		if got := offending(graph, m(tt.root)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.root, got, tt.want)
		}
	}
}

// importGraph maps every module package the roots depend on to its
// imports (standard and third-party packages are leaves: they cannot
// import ours). It reads the sources with go/build rather than running go
// list, so the test cache sees the files it depends on and a new import
// fails the next run instead of a cached pass.
func importGraph(t *testing.T, roots []string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	var queue []string
	for _, r := range roots {
		queue = append(queue, module+r)
	}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if _, done := graph[pkg]; done || !strings.HasPrefix(pkg, module) {
			continue
		}
		dir := filepath.Join("..", "..", filepath.FromSlash(strings.TrimPrefix(pkg, module)))
		bp, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		graph[pkg] = bp.Imports
		queue = append(queue, bp.Imports...)
	}
	return graph
}
