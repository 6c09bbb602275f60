package server_test

import (
	"strings"
	"testing"

	"github.com/starling-mq/starling/server"
)

// TestAccountsRefusedUntilTheyRun: accounts reach the engine's options,
// are checked, and a valid set is then refused until the engine runs
// accounts; an invalid one gets its own error.
func TestAccountsRefusedUntilTheyRun(t *testing.T) {
	tests := []struct {
		name string
		opts server.Options
		want string
	}{
		{"accounts", server.Options{
			Accounts: []server.AccountOptions{
				{Name: "A", Exports: []server.Export{{Stream: "a.>"}}},
				{Name: "B", Imports: []server.Import{{Stream: &server.ImportSource{Account: "A", Subject: "a.>"}, Prefix: "from_a"}}},
			},
			Users: []*server.User{{Username: "u", Password: "p", Account: "B"}},
		}, "not run yet"},
		{"system account", server.Options{SystemAccount: server.DefaultSystemAccount}, "not run yet"},
		{"mappings", server.Options{Mappings: []server.Mapping{{Subject: "a", Destinations: []server.MapDest{{Subject: "b", Weight: 100}}}}}, "not run yet"},
		{"import not authorized", server.Options{Accounts: []server.AccountOptions{
			{Name: "A"},
			{Name: "B", Imports: []server.Import{{Service: &server.ImportSource{Account: "A", Subject: "q"}}}},
		}}, `Error adding service import "q": service import not authorized`},
		{"user of an unknown account", server.Options{Users: []*server.User{{Username: "u", Account: "X"}}},
			`account "X" is not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Host, tt.opts.Port = "127.0.0.1", server.RandomPort
			_, err := server.New(&tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
