package auth

import (
	"encoding/base64"
	"testing"
)

// TestAccounts: an identity names the account its user belongs to ("" is
// the global account), and a user without permissions gets its account's
// defaults, never the global ones (nats-server's rule).
func TestAccounts(t *testing.T) {
	key := newNkeyUser(t)
	a := mustNew(t, Config{
		Users: []*User{
			{Username: "global", Password: "p"},
			{Username: "alice", Password: "p", Account: "ORDERS"},
			{Username: "own", Password: "p", Account: "ORDERS", Permissions: pub([]string{"own.>"}, nil)},
			{Username: "bob", Password: "p", Account: "BILLING"},
		},
		Nkeys:              []*NkeyUser{{Nkey: key.pub, Account: "ORDERS"}},
		NoAuthUser:         "bob",
		DefaultPermissions: pub([]string{"global.>"}, nil),
		AccountPermissions: map[string]*Permissions{"ORDERS": pub([]string{"orders.>"}, nil)},
	})
	tests := []struct {
		creds       Credentials
		name, acc   string
		may, mayNot string // subjects it may and may not publish to
	}{
		{Credentials{User: "global", Pass: "p"}, "global", "", "global.x", "orders.x"},
		{Credentials{User: "alice", Pass: "p"}, "alice", "ORDERS", "orders.x", "global.x"},
		{Credentials{User: "own", Pass: "p"}, "own", "ORDERS", "own.x", "orders.x"},
		// An account without defaults: no limits, not the global defaults.
		{Credentials{User: "bob", Pass: "p"}, "bob", "BILLING", "global.x", ""},
		{Credentials{}, "bob", "BILLING", "anything", ""}, // no_auth_user in an account
		{Credentials{Nkey: key.pub, Nonce: "n", Sig: key.sign(t, "n", base64.RawURLEncoding)}, key.pub, "ORDERS", "orders.x", "global.x"},
	}
	for _, tt := range tests {
		id, err := a.Authenticate(tt.creds)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if id.Name != tt.name || id.Account != tt.acc {
			t.Errorf("identity %q in %q, want %q in %q", id.Name, id.Account, tt.name, tt.acc)
		}
		c := NewChecker(id.Permissions)
		if !c.CanPublish(tt.may) || tt.mayNot != "" && c.CanPublish(tt.mayNot) {
			t.Errorf("%s: may publish %q: %v; %q: %v", tt.name, tt.may, c.CanPublish(tt.may), tt.mayNot, c.CanPublish(tt.mayNot))
		}
	}
}

func TestAccountPermissionsValidated(t *testing.T) {
	_, err := New(Config{AccountPermissions: map[string]*Permissions{"A": pub([]string{"a..b"}, nil)}})
	if err == nil {
		t.Fatal("invalid account default permissions accepted")
	}
}
