package chaos

import (
	"fmt"
	"slices"
	"strings"
)

// Routez is the part of a server's /routez the harness reads.
type Routez struct {
	ID        string        `json:"server_id"`
	NumRoutes int           `json:"num_routes"`
	Routes    []RoutezRoute `json:"routes"`
}

// RoutezRoute is one route in /routez.
type RoutezRoute struct {
	RemoteID string   `json:"remote_id"`
	Subs     []string `json:"subscriptions_list"` // with ?subs=1: the peer's interest, "subject" or "subject queue"
}

// routesTo counts v's routes to the server with ID id.
func (v *Routez) routesTo(id string) int {
	n := 0
	for _, r := range v.Routes {
		if r.RemoteID == id {
			n++
		}
	}
	return n
}

// HasInterest reports whether v has a route to the server with ID id that
// carries that server's interest in sub ("subject" or "subject queue").
func (v *Routez) HasInterest(id, sub string) bool {
	for _, r := range v.Routes {
		if r.RemoteID == id && slices.Contains(r.Subs, sub) {
			return true
		}
	}
	return false
}

// CheckLinks reports how the routes seen in views (by server index)
// differ from want: every server i in views must have exactly one route
// to each server j in views for which want(i, j) holds, and no other
// route at all, not even to a server missing from views. want must be
// symmetric. nil means the routes are as wanted.
func CheckLinks(views map[int]*Routez, want func(i, j int) bool) error {
	idx := make([]int, 0, len(views))
	for i := range views {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var problems []string
	for _, i := range idx {
		v := views[i]
		expected := 0
		for _, j := range idx {
			if i == j || !want(i, j) {
				continue
			}
			expected++
			if n := v.routesTo(views[j].ID); n != 1 {
				problems = append(problems, fmt.Sprintf("server %d has %d routes to server %d", i, n, j))
			}
		}
		if v.NumRoutes != expected || len(v.Routes) != expected {
			problems = append(problems, fmt.Sprintf("server %d has %d routes, want %d", i, len(v.Routes), expected))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// FullMesh wants a route between every two servers.
func FullMesh(i, j int) bool { return i != j }

// Isolated wants the full mesh without any route of the servers named.
func Isolated(servers ...int) func(i, j int) bool {
	return func(i, j int) bool {
		return i != j && !slices.Contains(servers, i) && !slices.Contains(servers, j)
	}
}
