package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNewValidation(t *testing.T) {
	key := newNkeyUser(t).pub
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" for valid
	}{
		{"empty", Config{}, ""},
		{"token", Config{Token: "t"}, ""},
		{"token wins over single user", Config{Token: "t", Username: "u", Password: "p"}, ""},
		{"token and users", Config{Token: "t", Users: []*User{{Username: "a"}}}, "token cannot be combined"},
		{"token and nkeys", Config{Token: "t", Nkeys: []*NkeyUser{{Nkey: key}}}, "token cannot be combined"},
		{"single user and users", Config{Username: "u", Users: []*User{{Username: "a"}}}, "single user cannot"},
		{"password without user", Config{Password: "p"}, "password needs a user"},
		{"nameless user", Config{Users: []*User{{Password: "p"}}}, "without a name"},
		{"nil user", Config{Users: []*User{nil}}, "without a name"},
		{"duplicate user", Config{Users: []*User{{Username: "a"}, {Username: "a"}}}, `duplicate user "a"`},
		{"bad nkey", Config{Nkeys: []*NkeyUser{{Nkey: "UNOTAKEY"}}}, `"UNOTAKEY" is not a public user nkey`},
		{"account key is not a user key", Config{Nkeys: []*NkeyUser{{Nkey: "A" + key[1:]}}}, "not a public user nkey"},
		{"duplicate nkey", Config{Nkeys: []*NkeyUser{{Nkey: key}, {Nkey: key}}}, "duplicate nkey"},
		{"user named like an nkey", Config{Users: []*User{{Username: key}}, Nkeys: []*NkeyUser{{Nkey: key}}}, "duplicate nkey"},
		{"no_auth_user unknown", Config{Users: []*User{{Username: "a"}}, NoAuthUser: "b"}, `no_auth_user "b"`},
		{"no_auth_user without users", Config{Token: "t", NoAuthUser: "b"}, "no_auth_user"},
		{"no_auth_user nkey", Config{Nkeys: []*NkeyUser{{Nkey: key}}, NoAuthUser: key}, ""},
		{"bad user permissions", Config{Users: []*User{{Username: "a",
			Permissions: pub([]string{"a..b"}, nil)}}}, `user "a": publish allow`},
		{"bad nkey permissions", Config{Nkeys: []*NkeyUser{{Nkey: key,
			Permissions: sub(nil, []string{"a b c"})}}}, "subscribe deny"},
		{"bad default permissions", Config{DefaultPermissions: pub(nil, []string{""})}, "default permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name                      string
		cfg                       Config
		required, advertise, once bool
	}{
		{"nothing", Config{}, false, false, false},
		{"token", Config{Token: "t"}, true, true, false},
		{"single user", Config{Username: "u"}, true, true, false},
		{"users", Config{Users: []*User{{Username: "a"}}}, true, true, false},
		{"no_auth_user", Config{Users: []*User{{Username: "a"}}, NoAuthUser: "a"}, true, false, false},
		{"nkeys", Config{Nkeys: []*NkeyUser{{Nkey: newNkeyUser(t).pub}}}, true, true, true},
	}
	for _, tt := range tests {
		a, err := New(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a.Required() != tt.required || a.AdvertiseRequired() != tt.advertise || a.NeedsNonce() != tt.once {
			t.Errorf("%s: Required %v AdvertiseRequired %v NeedsNonce %v, want %v %v %v", tt.name,
				a.Required(), a.AdvertiseRequired(), a.NeedsNonce(), tt.required, tt.advertise, tt.once)
		}
	}
}

type authCase struct {
	name    string
	creds   Credentials
	want    string // identity name
	wantErr error
}

func runAuth(t *testing.T, a *Authenticator, cases []authCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Authenticate(tt.creds)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err == nil && id.Name != tt.want {
				t.Fatalf("identity %q, want %q", id.Name, tt.want)
			}
		})
	}
}

