package test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// TestMicroService runs the Go Micro seed's pattern through the server: a
// service registers, is discovered by a broadcast request that many
// instances answer on one inbox, and is then called.
func TestMicroService(t *testing.T) {
	s := startServer(t)
	const instances = 3
	for i := 0; i < instances; i++ {
		nc := connect(t, s)
		svc, err := micro.AddService(nc, micro.Config{
			Name:        "greeter",
			Version:     "1.0.0",
			Description: "says hello",
			Endpoint: &micro.EndpointConfig{
				Subject: "greet",
				Handler: micro.HandlerFunc(func(r micro.Request) {
					r.Respond([]byte("hello, " + string(r.Data())))
				}),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Stop() })
		// The service's subscriptions travel on its own connection: make
		// sure the server has them before another connection pings.
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	client := connect(t, s)

	// Discovery: one PING, every instance answers on the same inbox.
	inbox := nats.NewInbox()
	sub, err := client.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.PublishRequest("$SRV.PING.greeter", inbox, nil); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for len(ids) < instances {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("discovered %d of %d instances: %v", len(ids), instances, err)
		}
		var ping micro.Ping
		if err := json.Unmarshal(m.Data, &ping); err != nil {
			t.Fatal(err)
		}
		if ping.Name != "greeter" {
			t.Fatalf("ping from %q", ping.Name)
		}
		ids[ping.ID] = true
	}

	// Info names the endpoint.
	m, err := client.Request("$SRV.INFO.greeter", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(m.Data, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Endpoints) != 1 || info.Endpoints[0].Subject != "greet" {
		t.Fatalf("info %+v", info)
	}

	// Calls go to one instance each (the endpoint is a queue group).
	for i := 0; i < 20; i++ {
		m, err := client.Request("greet", []byte("starling"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != "hello, starling" {
			t.Fatalf("reply %q", m.Data)
		}
	}
	// Stats show the requests spread over the instances.
	stats, err := client.Request("$SRV.STATS.greeter", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(stats.Data), "num_requests") {
		t.Fatalf("stats %v %v", stats, err)
	}
}
