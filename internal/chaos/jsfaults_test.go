package chaos

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMinority: the side cut off is a minority, holds the leader exactly
// when asked to, and never names a server twice.
func TestMinority(t *testing.T) {
	for _, tc := range []struct {
		n, leader  int
		withLeader bool
		size       int
	}{
		{3, 0, true, 1},
		{3, 2, false, 1},
		{5, 1, true, 2},
		{5, 4, false, 2},
		{2, 0, false, 1},
	} {
		c := &Cluster{o: Options{N: tc.n}}
		for seed := range uint64(20) {
			got := minority(c, tc.leader, tc.withLeader, NewRand(seed))
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			if len(got) != tc.size || len(slices.Compact(sorted)) != tc.size {
				t.Fatalf("n %d: minority %v, want %d distinct servers", tc.n, got, tc.size)
			}
			if slices.Contains(got, tc.leader) != tc.withLeader {
				t.Fatalf("n %d leader %d withLeader %v: minority %v", tc.n, tc.leader, tc.withLeader, got)
			}
		}
	}
}

func TestDraw(t *testing.T) {
	rng := NewRand(7)
	for range 100 {
		if d := draw(rng, time.Second); d < time.Second || d >= 2*time.Second {
			t.Fatalf("draw(1s) = %v", d)
		}
	}
	if draw(rng, 0) != 0 {
		t.Fatal("draw(0) is not 0")
	}
}

// TestReferenceConfig: a Spec for nats-server keeps timings out of the
// cluster block (2.9 refuses them there) and writes the extra lines in.
func TestReferenceConfig(t *testing.T) {
	s := Spec{Name: "n", ClusterName: "c", ClientPort: 1, ClusterPort: 2, HTTPPort: 3,
		PingInterval: time.Second, NoClusterTimings: true, ClusterExtra: "pool_size: -1"}
	conf := s.Config()
	_, cluster, _ := strings.Cut(conf, "cluster {")
	if strings.Contains(cluster, "ping_interval") || !strings.Contains(cluster, "pool_size: -1") {
		t.Fatalf("cluster block:%s", cluster)
	}
	if !strings.Contains(conf, `ping_interval: "1s"`) {
		t.Fatalf("no top-level timing:\n%s", conf)
	}
}
