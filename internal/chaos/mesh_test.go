package chaos

import (
	"strings"
	"testing"
)

// rz builds a /routez view: server id with routes to the remote IDs.
func rz(id string, remotes ...string) *Routez {
	v := &Routez{ID: id, NumRoutes: len(remotes)}
	for _, r := range remotes {
		v.Routes = append(v.Routes, RoutezRoute{RemoteID: r})
	}
	return v
}

func TestCheckLinks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		views map[int]*Routez
		want  func(i, j int) bool
		err   string // "" for none, else a part of the message
	}{
		{"full mesh of three", map[int]*Routez{0: rz("A", "B", "C"), 1: rz("B", "A", "C"), 2: rz("C", "A", "B")}, FullMesh, ""},
		{"one server alone", map[int]*Routez{0: rz("A")}, FullMesh, ""},
		{"a missing route", map[int]*Routez{0: rz("A", "B"), 1: rz("B", "A", "C"), 2: rz("C", "B")}, FullMesh,
			"server 0 has 0 routes to server 2"},
		{"a duplicate route", map[int]*Routez{0: rz("A", "B", "B"), 1: rz("B", "A", "A")}, FullMesh,
			"server 0 has 2 routes to server 1"},
		{"a route to a server not in view", map[int]*Routez{0: rz("A", "B", "X"), 1: rz("B", "A")}, FullMesh,
			"server 0 has 2 routes, want 1"},
		{"num_routes disagrees", map[int]*Routez{0: {ID: "A", NumRoutes: 1}}, FullMesh, "server 0 has 0 routes, want 0"},
		{"isolated server", map[int]*Routez{0: rz("A", "B"), 1: rz("B", "A"), 2: rz("C")}, Isolated(2), ""},
		{"isolated server still linked", map[int]*Routez{0: rz("A", "B", "C"), 1: rz("B", "A"), 2: rz("C", "A")}, Isolated(2),
			"server 0 has 2 routes, want 1"},
		{"two isolated", map[int]*Routez{0: rz("A"), 1: rz("B"), 2: rz("C")}, Isolated(0, 2), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLinks(tc.views, tc.want)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %v, want an error with %q", err, tc.err)
			}
		})
	}
}

func TestHasInterest(t *testing.T) {
	v := &Routez{ID: "A", Routes: []RoutezRoute{
		{RemoteID: "B", Subs: []string{"foo", "bar q"}},
		{RemoteID: "C", Subs: []string{"baz"}},
	}}
	for _, tc := range []struct {
		id, sub string
		want    bool
	}{
		{"B", "foo", true}, {"B", "bar q", true}, {"B", "bar", false}, {"B", "baz", false},
		{"C", "baz", true}, {"D", "foo", false},
	} {
		if got := v.HasInterest(tc.id, tc.sub); got != tc.want {
			t.Errorf("HasInterest(%q, %q) = %v", tc.id, tc.sub, got)
		}
	}
}
