package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamClusterConsumerSubjectsOnLeader: a consumer's pull-request,
// ack and flow-control subjects are subscribed on the server that runs it
// (its stream's leader) alone, and move with a step-down, as in
// nats-server: acks and pull requests then cross a route only to reach
// that server, never to every JetStream server.
func TestJetStreamClusterConsumerSubjectsOnLeader(t *testing.T) {
	c := startJSClusterWith(t, 3, false, withMonitor)
	nc, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() (err error) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}, Replicas: 3})
		return err
	})
	eventually(t, 20*time.Second, func() error {
		_, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
		return err
	})
	// holders lists the servers whose peers were told they subscribe
	// subject: the interest each route announced (/routez?subs=1), which
	// is what makes a publish cross that route.
	holders := func(subject string) ([]string, error) {
		seen := map[string]bool{}
		for _, s := range c.servers {
			var rz struct {
				Routes []struct {
					RemoteName string   `json:"remote_name"`
					Subs       []string `json:"subscriptions_list"`
				} `json:"routes"`
			}
			code, body, err := getJSZ(s.MonitorURL() + "/routez?subs=1")
			if err != nil || code != 200 {
				return nil, fmt.Errorf("routez: %d %v", code, err)
			}
			if err := json.Unmarshal(body, &rz); err != nil {
				return nil, err
			}
			for _, r := range rz.Routes {
				for _, sub := range r.Subs {
					if subjectMatches(sub, subject) {
						seen[r.RemoteName] = true
					}
				}
			}
		}
		var out []string
		for name := range seen {
			out = append(out, name)
		}
		return out, nil
	}
	subjects := []string{"$JS.API.CONSUMER.MSG.NEXT.S.C", "$JS.ACK.S.C.1.1.1.1764806400000000000.0", "$JS.FC.S.C.1"}
	onLeaderOnly := func() error {
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("no leader yet: %v", err)
		}
		for _, subj := range subjects {
			got, err := holders(subj)
			if err != nil {
				return err
			}
			if len(got) != 1 || got[0] != info.Cluster.Leader {
				return fmt.Errorf("%s subscribed on %v, want on the leader %s alone", subj, got, info.Cluster.Leader)
			}
		}
		return nil
	}
	eventually(t, 20*time.Second, onLeaderOnly)
	before, _ := st.Info(ctx)
	if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.S", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == before.Cluster.Leader {
			return fmt.Errorf("leader not moved yet: %v", err)
		}
		return onLeaderOnly()
	})
}

// subjectMatches reports whether subscription subject sub matches the
// literal subject subj.
func subjectMatches(sub, subj string) bool {
	st, tt := strings.Split(sub, "."), strings.Split(subj, ".")
	for i, tok := range st {
		switch {
		case tok == ">":
			return i < len(tt)
		case i >= len(tt):
			return false
		case tok != "*" && tok != tt[i]:
			return false
		}
	}
	return len(st) == len(tt)
}
