package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDiagramIsCurrent fails when the package diagram committed in
// docs/architecture.md is not what archgraph draws from the code now, so a
// change to the imports cannot leave the document behind. It runs go list
// once, which needs no network once the module's dependencies are
// downloaded (the build of this test already needed them).
func TestDiagramIsCurrent(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, docPath))
	if err != nil {
		t.Fatal(err)
	}
	want, err := regenerate(root, doc)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(doc, want) {
		return
	}
	have, should := firstDifference(doc, want)
	t.Fatalf("the package diagram in %s is stale; regenerate it with\n\tgo generate ./internal/tools/archgraph\n"+
		"and commit the result. First difference:\n\thave: %q\n\twant: %q", docPath, have, should)
}

// firstDifference returns the first line where a and b differ, from each.
func firstDifference(a, b []byte) (string, string) {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return string(x), string(y)
		}
	}
	return "", ""
}
