package auth_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"balcao/internal/auth"
)

func TestHashAndCheckPassword(t *testing.T) {
	h1, err := auth.HashPassword("correct horse battery 9")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := auth.HashPassword("correct horse battery 9")
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || len(strings.Split(h1, "$")) != 6 {
		t.Fatalf("hash %q is not an argon2id PHC string with the documented parameters", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", h1, "correct horse battery 9", true},
		{"other salt, right password", h2, "correct horse battery 9", true},
		{"wrong password", h1, "correct horse battery 8", false},
		{"empty password", h1, "", false},
		{"empty hash", "", "correct horse battery 9", false},
		{"bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x", false},
		{"truncated hash", h1[:len(h1)-10], "correct horse battery 9", false},
		{"absurd memory", strings.Replace(h1, "m=19456", "m=99999999", 1), "correct horse battery 9", false},
	} {
		if got := auth.CheckPassword(c.hash, c.password); got != c.want {
			t.Errorf("%s: CheckPassword = %v, want %v", c.name, got, c.want)
		}
	}
	if auth.NeedsRehash(h1) {
		t.Error("a fresh hash needs rehashing")
	}
	old := legacyHash("correct horse battery 9", 1, 8*1024)
	if !auth.CheckPassword(old, "correct horse battery 9") {
		t.Error("a hash with other parameters does not check")
	}
	if !auth.NeedsRehash(old) {
		t.Error("a hash with other parameters does not need rehashing")
	}
}

// legacyHash is an argon2id PHC string with parameters other than the package's.
func legacyHash(password string, time, memory uint32) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, time, memory, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", memory, time,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestPasswordPolicy(t *testing.T) {
	const email, name = "ana.martins@example.pt", "Ana Martins"
	for _, c := range []struct {
		password string
		want     error
	}{
		{"short-1A", auth.ErrPasswordTooShort},
		{"elevenchar1", auth.ErrPasswordTooShort},
		{"aaaaaaaaaaaaaaaaaaa", auth.ErrPasswordOneClass},
		{"1234567890123", auth.ErrPasswordOneClass},
		{"ABCDEFGHIJKLMN", auth.ErrPasswordOneClass},
		{"!!!!--------!!!!", auth.ErrPasswordOneClass},
		{"çãõáéíóúâêôà", auth.ErrPasswordOneClass},
		{"my Ana.Martins 2026", auth.ErrPasswordPersonal},
		{"martins-is-my-name", auth.ErrPasswordPersonal},
		{"ANAMARTINS-2026!", auth.ErrPasswordPersonal},
		{strings.Repeat("ab1", 90), auth.ErrPasswordTooLong},
		{"twelve chars", nil},
		{"banana split 2026", nil}, // holds "ana", too short a part of the name to count
		{"demo-balcao-2026", nil},
		{"Sol e mar em Agosto", nil},
	} {
		if got := auth.CheckPasswordPolicy(c.password, email, name); !errors.Is(got, c.want) || (c.want == nil && got != nil) {
			t.Errorf("%q: %v, want %v", c.password, got, c.want)
		}
	}
}
