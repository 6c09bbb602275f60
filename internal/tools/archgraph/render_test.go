package main

import (
	"strings"
	"testing"
)

// testLayers is a small table in the shape of the real one.
var testLayers = []layer{
	{"top", "top", []string{"cmd/..."}},
	{"bottom", "bottom", []string{"lib", "util"}},
	{"empty", "never drawn", []string{"nothing"}},
}

func TestFlowchart(t *testing.T) {
	tests := []struct {
		name string
		in   Graph
		want string
	}{
		{
			name: "layers in table order, nodes and edges sorted",
			in:   Graph{"util": nil, "cmd/b": {"util"}, "lib": {"util"}, "cmd/a": {"util", "lib"}},
			want: `flowchart TD
    subgraph layer_top ["top"]
        cmd_a["cmd/a"]
        cmd_b["cmd/b"]
    end
    subgraph layer_bottom ["bottom"]
        lib["lib"]
        util["util"]
    end
    cmd_a --> lib
    cmd_a --> util
    cmd_b --> util
    lib --> util
`,
		},
		{
			name: "unplaced packages get the last box",
			in:   Graph{"new/pkg": {"lib"}, "lib": nil, "end": nil},
			want: `flowchart TD
    subgraph layer_bottom ["bottom"]
        lib["lib"]
    end
    subgraph layer_other ["not yet placed: add to archgraph's layers"]
        end_["end"]
        new_pkg["new/pkg"]
    end
    new_pkg --> lib
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := flowchart(tt.in, testLayers)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("flowchart:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestFlowchartRejectsClashingIDs(t *testing.T) {
	_, err := flowchart(Graph{"a/b": nil, "a_b": nil}, testLayers)
	if err == nil || !strings.Contains(err.Error(), "same diagram id") {
		t.Fatalf("flowchart error = %v, want a clash of ids", err)
	}
}

func TestDiagram(t *testing.T) {
	in := Graph{
		"cmd/a":     {"lib", "util"},
		"lib":       {"util"},
		"util":      nil,
		"bench/x":   {"cmd/a", "testhelp"},
		"testhelp":  {"lib"},
		"unrelated": nil,
	}
	got, err := diagram(in, testLayers, []string{"bench/...", "testhelp"})
	if err != nil {
		t.Fatal(err)
	}
	want := "<!-- Generated from `go list` by internal/tools/archgraph; do not edit by hand. -->\n" +
		"```mermaid\n" +
		`flowchart TD
    subgraph layer_top ["top"]
        cmd_a["cmd/a"]
    end
    subgraph layer_bottom ["bottom"]
        lib["lib"]
        util["util"]
    end
    subgraph layer_other ["not yet placed: add to archgraph's layers"]
        unrelated["unrelated"]
    end
    cmd_a --> lib
    lib --> util
` + "```\n\nNot drawn (benchmarks, tests, test helpers, tools): `bench/x`, `testhelp`.\n"
	if got != want {
		t.Errorf("diagram:\n%s\nwant:\n%s", got, want)
	}
}

func TestSplice(t *testing.T) {
	const block = "new\n"
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr string
	}{
		{
			name: "replaces what is between the markers",
			doc:  "# T\n" + beginMarker + "\nold\nlines\n" + endMarker + "\ntail\n",
			want: "# T\n" + beginMarker + "\nnew\n" + endMarker + "\ntail\n",
		},
		{
			name: "fills an empty region",
			doc:  beginMarker + "\n" + endMarker + "\n",
			want: beginMarker + "\nnew\n" + endMarker + "\n",
		},
		{
			name: "end marker on the last line without a newline",
			doc:  beginMarker + "\nold\n" + endMarker,
			want: beginMarker + "\nnew\n" + endMarker,
		},
		{
			name: "CRLF line ends",
			doc:  "a\r\n" + beginMarker + "\r\nold\r\n" + endMarker + "\r\nb\r\n",
			want: "a\r\n" + beginMarker + "\r\nnew\n" + endMarker + "\r\nb\r\n",
		},
		{
			name:    "a marker inside a line does not count",
			doc:     "see " + beginMarker + "\n" + endMarker + "\n",
			wantErr: beginMarker + " is missing",
		},
		{
			name:    "no end marker",
			doc:     beginMarker + "\nold\n",
			wantErr: endMarker + " is missing",
		},
		{
			name:    "two begin markers",
			doc:     beginMarker + "\n" + beginMarker + "\n" + endMarker + "\n",
			wantErr: "appears twice",
		},
		{
			name:    "markers in the wrong order",
			doc:     endMarker + "\n" + beginMarker + "\n",
			wantErr: "comes before",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splice([]byte(tt.doc), block)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("splice error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("splice = %q, want %q", got, tt.want)
			}
			again, err := splice(got, block)
			if err != nil || string(again) != string(got) {
				t.Errorf("splicing twice changed the document: %q, %v", again, err)
			}
		})
	}
}
