package auth

import (
	"crypto/sha256"
	"crypto/subtle"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost HashPassword uses, that of nats-server's
// old mkpasswd tool.
const PasswordCost = 11

// HashPassword returns a bcrypt hash of pw for a configuration file. Like
// bcrypt itself it refuses passwords longer than 72 bytes.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// isBcrypt reports whether a configured secret is a bcrypt hash: "$2a$",
// "$2b$", "$2x$" or "$2y$", two cost digits, then "$".
func isBcrypt(s string) bool {
	if len(s) < 7 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return false
	}
	switch s[2] {
	case 'a', 'b', 'x', 'y':
	default:
		return false
	}
	return isDigit(s[4]) && isDigit(s[5])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkSecret compares what a client sent with a configured password or
// token, which may be a bcrypt hash.
func checkSecret(configured, sent string) bool {
	if isBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(sent)) == nil
	}
	return equalConstantTime(configured, sent)
}

// CheckPassword reports whether sent matches a configured password, plain
// or bcrypt, without revealing by its timing where they differ. Routes use
// it for the cluster's authorization.
func CheckPassword(configured, sent string) bool { return checkSecret(configured, sent) }

// EqualConstantTime compares two strings without revealing by its timing
// where they differ or how long they are.
func EqualConstantTime(a, b string) bool { return equalConstantTime(a, b) }

// equalConstantTime compares digests rather than the strings so that the
// time taken reveals neither where they differ nor the configured length.
func equalConstantTime(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
