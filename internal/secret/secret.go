// Package secret makes the random tokens that links and API clients carry (manage,
// join, ticket) and the hashes stored in their place.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// New returns a fresh token (192 random bits, URL-safe) and the hash to store.
func New() (token, hash string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is the stored form of a token.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Matches tells, in constant time, whether token hashes to hash.
func Matches(token, hash string) bool {
	if token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(Hash(token)), []byte(hash)) == 1
}
