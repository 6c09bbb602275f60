package auth

import (
	"encoding/base64"
	"errors"
	"regexp"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestNewNonce(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{15}$`)
	seen := make(map[string]bool)
	for range 100 {
		n := NewNonce()
		if !re.MatchString(n) {
			t.Fatalf("nonce %q is not 15 characters of unpadded URL-safe base64", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

type nkeyUser struct {
	kp  nkeys.KeyPair
	pub string
}

func newNkeyUser(t *testing.T) nkeyUser {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	return nkeyUser{kp, pub}
}

func (u nkeyUser) sign(t *testing.T, nonce string, enc *base64.Encoding) string {
	t.Helper()
	sig, err := u.kp.Sign([]byte(nonce))
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(sig)
}

func TestNkeyAuthentication(t *testing.T) {
	alice, bob, stranger := newNkeyUser(t), newNkeyUser(t), newNkeyUser(t)
	perms := pub([]string{"alice.>"}, nil)
	a, err := New(Config{Nkeys: []*NkeyUser{{Nkey: alice.pub, Permissions: perms}, {Nkey: bob.pub}}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.NeedsNonce() || !a.Required() || !a.AdvertiseRequired() {
		t.Fatal("nkey users need a nonce and authentication")
	}
	nonce := NewNonce()
	tests := []struct {
		name    string
		creds   Credentials
		wantErr error
		want    string
	}{
		{"raw url signature", Credentials{Nkey: alice.pub, Nonce: nonce,
			Sig: alice.sign(t, nonce, base64.RawURLEncoding)}, nil, alice.pub},
		{"padded std signature", Credentials{Nkey: bob.pub, Nonce: nonce,
			Sig: bob.sign(t, nonce, base64.StdEncoding)}, nil, bob.pub},
		{"signed by another key", Credentials{Nkey: alice.pub, Nonce: nonce,
			Sig: bob.sign(t, nonce, base64.RawURLEncoding)}, errBadSignature, ""},
		{"signed another nonce", Credentials{Nkey: alice.pub, Nonce: nonce,
			Sig: alice.sign(t, NewNonce(), base64.RawURLEncoding)}, errBadSignature, ""},
		{"signature not base64", Credentials{Nkey: alice.pub, Nonce: nonce, Sig: "!!not base64!!"}, errBadSignature, ""},
		{"signature missing", Credentials{Nkey: alice.pub, Nonce: nonce}, errNoSignature, ""},
		{"no nonce issued", Credentials{Nkey: alice.pub,
			Sig: alice.sign(t, "", base64.RawURLEncoding)}, errNoNonce, ""},
		{"unknown key", Credentials{Nkey: stranger.pub, Nonce: nonce,
			Sig: stranger.sign(t, nonce, base64.RawURLEncoding)}, errUnknownNkey, ""},
		{"nothing sent", Credentials{Nonce: nonce}, errNoCredentials, ""},
		{"user and password instead", Credentials{User: "alice", Pass: "x", Nonce: nonce}, errNoCredentials, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Authenticate(tt.creds)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrAuthentication) {
					t.Fatalf("error %v does not wrap ErrAuthentication", err)
				}
				return
			}
			if id.Name != tt.want {
				t.Fatalf("identity %q, want %q", id.Name, tt.want)
			}
		})
	}

	id, _ := a.Authenticate(Credentials{Nkey: alice.pub, Nonce: nonce, Sig: alice.sign(t, nonce, base64.RawURLEncoding)})
	if c := NewChecker(id.Permissions); !c.CanPublish("alice.x") || c.CanPublish("bob.x") {
		t.Fatal("alice's permissions not applied")
	}
}

func TestNkeyNoAuthUser(t *testing.T) {
	anon, other := newNkeyUser(t), newNkeyUser(t)
	a, err := New(Config{Nkeys: []*NkeyUser{{Nkey: anon.pub}, {Nkey: other.pub}}, NoAuthUser: anon.pub})
	if err != nil {
		t.Fatal(err)
	}
	if a.AdvertiseRequired() || !a.Required() || !a.NeedsNonce() {
		t.Fatal("no_auth_user: INFO should not require auth, but a nonce is still sent")
	}
	tests := []struct {
		name    string
		creds   Credentials
		want    string
		wantErr error
	}{
		{"nothing sent", Credentials{Nonce: "n"}, anon.pub, nil},
		// nats-server does not ask the no_auth_user's key for a signature.
		{"its key without signature", Credentials{Nkey: anon.pub, Nonce: "n"}, anon.pub, nil},
		{"another key must sign", Credentials{Nkey: other.pub, Nonce: "n"}, "", errNoSignature},
		{"a token is not nothing", Credentials{Token: "t", Nonce: "n"}, "", errNoCredentials},
	}
	for _, tt := range tests {
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
