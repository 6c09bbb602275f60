package auth

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/nats-io/nkeys"
)

// nonceBytes of randomness make a 15-character nonce, the size nats-server
// sends.
const nonceBytes = 11

// NewNonce returns a fresh challenge for the INFO nonce field: random bytes
// in unpadded URL-safe base64. Clients sign the text itself, not the bytes
// it encodes.
func NewNonce() string {
	var b [nonceBytes]byte
	rand.Read(b[:]) // never fails: the runtime aborts if randomness is unavailable
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeSig decodes a CONNECT sig field. Clients send unpadded URL-safe
// base64; nats-server also takes standard padded base64, and so do we.
func decodeSig(s string) ([]byte, bool) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// verifyNonce checks that sig is pub's signature of nonce.
func verifyNonce(pub nkeys.KeyPair, nonce, sig string) error {
	if nonce == "" {
		return errNoNonce
	}
	if sig == "" {
		return errNoSignature
	}
	raw, ok := decodeSig(sig)
	if !ok {
		return errBadSignature
	}
	if pub.Verify([]byte(nonce), raw) != nil {
		return errBadSignature
	}
	return nil
}
