package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// jszRaft is the part of /jsz?raft=1 the cluster tests read.
type jszRaft struct {
	AccountDetails []struct {
		Streams []struct {
			Name      string `json:"name"`
			Group     string `json:"stream_raft_group"`
			Consumers []struct {
				Name string `json:"name"`
			} `json:"consumer_detail"`
			ConsumerGroups []struct {
				Name  string `json:"name"`
				Group string `json:"raft_group"`
			} `json:"consumer_raft_groups"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

func getJSZ(url string) (int, []byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// TestJetStreamClusterJSZ: in a three-server cluster with an R3 file
// stream, an R1 file stream and an R3 memory stream, $JS.API.INFO reports
// the account's usage across the cluster as nats-server does (bytes once
// per replica), and /jsz?raft=1 names each stream's and consumer's group.
func TestJetStreamClusterJSZ(t *testing.T) {
	c := startJSClusterWith(t, 3, false, withMonitor)
	_, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	streams := []jetstream.StreamConfig{
		{Name: "R3", Subjects: []string{"r3"}, Replicas: 3},
		{Name: "R1", Subjects: []string{"r1"}, Replicas: 1},
		{Name: "M3", Subjects: []string{"m3"}, Replicas: 3, Storage: jetstream.MemoryStorage},
	}
	for _, cfg := range streams {
		eventually(t, 20*time.Second, func() error {
			_, err := js.CreateStream(ctx, cfg)
			return err
		})
	}
	for _, name := range []string{"R3", "R1"} {
		if _, err := js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "C" + name, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		for _, subj := range []string{"r3", "r1", "m3"} {
			if _, err := js.Publish(ctx, subj, fmt.Appendf(nil, "message-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Every server answers with the cluster's usage: R3 and M3 count three
	// times, R1 once.
	infos := map[string]*jetstream.StreamInfo{}
	for _, cfg := range streams {
		s, err := js.Stream(ctx, cfg.Name)
		if err != nil {
			t.Fatal(err)
		}
		infos[cfg.Name] = s.CachedInfo()
	}
	wantStore := 3*infos["R3"].State.Bytes + infos["R1"].State.Bytes
	wantMem := 3 * infos["M3"].State.Bytes
	for i := range c.servers {
		_, js := c.connect(i)
		eventually(t, 20*time.Second, func() error {
			ai, err := js.AccountInfo(ctx)
			if err != nil {
				return err
			}
			if ai.Streams != 3 || ai.Consumers != 2 || ai.Store != wantStore || ai.Memory != wantMem {
				return fmt.Errorf("server %d: account info %+v, want 3 streams, 2 consumers, storage %d, memory %d", i, ai.Tier, wantStore, wantMem)
			}
			return nil
		})
	}

	// /jsz?raft=1 on the R3 stream's leader, which lists its consumer.
	eventually(t, 20*time.Second, func() error {
		s, err := js.Stream(ctx, "R3")
		if err != nil {
			return err
		}
		ci := s.CachedInfo().Cluster
		if ci == nil || ci.Leader == "" || ci.RaftGroup == "" {
			return fmt.Errorf("R3 cluster info %+v", ci)
		}
		leader := int(ci.Leader[1] - '1')
		code, body, err := getJSZ(c.servers[leader].MonitorURL() + "/jsz?accounts=true&streams=true&consumers=true&raft=true")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("jsz %d %v %s", code, err, body)
		}
		var got jszRaft
		if err := json.Unmarshal(body, &got); err != nil {
			return err
		}
		if len(got.AccountDetails) != 1 {
			return fmt.Errorf("account details: %s", body)
		}
		for _, sd := range got.AccountDetails[0].Streams {
			if sd.Group == "" {
				return fmt.Errorf("stream %s without a group: %s", sd.Name, body)
			}
			if sd.Name != "R3" {
				continue
			}
			if sd.Group != ci.RaftGroup {
				return fmt.Errorf("R3 group %q, stream info says %q", sd.Group, ci.RaftGroup)
			}
			if len(sd.Consumers) != 1 || len(sd.ConsumerGroups) != 1 ||
				sd.ConsumerGroups[0].Name != "CR3" || sd.ConsumerGroups[0].Group == "" {
				return fmt.Errorf("R3 consumers' groups: %s", body)
			}
			return nil
		}
		return fmt.Errorf("R3 not listed by its leader: %s", body)
	})

	// Without raft, no groups; a bad value is refused as nats-server 2.10+
	// refuses it.
	code, body, err := getJSZ(c.servers[0].MonitorURL() + "/jsz?accounts=true&streams=true&consumers=true")
	if err != nil || code != http.StatusOK {
		t.Fatalf("jsz %d %v %s", code, err, body)
	}
	var plain jszRaft
	if err := json.Unmarshal(body, &plain); err != nil {
		t.Fatal(err)
	}
	for _, ad := range plain.AccountDetails {
		for _, sd := range ad.Streams {
			if sd.Group != "" || len(sd.ConsumerGroups) != 0 {
				t.Fatalf("groups without raft=1: %s", body)
			}
		}
	}
	if code, body, _ := getJSZ(c.servers[0].MonitorURL() + "/jsz?raft=maybe"); code != http.StatusBadRequest {
		t.Fatalf("raft=maybe: %d %s", code, body)
	}
}