func mustNew(t *testing.T, cfg Config) *Authenticator {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticateNothingConfigured(t *testing.T) {
	runAuth(t, mustNew(t, Config{}), []authCase{
		{"bare", Credentials{}, "", nil},
		{"credentials are ignored", Credentials{User: "x", Pass: "y", Token: "z"}, "", nil},
	})
}

func TestAuthenticateToken(t *testing.T) {
	runAuth(t, mustNew(t, Config{Token: "s3cret"}), []authCase{
		{"right", Credentials{Token: "s3cret"}, "", nil},
		{"wrong", Credentials{Token: "s3creT"}, "", errBadToken},
		{"missing", Credentials{}, "", errBadToken},
		{"sent as password", Credentials{User: "x", Pass: "s3cret"}, "", errBadToken},
	})
	runAuth(t, mustNew(t, Config{Token: bcryptHash(t, "s3cret")}), []authCase{
		{"bcrypt right", Credentials{Token: "s3cret"}, "", nil},
		{"bcrypt wrong", Credentials{Token: "nope"}, "", errBadToken},
	})
	runAuth(t, mustNew(t, Config{Token: "tok", Username: "u", Password: "p"}), []authCase{
		{"token wins", Credentials{Token: "tok"}, "", nil},
		{"single user ignored", Credentials{User: "u", Pass: "p"}, "", errBadToken},
	})
}

func TestAuthenticateSingleUser(t *testing.T) {
	runAuth(t, mustNew(t, Config{Username: "derek", Password: "pw"}), []authCase{
		{"right", Credentials{User: "derek", Pass: "pw"}, "derek", nil},
		{"wrong password", Credentials{User: "derek", Pass: "px"}, "", errBadPassword},
		{"wrong user", Credentials{User: "ivan", Pass: "pw"}, "", errUnknownUser},
		{"bare", Credentials{}, "", errUnknownUser},
	})
	runAuth(t, mustNew(t, Config{Username: "derek", Password: bcryptHash(t, "pw")}), []authCase{
		{"bcrypt right", Credentials{User: "derek", Pass: "pw"}, "derek", nil},
		{"bcrypt wrong", Credentials{User: "derek", Pass: "px"}, "", errBadPassword},
	})
}

func TestAuthenticateUsers(t *testing.T) {
	a := mustNew(t, Config{Users: []*User{
		{Username: "alice", Password: "apw"},
		{Username: "bob", Password: bcryptHash(t, "bpw")},
		{Username: "nopass"},
	}})
	runAuth(t, a, []authCase{
		{"plain", Credentials{User: "alice", Pass: "apw"}, "alice", nil},
		{"plain wrong", Credentials{User: "alice", Pass: "bpw"}, "", errBadPassword},
		{"bcrypt", Credentials{User: "bob", Pass: "bpw"}, "bob", nil},
		{"bcrypt wrong", Credentials{User: "bob", Pass: "apw"}, "", errBadPassword},
		{"unknown", Credentials{User: "carol", Pass: "x"}, "", errUnknownUser},
		{"empty password user", Credentials{User: "nopass"}, "nopass", nil},
		{"bare", Credentials{}, "", errNoCredentials},
		{"token only", Credentials{Token: "apw"}, "", errNoCredentials},
		{"password only", Credentials{Pass: "apw"}, "", errNoCredentials},
	})
}

func TestAuthenticateNoAuthUser(t *testing.T) {
	a := mustNew(t, Config{
		Users: []*User{
			// A bcrypt password does not stop the no_auth_user mapping.
			{Username: "guest", Password: bcryptHash(t, "gpw"), Permissions: sub([]string{"public.>"}, nil)},
			{Username: "alice", Password: "apw"},
		},
		NoAuthUser: "guest",
	})
	runAuth(t, a, []authCase{
		{"bare is guest", Credentials{}, "guest", nil},
		{"an nkey is ignored without nkey users", Credentials{Nkey: "UABC"}, "guest", nil},
		{"named user still checked", Credentials{User: "alice", Pass: "bad"}, "", errBadPassword},
		{"named user", Credentials{User: "alice", Pass: "apw"}, "alice", nil},
		{"guest by name needs its password", Credentials{User: "guest"}, "", errBadPassword},
		{"password only is not bare", Credentials{Pass: "x"}, "", errNoCredentials},
	})
	id, _ := a.Authenticate(Credentials{})
	if c := NewChecker(id.Permissions); !c.CanSubscribe("public.x", "") || c.CanSubscribe("private", "") {
		t.Fatal("guest permissions not applied")
	}
}

func TestDefaultPermissions(t *testing.T) {
	key := newNkeyUser(t)
	def := pub([]string{"default.>"}, nil)
	own := pub([]string{"own.>"}, nil)
	a := mustNew(t, Config{
		Users: []*User{
			{Username: "plain", Password: "p"},
			{Username: "special", Password: "p", Permissions: own},
			{Username: "responder", Password: "p", Permissions: &Permissions{Response: &ResponsePermission{}}},
		},
		Nkeys:              []*NkeyUser{{Nkey: key.pub}},
		NoAuthUser:         key.pub,
		DefaultPermissions: def,
	})
	tests := []struct {
		creds Credentials
		subj  string
		want  bool
	}{
		{Credentials{User: "plain", Pass: "p"}, "default.x", true},
		{Credentials{User: "plain", Pass: "p"}, "own.x", false},
		{Credentials{User: "special", Pass: "p"}, "own.x", true},
		{Credentials{User: "special", Pass: "p"}, "default.x", false},
		{Credentials{}, "default.x", true}, // the nkey user
		{Credentials{User: "responder", Pass: "p"}, "default.x", false},
	}
	for _, tt := range tests {
		id, err := a.Authenticate(tt.creds)
		if err != nil {
			t.Fatal(err)
		}
		if got := NewChecker(id.Permissions).CanPublish(tt.subj); got != tt.want {
			t.Errorf("%q publishing %q: %v, want %v", id.Name, tt.subj, got, tt.want)
		}
	}
	// Identity permissions are the effective ones, defaults filled in.
	id, _ := a.Authenticate(Credentials{User: "responder", Pass: "p"})
	if r := id.Permissions.Response; r == nil || r.MaxMsgs != 1 || r.Expires != 2*time.Minute {
		t.Fatalf("responder's effective response permission %+v", r)
	}
}

// New copies the configuration: later changes do not leak in.
func TestNewCopiesConfig(t *testing.T) {
	perms := pub([]string{"a"}, nil)
	users := []*User{{Username: "u", Password: "p", Permissions: perms}}
	a := mustNew(t, Config{Users: users})
	users[0].Password = "changed"
	perms.Publish.Allow[0] = "b"
	id, err := a.Authenticate(Credentials{User: "u", Pass: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if !NewChecker(id.Permissions).CanPublish("a") {
		t.Fatal("permissions changed after New")
	}
}

func TestLogValueRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("x",
		"creds", Credentials{User: "u", Pass: "hunter2", Token: "tok-secret", Sig: "sig-secret"},
		"cfg", Config{Token: "cfg-token", Username: "u", Password: "cfg-pass"})
	for _, secret := range []string{"hunter2", "tok-secret", "sig-secret", "cfg-token", "cfg-pass"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log line carries %q: %s", secret, buf.String())
		}
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	a := mustNew(t, Config{Users: []*User{{Username: "u", Password: "right"}}})
	_, err := a.Authenticate(Credentials{User: "u", Pass: "wrong-but-close-to-right"})
	if err == nil || strings.Contains(err.Error(), "right") {
		t.Fatalf("error %v", err)
	}
}
