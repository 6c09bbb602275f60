package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestIsBcrypt(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"$2a$11$abcdefghijklmnopqrstuv", true},
		{"$2b$04$x", true},
		{"$2x$10$x", true},
		{"$2y$12$", true},
		{"$2c$11$x", false},
		{"$2a$1$x", false},
		{"$2a$ab$x", false},
		{"$2a$11x", false},
		{"2a$11$x", false},
		{"plain", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isBcrypt(tt.in); got != tt.want {
			t.Errorf("isBcrypt(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCheckSecret(t *testing.T) {
	hash := bcryptHash(t, "s3cret")
	tests := []struct {
		name             string
		configured, sent string
		want             bool
	}{
		{"plain equal", "s3cret", "s3cret", true},
		{"plain different", "s3cret", "s3creT", false},
		{"plain prefix", "s3cret", "s3c", false},
		{"plain empty both", "", "", true},
		{"plain empty sent", "s3cret", "", false},
		{"bcrypt right", hash, "s3cret", true},
		{"bcrypt wrong", hash, "nope", false},
		{"bcrypt hash sent back", hash, hash, false},
		{"malformed bcrypt", "$2a$11$short", "$2a$11$short", false},
	}
	for _, tt := range tests {
		if got := checkSecret(tt.configured, tt.sent); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !isBcrypt(h) || !strings.HasPrefix(h, "$2a$11$") {
		t.Fatalf("hash %q is not bcrypt at cost 11", h)
	}
	if !checkSecret(h, "correct horse") || checkSecret(h, "battery staple") {
		t.Fatal("hash does not verify")
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Fatal("a password over bcrypt's 72 bytes was hashed")
	}
}
