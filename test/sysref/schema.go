package sysref

import (
	"fmt"
	"sort"
	"strings"
)

// FieldStats gathers, over several JSON values of one kind (the same request made with
// different bodies, at different moments, for different accounts), how often each path was
// present, how often it held an empty value, and its types. Comparing a path's count with its
// parent's tells whether the server leaves the field out: a member present in fewer objects
// than its parent was is one the encoder dropped (in nats-server, an omitempty field).
type FieldStats struct {
	values int
	fields map[string]*fieldStat
}

type fieldStat struct {
	types string
	seen  int // objects (or array elements) that had this path
	empty int // of those, how many held "", 0, false, null, [] or {}
	// objects counts the times the value was an object, the times its members could appear.
	objects int
}

// NewFieldStats returns an empty collection.
func NewFieldStats() *FieldStats {
	return &FieldStats{fields: map[string]*fieldStat{}}
}

// Add counts one more JSON value (anything Shape accepts). Text that is not JSON is ignored.
func (s *FieldStats) Add(v any) {
	val, err := normalise(v)
	if err != nil {
		return
	}
	s.values++
	walk(val, "", func(path string, x any) {
		f := s.fields[path]
		if f == nil {
			f = &fieldStat{}
			s.fields[path] = f
		}
		f.types = joinTypes(f.types, jsonType(x))
		f.seen++
		if isEmpty(x) {
			f.empty++
		}
		if _, ok := x.(map[string]any); ok {
			f.objects++
		}
	})
}

// Field is one row of a schema: a path, its types, and what the values collected said about
// leaving it out.
type Field struct {
	Path  string
	Type  string
	Seen  int // objects that had the path
	Of    int // objects the path could have been in (its parent's count)
	Empty int // times it was present with an empty value
}

// Omitted says, in words, whether the server leaves the field out when it is empty:
// "no (seen empty)" when it was written with an empty value and never missing,
// "yes (absent in n of m)" when it was missing from some objects and never written empty,
// "sometimes (absent in n of m, also seen empty)" when both happened (the field depends on
// something other than emptiness, such as a request option), "n/a" for array elements, and
// "unknown (always present, never empty)" when the recordings cannot tell.
func (f Field) Omitted() string {
	if strings.HasSuffix(f.Path, "[]") {
		return "n/a"
	}
	absent := f.Of - f.Seen
	switch {
	case absent > 0 && f.Empty > 0:
		return fmt.Sprintf("sometimes (absent in %d of %d, also seen empty)", absent, f.Of)
	case absent > 0:
		return fmt.Sprintf("yes (absent in %d of %d)", absent, f.Of)
	case f.Empty > 0:
		return "no (seen empty)"
	}
	return "unknown (always present, never empty)"
}

// Fields returns every path collected, sorted, with its parent's count filled in.
func (s *FieldStats) Fields() []Field {
	out := make([]Field, 0, len(s.fields))
	for p, f := range s.fields {
		if p == "" {
			continue
		}
		parent := s.fields[parentPath(p)]
		of := f.seen
		if parent != nil && !strings.HasSuffix(p, "[]") {
			// Only the times the parent was an object could have held the member; an empty
			// object counts, since that is where every omitted member went missing.
			of = parent.objects
		}
		out = append(out, Field{Path: p, Type: f.types, Seen: f.seen, Of: of, Empty: f.empty})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Values is the number of JSON values added.
func (s *FieldStats) Values() int { return s.values }

// Markdown renders the fields as a table.
func (s *FieldStats) Markdown() string {
	var b strings.Builder
	b.WriteString("| path | type | omitted when empty |\n|---|---|---|\n")
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Path, f.Type, f.Omitted())
	}
	return b.String()
}

// parentPath is the path one level up: "a.b" -> "a", "a[]" -> "a", "a[].b" -> "a[]", "a" -> "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "[]") {
		return strings.TrimSuffix(p, "[]")
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
