package test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestNatsCLISystemAccount drives the operator commands of the official
// nats CLI that talk to the system account ($SYS.REQ.…, $SYS.ACCOUNT.…)
// against a server with accounts and JetStream in one of them.
func TestNatsCLISystemAccount(t *testing.T) {
	s := startJS(t, "", jsAccountsOptions, func(o *serverOptions) { o.ServerName = "star-cli" })
	as := func(user string) *natsCLI {
		return newNatsCLI(t, strings.Replace(s.ClientURL(), "nats://", "nats://"+user+":"+user+"@", 1))
	}
	sys, a := as("sys"), as("a")

	events := sys.background("events")
	eventually(t, 30*time.Second, func() bool {
		return strings.Contains(events.output(), "Listening for Authentication Errors")
	}, "nats events to subscribe")

	tests := []struct {
		cli  *natsCLI
		args []string
		want []string
	}{
		{sys, []string{"server", "list"}, []string{"Server Overview", "star-cli"}},
		{sys, []string{"server", "info"}, []string{"Server information for star-cli", "Storage Directory"}},
		{sys, []string{"server", "ping"}, []string{"star-cli", "1 replies"}},
		{sys, []string{"server", "report", "connections"}, []string{"Connections per server", "SYS"}},
		{sys, []string{"server", "report", "jetstream"}, []string{"JetStream Summary", "star-cli"}},
		{sys, []string{"server", "report", "accounts"}, []string{"Accounts Overview", "SYS"}},
		{sys, []string{"server", "check", "connection"}, []string{"OK Connection"}},
		{a, []string{"server", "check", "jetstream"}, []string{"OK JetStream"}},
		{a, []string{"account", "info"}, []string{"JetStream Account Information", "Streams: 0 of 2"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := tt.cli.run(tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("nats %s: no %q in\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
	// An account without JetStream is told so, as by nats-server.
	if out, err := as("c").try("server", "check", "jetstream"); err == nil || !strings.Contains(out, "JetStream not enabled for account (10039)") {
		t.Fatalf("check jetstream in C: %v\n%s", err, out)
	}

	nc := connect(t, s, nats.UserInfo("a", "a"), nats.Name("cli-event-probe"))
	nc.Close()
	eventually(t, 30*time.Second, func() bool {
		out := events.output()
		return strings.Contains(out, "Client Connection") && strings.Contains(out, "Client Disconnection") &&
			strings.Contains(out, "cli-event-probe")
	}, "nats events to show the connection and disconnection")
}
