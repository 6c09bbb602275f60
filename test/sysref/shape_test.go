package sysref

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestShape(t *testing.T) {
	type reply struct {
		ID    string   `json:"id"`
		Conns []uint64 `json:"conns"`
		Note  *string  `json:"note,omitempty"`
	}
	tests := []struct {
		name string
		in   any
		want map[string]string
	}{
		{"scalar root has no paths", []byte(`42`), map[string]string{}},
		{"empty object", []byte(`{}`), map[string]string{}},
		{"flat object", []byte(`{"s":"x","n":1,"b":true,"z":null}`),
			map[string]string{"s": "string", "n": "number", "b": "bool", "z": "null"}},
		{"nested object", []byte(`{"server":{"id":"X","jetstream":false}}`),
			map[string]string{"server": "object", "server.id": "string", "server.jetstream": "bool"}},
		{"array of objects merges elements", []byte(`{"data":{"conns":[{"cid":1},{"cid":2,"name":"n"}]}}`),
			map[string]string{"data": "object", "data.conns": "array", "data.conns[]": "object",
				"data.conns[].cid": "number", "data.conns[].name": "string"}},
		{"empty array has no element path", []byte(`{"subs":[]}`), map[string]string{"subs": "array"}},
		{"mixed element types are joined", []byte(`{"a":[null,{"x":1},3]}`),
			map[string]string{"a": "array", "a[]": "null|number|object", "a[].x": "number"}},
		{"root array", []byte(`[{"k":"v"}]`), map[string]string{"[]": "object", "[].k": "string"}},
		{"json.RawMessage", json.RawMessage(`{"k":[1]}`), map[string]string{"k": "array", "k[]": "number"}},
		{"decoded value", map[string]any{"k": "v"}, map[string]string{"k": "string"}},
		{"go struct is marshalled", reply{ID: "x"},
			map[string]string{"id": "string", "conns": "null"}},
		{"invalid text", []byte(`{`), map[string]string{"": "invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Shape(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Shape = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompareShapes(t *testing.T) {
	tests := []struct {
		name      string
		want, got map[string]string
		diffs     []string
	}{
		{"equal", map[string]string{"a": "string"}, map[string]string{"a": "string"}, nil},
		{"both empty", map[string]string{}, nil, nil},
		{"missing", map[string]string{"a": "string", "b": "number"}, map[string]string{"a": "string"},
			[]string{"missing b (number)"}},
		{"extra", map[string]string{"a": "string"}, map[string]string{"a": "string", "c": "bool"},
			[]string{"extra c (bool)"}},
		{"type differs", map[string]string{"a": "string"}, map[string]string{"a": "number"},
			[]string{"type a: want string, got number"}},
		{"got narrower than want is fine", map[string]string{"a": "null|object"}, map[string]string{"a": "object"}, nil},
		{"got wider than want", map[string]string{"a": "object"}, map[string]string{"a": "null|object"},
			[]string{"type a: want object, got null|object"}},
		{"sorted by path", map[string]string{"z": "string", "a": "string"}, map[string]string{"m": "bool"},
			[]string{"missing a (string)", "extra m (bool)", "missing z (string)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareShapes(tc.want, tc.got)
			if !reflect.DeepEqual(got, tc.diffs) {
				t.Fatalf("CompareShapes = %q, want %q", got, tc.diffs)
			}
		})
	}
}

func TestFieldStatsOmitted(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   map[string]string // path -> Omitted()
	}{
		{"kept when empty", []string{`{"a":""}`, `{"a":"x"}`},
			map[string]string{"a": "no (seen empty)"}},
		{"omitted when empty", []string{`{"a":"x"}`, `{}`},
			map[string]string{"a": "yes (absent in 1 of 2)"}},
		{"both", []string{`{"a":0}`, `{}`, `{"a":1}`},
			map[string]string{"a": "sometimes (absent in 1 of 3, also seen empty)"}},
		{"cannot tell", []string{`{"a":"x"}`},
			map[string]string{"a": "unknown (always present, never empty)"}},
		{"members of array elements", []string{`{"l":[{"n":"x"},{}]}`},
			map[string]string{"l": "unknown (always present, never empty)", "l[]": "n/a", "l[].n": "yes (absent in 1 of 2)"}},
		{"parent null does not count", []string{`{"o":null}`, `{"o":{"k":1}}`},
			map[string]string{"o": "no (seen empty)", "o.k": "unknown (always present, never empty)"}},
		{"parent empty object counts", []string{`{"o":{}}`, `{"o":{"k":1}}`},
			map[string]string{"o": "no (seen empty)", "o.k": "yes (absent in 1 of 2)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewFieldStats()
			for _, v := range tc.values {
				s.Add([]byte(v))
			}
			got := map[string]string{}
			for _, f := range s.Fields() {
				got[f.Path] = f.Omitted()
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Omitted = %v, want %v", got, tc.want)
			}
			if s.Values() != len(tc.values) {
				t.Fatalf("Values = %d, want %d", s.Values(), len(tc.values))
			}
		})
	}
}

func TestParentPath(t *testing.T) {
	for in, want := range map[string]string{"a": "", "a.b": "a", "a[]": "a", "a[].b": "a[]", "a.b[]": "a.b"} {
		if got := parentPath(in); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRecordedFiles checks that every reply or event index.json lists is embedded and is a JSON
// object, so a conformance test can rely on Recorded and RecordedShape.
func TestRecordedFiles(t *testing.T) {
	raw, err := recorded.ReadFile("testdata/index.json")
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Recordings []struct {
			Name string `json:"name"`
			File string `json:"file"`
		} `json:"recordings"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, r := range idx.Recordings {
		if r.File == "" {
			continue
		}
		files++
		shape, err := RecordedShape(r.Name)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if shape[""] == "invalid" || len(shape) == 0 {
			t.Fatalf("%s: shape %v", r.Name, shape)
		}
	}
	if files == 0 {
		t.Fatal("index.json lists no recorded files")
	}
	if _, err := Recorded("no-such-recording"); err == nil {
		t.Fatal("Recorded of an unknown name succeeded")
	}
}
