package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// clusterAccounts gives a cluster node account A with JetStream and a
// system account, each with a user of its name (password the same), so
// that the operator commands of natscli reach $SYS.
func clusterAccounts(o *serverOptions) {
	o.Accounts = []server.AccountOptions{
		{Name: "A", JetStream: &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}},
		{Name: "SYS"},
	}
	o.SystemAccount = "SYS"
	o.Users = []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "sys", Password: "sys", Account: "SYS"}}
}

// TestNatsCLIClusterReports drives natscli's cluster checks and reports
// against three Starling servers, with the answers nats-server gives
// (2.11 and later): the meta check counts the leader's peers, placement
// that no server matches is refused with 10005, the per-server JetStream
// report counts what each server hosts, and a consumer of one replica on
// a replicated stream has no replicas of its own.
func TestNatsCLIClusterReports(t *testing.T) {
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	var nodes []*clusterNode
	for i, p := range ports {
		cfg := nodeConfig{name: fmt.Sprintf("n%d", i+1), cluster: "r3", clusterPort: p, routes: routes, jetStream: true}
		nodes = append(nodes, startStarlingNode(t, cfg, clusterAccounts))
	}
	waitMesh(t, nodes...)
	as := func(user string, i int) *natsCLI {
		return newNatsCLI(t, strings.Replace(nodes[i].clientURL, "nats://", "nats://"+user+":"+user+"@", 1))
	}
	a, sys := as("a", 0), as("sys", 0)
	steps := []struct {
		cli  *natsCLI
		args []string
		want []string
	}{
		{a, []string{"stream", "add", "X", "--subjects", "x.>", "--replicas", "3", "--defaults"}, []string{"Replica:"}},
		{a, []string{"consumer", "add", "X", "C", "--pull", "--defaults"}, []string{"Replica:"}},
		{a, []string{"consumer", "add", "X", "P", "--pull", "--defaults", "--replicas", "1"}, []string{"Replicas: 1"}},
		{sys, []string{"server", "check", "meta", "--expect", "3", "--lag-critical", "10", "--seen-critical", "5s"},
			[]string{"OK JetStream Meta Cluster OK:3 peers led by"}},
		{sys, []string{"server", "check", "meta", "--expect", "4", "--lag-critical", "10", "--seen-critical", "5s"},
			[]string{"Crit:3 peers of expected 4"}},
		{a, []string{"stream", "add", "G", "--subjects", "g.>", "--replicas", "3", "--tag", "foo", "--defaults"},
			[]string{"no suitable peers for placement, tags not matched ['foo'] (10005)"}},
		{a, []string{"stream", "add", "H", "--subjects", "h.>", "--cluster", "nope", "--defaults"},
			[]string{"no suitable peers for placement (10005)"}},
		{a, []string{"stream", "add", "K", "--subjects", "k.>", "--replicas", "3", "--cluster", "r3", "--defaults"},
			[]string{"Placement Cluster: r3", "Replica:"}},
	}
	for _, st := range steps {
		cliEventually(t, st.cli, st.args, st.want)
	}
	// Through every server: the meta leader answers, whichever server the
	// request enters by (a follower's own answer would come first).
	for i := range nodes {
		cliEventually(t, as("sys", i), []string{"server", "check", "meta", "--expect", "3", "--lag-critical", "10", "--seen-critical", "5s"},
			[]string{"OK JetStream Meta Cluster OK:3 peers led by"})
	}

	// P runs on X's leader alone: its cluster block names no group and
	// no replicas.
	var p struct {
		Cluster map[string]any `json:"cluster"`
	}
	a.runJSON(&p, "consumer", "info", "X", "P", "--json")
	if p.Cluster["leader"] == nil || p.Cluster["replicas"] != nil || p.Cluster["raft_group"] != nil {
		t.Fatalf("cluster of a one-replica consumer: %v", p.Cluster)
	}

	// Each server holds a member of the meta group, X, C and K (four HA
	// assets), and P runs on X's leader: four consumers in all.
	eventually(t, 30*time.Second, func() bool {
		out, err := sys.try("server", "request", "jetstream")
		if err != nil {
			return false
		}
		consumers, ok := 0, true
		var lines int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Data struct {
					HAAssets  int `json:"ha_assets"`
					Consumers int `json:"consumers"`
					Total     int `json:"total"`
					Meta      struct {
						Quorum int `json:"quorum_needed"`
					} `json:"meta_cluster"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(line), &r) != nil {
				continue
			}
			lines++
			consumers += r.Data.Consumers
			ok = ok && r.Data.HAAssets == 4 && r.Data.Total == 1 && r.Data.Meta.Quorum == 2
		}
		if !ok || lines != 3 || consumers != 4 {
			t.Logf("JSZ of the servers:\n%s", out)
			return false
		}
		return true
	}, "every server's JSZ to count its HA assets and consumers")
}

// cliEventually runs the CLI until its output holds every one of want,
// whether it succeeds or fails (an expected refusal is output too), for
// up to 30 s.
func cliEventually(t *testing.T, cli *natsCLI, args, want []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := cli.try(args...)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(out, w)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
