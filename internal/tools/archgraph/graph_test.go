package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestReduce(t *testing.T) {
	tests := []struct {
		name string
		in   Graph
		want Graph
	}{
		{
			name: "empty",
			in:   Graph{},
			want: Graph{},
		},
		{
			name: "chain keeps every edge",
			in:   Graph{"a": {"b"}, "b": {"c"}, "c": nil},
			want: Graph{"a": {"b"}, "b": {"c"}, "c": {}},
		},
		{
			name: "shortcut over a chain is dropped",
			in:   Graph{"a": {"b", "c"}, "b": {"c"}, "c": nil},
			want: Graph{"a": {"b"}, "b": {"c"}, "c": {}},
		},
		{
			name: "shortcut over a long path is dropped",
			in:   Graph{"a": {"d", "b"}, "b": {"c"}, "c": {"d"}, "d": nil},
			want: Graph{"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {}},
		},
		{
			name: "diamond keeps both sides",
			in:   Graph{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": nil},
			want: Graph{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {}},
		},
		{
			name: "diamond with a shortcut to the bottom",
			in:   Graph{"a": {"b", "c", "d"}, "b": {"d"}, "c": {"d"}, "d": nil},
			want: Graph{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {}},
		},
		{
			name: "imports of unknown packages are ignored",
			in:   Graph{"a": {"fmt", "b"}, "b": {"os"}},
			want: Graph{"a": {"b"}, "b": {}},
		},
		{
			name: "duplicate imports are merged and sorted",
			in:   Graph{"a": {"c", "b", "c"}, "b": nil, "c": nil},
			want: Graph{"a": {"b", "c"}, "b": {}, "c": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reduce(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reduce(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReduceRejectsCycles(t *testing.T) {
	tests := []struct {
		name string
		in   Graph
		want string
	}{
		{"self import", Graph{"a": {"a"}}, "a -> a"},
		{"two packages", Graph{"a": {"b"}, "b": {"a"}}, "a -> b -> a"},
		{"behind a diamond", Graph{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {"c"}}, "d -> c -> d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reduce(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("reduce(%v) error = %v, want one naming %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestWithout(t *testing.T) {
	g := Graph{"a": {"b", "t"}, "b": {"c"}, "c": nil, "t": {"c"}}
	got := g.without(func(p string) bool { return p == "t" })
	want := Graph{"a": {"b"}, "b": {"c"}, "c": nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("without = %v, want %v", got, want)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		pkg      string
		patterns []string
		want     bool
	}{
		{"internal/core", []string{"internal/core"}, true},
		{"internal/core", []string{"internal/cor"}, false},
		{"internal/core/x", []string{"internal/core"}, false},
		{"bench", []string{"bench/..."}, true},
		{"bench/compare", []string{"bench/..."}, true},
		{"bench/internal/serverproc", []string{"bench/..."}, true},
		{"benchmarks", []string{"bench/..."}, false},
		{"server", []string{"internal/...", "server"}, true},
		{"server", nil, false},
	}
	for _, tt := range tests {
		if got := matches(tt.pkg, tt.patterns); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.pkg, tt.patterns, got, tt.want)
		}
	}
}

func TestParseList(t *testing.T) {
	out := `{"ImportPath": "example.com/m/cmd/m", "Module": {"Path": "example.com/m", "Main": true},
  "GoFiles": ["main.go"], "Imports": ["example.com/m/lib", "example.com/other", "fmt", "example.com/m"]}
{"ImportPath": "example.com/m/lib", "Module": {"Path": "example.com/m", "Main": true},
  "GoFiles": ["lib.go"], "Imports": ["strings"]}
{"ImportPath": "example.com/m", "Module": {"Path": "example.com/m", "Main": true},
  "GoFiles": ["doc.go"]}
{"ImportPath": "example.com/m/test", "Module": {"Path": "example.com/m", "Main": true}}
`
	got, err := parseList([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := Graph{"cmd/m": {".", "lib"}, "lib": nil, ".": nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseList = %v, want %v", got, want)
	}
	if _, err := parseList([]byte(`{"ImportPath": "fmt"}`)); err == nil {
		t.Error("parseList accepted output with no package of the main module")
	}
	if _, err := parseList([]byte(`{"ImportPath": `)); err == nil {
		t.Error("parseList accepted truncated output")
	}
}
