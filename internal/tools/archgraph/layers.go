package main

import "strings"

// A layer is one box of the diagram: a title and the packages it holds.
// A pattern is a package path relative to the module, or "dir/..." for dir
// and every package below it, as in go's own patterns.
type layer struct {
	id       string // Mermaid subgraph id, unique among layers
	title    string
	patterns []string
}

// layers are the boxes of the diagram, from the top (what users run) to
// the bottom (what everything else builds on). A package matches the first
// layer that names it; a package no layer names lands in the last box, so
// a new package shows up at once and asks to be placed.
var layers = []layer{
	{"entry", "entry points", []string{"cmd/...", "internal/servercmd", "internal/cli"}},
	{"api", "embedding API", []string{"server"}},
	{"engine", "engine", []string{"internal/core", "internal/monitor", "internal/metrics"}},
	{"jetstream", "JetStream", []string{
		"internal/jetstream", "internal/stream", "internal/consumer",
		"internal/jsapi", "internal/snapshot",
	}},
	// internal/options, the server's options once they leave config, is
	// named ahead of time; a pattern that matches nothing draws nothing.
	{"config", "configuration and logging", []string{
		"internal/options", "internal/config", "internal/conf", "internal/logfile",
	}},
	{"storage", "storage", []string{
		"internal/store", "internal/filestore", "internal/vfs", "internal/storedir",
	}},
	{"pure", "protocol and pure helpers", []string{
		"internal/proto", "internal/subject", "internal/msgtrace", "internal/auth", "internal/interest",
	}},
}

// other is the box for packages no layer names.
var other = layer{"other", "not yet placed: add to archgraph's layers", nil}

// hidden are packages the diagram leaves out, listed by name under it.
// They are benchmarks, tests, test helpers and this tool: none of them is
// part of the server or the CLI, and drawn in they would only add arrows
// into the packages they exercise. Packages with test files only are not
// packages for this purpose and are never listed.
var hidden = []string{
	"bench/...",
	"test/...",
	"internal/tools/...",
	"internal/testcert",
	"internal/slowreader",
	"internal/chaos",
	"internal/store/storetest", "internal/options/optionstest", "internal/stream/transcript",
}

// matches reports whether pkg is named by one of patterns.
func matches(pkg string, patterns []string) bool {
	for _, p := range patterns {
		if p == pkg {
			return true
		}
		if dir, ok := strings.CutSuffix(p, "/..."); ok && (pkg == dir || strings.HasPrefix(pkg, dir+"/")) {
			return true
		}
	}
	return false
}
