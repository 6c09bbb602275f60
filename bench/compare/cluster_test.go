package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/config"
)

// Each member's file, read by Starling's own configuration loader, listens
// where the bench connects and names exactly the other members as routes.
func TestMemberConfig(t *testing.T) {
	routes := []int{7001, 7002, 7003}
	tests := []struct {
		i          int
		wantRoutes []string
	}{
		{0, []string{"127.0.0.1:7002", "127.0.0.1:7003"}},
		{1, []string{"127.0.0.1:7001", "127.0.0.1:7003"}},
		{2, []string{"127.0.0.1:7001", "127.0.0.1:7002"}},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "m.conf")
		if err := os.WriteFile(path, []byte(memberConfig("m", 5000+tt.i, 6000+tt.i, routes, tt.i, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatalf("member %d: %v", tt.i, err)
		}
		o := cfg.Opts
		if o.Host != "127.0.0.1" || o.Port != 5000+tt.i || o.HTTPPort != 6000+tt.i || o.ServerName != "m" {
			t.Errorf("member %d: listen %s:%d, http %d, name %q", tt.i, o.Host, o.Port, o.HTTPPort, o.ServerName)
		}
		c := o.Cluster
		if c.Name != "bench" || c.Host != "127.0.0.1" || c.Port != routes[tt.i] {
			t.Errorf("member %d: cluster %q on %s:%d", tt.i, c.Name, c.Host, c.Port)
		}
		var got []string
		for _, u := range c.Routes {
			got = append(got, u.Host)
		}
		if !slices.Equal(got, tt.wantRoutes) {
			t.Errorf("member %d: routes %v, want %v", tt.i, got, tt.wantRoutes)
		}
	}
}

func TestNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50},
		{"p99 of 100", hundred, 99, 99},
		{"p100 of 100", hundred, 100, 100},
		{"p0 is the first", hundred, 0, 1},
		{"p50 of 3", []time.Duration{1, 2, 3}, 50, 2},
	}
	for _, tt := range tests {
		if got := nearestRank(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The scenarios are what the benchmark document describes: the publisher
// or requester on A (member 0), subscribers on the members named, counts
// scaled but never below the floor.
func TestClusterScenarios(t *testing.T) {
	for _, scale := range []float64{1, 0.0001} {
		for _, sc := range clusterScenarios(scale) {
			if sc.msgs < 1000 {
				t.Errorf("scale %v, %s: %d messages", scale, sc.name, sc.msgs)
			}
			if len(sc.subs) == 0 || (sc.request && len(sc.subs) != 1) {
				t.Errorf("%s: subscribers on %v", sc.name, sc.subs)
			}
			for _, s := range sc.subs {
				if s < 0 || s >= clusterSize {
					t.Errorf("%s: member %d out of the cluster", sc.name, s)
				}
			}
		}
	}
}

// Ports handed out together are distinct: six servers of a comparison
// start at once and must not be given the same port twice.
func TestFreePortsDistinct(t *testing.T) {
	ports, err := freePorts(4 * clusterSize)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: %d repeated or invalid", ports, p)
		}
		seen[p] = true
	}
}
