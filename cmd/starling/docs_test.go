package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeLayoutListsEveryPackage: the README's layout table names every
// package under internal/, so it cannot go stale again.
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("../../internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() && !strings.Contains(string(readme), "`internal/"+e.Name()+"`") {
			t.Errorf("README.md's layout table does not list internal/%s", e.Name())
		}
	}
}
