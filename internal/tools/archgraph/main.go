// Command archgraph draws the package diagram in docs/architecture.md from
// the import graph `go list` reports, so the diagram cannot drift from the
// code: it rewrites the lines between the archgraph markers and leaves the
// rest of the document alone. TestDiagramIsCurrent fails when the committed
// diagram differs from what this command would write.
//
// The directive below lives in this package, not beside the document,
// because docs/ holds no Go package and the module root has none either;
// `go generate` runs it with this directory as the working directory, and
// the command finds the module root by looking upwards for go.mod.
//
//go:generate go run .
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// docPath is the document holding the diagram, relative to the module root.
const docPath = "docs/architecture.md"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "archgraph:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	path := filepath.Join(root, docPath)
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := regenerate(root, doc)
	if err != nil {
		return err
	}
	if bytes.Equal(updated, doc) {
		return nil
	}
	return os.WriteFile(path, updated, 0o644)
}

// regenerate returns doc with its diagram redrawn from the packages of the
// module at root.
func regenerate(root string, doc []byte) ([]byte, error) {
	pkgs, err := listPackages(root)
	if err != nil {
		return nil, err
	}
	block, err := diagram(pkgs, layers, hidden)
	if err != nil {
		return nil, err
	}
	return splice(doc, block)
}

// moduleRoot is the nearest directory at or above the working directory
// that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}
