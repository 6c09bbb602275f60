package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// listedPackage holds the fields of `go list -json` that the diagram needs.
type listedPackage struct {
	ImportPath string
	GoFiles    []string
	Imports    []string
	Module     *struct {
		Path string
		Main bool
	}
}

// listPackages runs `go list` once in the module at root and returns the
// module's own packages, by path relative to the module, each with its
// imports of other packages of the module. Packages with test files only
// have no imports of their own and are left out, as are imports made only
// by tests (go list reports those separately).
//
// The target is pinned to linux/amd64 without cgo, because a few packages
// pick files by build constraint: the diagram must not depend on the
// machine that draws it, and Linux is where the server runs.
func listPackages(root string) (Graph, error) {
	cmd := exec.Command("go", "list", "-json=ImportPath,GoFiles,Imports,Module", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseList(out)
}

// parseList turns go list's stream of JSON objects into the module's graph.
func parseList(out []byte) (Graph, error) {
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decoding go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	modPath := ""
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Main {
			modPath = p.Module.Path
			break
		}
	}
	if modPath == "" {
		return nil, errors.New("go list reported no package of the main module")
	}
	g := Graph{}
	for _, p := range pkgs {
		if p.Module == nil || p.Module.Path != modPath || len(p.GoFiles) == 0 {
			continue
		}
		var deps []string
		for _, imp := range p.Imports {
			if rel, ok := relative(modPath, imp); ok {
				deps = append(deps, rel)
			}
		}
		slices.Sort(deps)
		rel, _ := relative(modPath, p.ImportPath)
		g[rel] = slices.Compact(deps)
	}
	return g, nil
}

// relative returns an import path relative to the module, and whether the
// path belongs to the module at all. The module's root package is ".".
func relative(modPath, importPath string) (string, bool) {
	if importPath == modPath {
		return ".", true
	}
	rel, ok := strings.CutPrefix(importPath, modPath+"/")
	return rel, ok
}
