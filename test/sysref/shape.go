// Package sysref holds replies and events recorded from nats-server 2.9.10's system account
// (testdata/*.json, indexed by testdata/index.json) and the helpers a conformance test needs
// to compare the JSON shape of Starling's replies with them: Shape, CompareShapes and Recorded.
package sysref

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The recordings travel with the package so a test elsewhere in the module can load them
// without knowing where this directory is.
//
//go:embed testdata
var recorded embed.FS

// Recorded returns the stored JSON of one recording, by the name listed in testdata/index.json
// (the file name without ".json").
func Recorded(name string) ([]byte, error) {
	return recorded.ReadFile("testdata/" + name + ".json")
}

// RecordedShape is Shape applied to a stored recording.
func RecordedShape(name string) (map[string]string, error) {
	b, err := Recorded(name)
	if err != nil {
		return nil, err
	}
	return Shape(b), nil
}

// Shape maps every field path in a JSON value to its JSON type: "object", "array", "string",
// "number", "bool" or "null". Object members are joined with ".", array elements are written
// "[]" and their shapes merged, so {"conns":[{"cid":1}]} gives "conns" -> "array",
// "conns[]" -> "object", "conns[].cid" -> "number". A path seen with different types (array
// elements that differ) gets them sorted and joined with "|", e.g. "null|object". The root
// value itself has no path. v may be JSON text ([]byte, json.RawMessage), a value decoded by
// encoding/json into any, or any other Go value, which is marshalled first so typed reply
// structs can be shaped directly. Text that is not JSON gives {"": "invalid"}.
func Shape(v any) map[string]string {
	val, err := normalise(v)
	if err != nil {
		return map[string]string{"": "invalid"}
	}
	out := map[string]string{}
	walk(val, "", func(path string, x any) {
		if path == "" {
			return
		}
		out[path] = joinTypes(out[path], jsonType(x))
	})
	return out
}

// CompareShapes lists how got differs from want, one line per path, sorted by path:
// "missing <path> (<type>)" for a path only in want, "extra <path> (<type>)" for a path only
// in got, and "type <path>: want <t1>, got <t2>" when got has a type want never had at that
// path (got may have fewer of want's alternative types: "object" matches "null|object").
// Nil means the shapes agree.
func CompareShapes(want, got map[string]string) []string {
	paths := make([]string, 0, len(want)+len(got))
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var diffs []string
	for _, p := range paths {
		w, inWant := want[p]
		g, inGot := got[p]
		switch {
		case !inGot:
			diffs = append(diffs, fmt.Sprintf("missing %s (%s)", p, w))
		case !inWant:
			diffs = append(diffs, fmt.Sprintf("extra %s (%s)", p, g))
		case !typesWithin(g, w):
			diffs = append(diffs, fmt.Sprintf("type %s: want %s, got %s", p, w, g))
		}
	}
	return diffs
}

func normalise(v any) (any, error) {
	var raw []byte
	switch x := v.(type) {
	case []byte:
		raw = x
	case json.RawMessage:
		raw = x
	case nil, map[string]any, []any, string, float64, bool, json.Number:
		return x, nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// walk calls visit for v at path and for everything below it, depth first.
func walk(v any, path string, visit func(path string, v any)) {
	visit(path, v)
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			walk(child, joinPath(path, k), visit)
		}
	case []any:
		for _, child := range x {
			walk(child, path+"[]", visit)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "bool"
	case float64, json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// joinTypes adds t to the sorted "|"-joined set have.
func joinTypes(have, t string) string {
	if have == "" {
		return t
	}
	set := strings.Split(have, "|")
	for _, h := range set {
		if h == t {
			return have
		}
	}
	set = append(set, t)
	sort.Strings(set)
	return strings.Join(set, "|")
}

// typesWithin reports whether every type in the "|"-joined set got is also in want.
func typesWithin(got, want string) bool {
	allowed := strings.Split(want, "|")
	for _, g := range strings.Split(got, "|") {
		found := false
		for _, a := range allowed {
			if a == g {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
