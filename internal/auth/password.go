package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106), at the minimum that OWASP's Password Storage Cheat
// Sheet recommends for argon2id: 19 MiB of memory, 2 passes, 1 lane. A hash takes about
// 30 ms of one core. A password hashed with other parameters is rehashed with these at
// its next successful login.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds how many hashes run at once, so that a burst of logins costs at most
// that many times 19 MiB of memory rather than one 19 MiB per request.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

var b64 = base64.RawStdEncoding

// HashPassword hashes password with argon2id and a random 128-bit salt, in the PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := derive(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func derive(password string, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, time, memory, threads, keyLen)
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errBadHash = errors.New("not an argon2id PHC string")

func parsePHC(s string) (phc, error) {
	var p phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil ||
		p.memory < 8 || p.memory > 1<<22 || p.time < 1 || p.time > 64 || threads < 1 || threads > 255 {
		return p, errBadHash
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, errBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 128 {
		return p, errBadHash
	}
	return p, nil
}

// CheckPassword tells whether password matches the PHC string encoded, comparing in
// constant time. A malformed or empty encoded never matches.
func CheckPassword(encoded, password string) bool {
	p, err := parsePHC(encoded)
	if err != nil {
		return false
	}
	key := derive(password, p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// NeedsRehash tells whether encoded was made with other parameters than HashPassword's.
func NeedsRehash(encoded string) bool {
	p, err := parsePHC(encoded)
	return err != nil || p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.key) != argonKeyLen
}

// dummyHash is checked against when there is no account or no password, so that such a
// login takes as long as one with a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("no account has this password")
	return h
})

// Password policy errors.
var (
	ErrPasswordTooShort = errors.New("password shorter than 12 characters")
	ErrPasswordTooLong  = errors.New("password longer than 256 characters")
	ErrPasswordOneClass = errors.New("password of one kind of character only")
	ErrPasswordPersonal = errors.New("password contains the e-mail address or the name")
)

// Password length limits, in characters.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// CheckPasswordPolicy reports why password is not acceptable for the staff member with
// this e-mail and name: shorter than 12 characters, all of one kind (lower case, upper
// case, digits, other), or containing the e-mail address, its local part or a part of the
// name (4 letters or more).
func CheckPasswordPolicy(password, email, name string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return ErrPasswordTooShort
	}
	if n > MaxPasswordLength {
		return ErrPasswordTooLong
	}
	var classes [4]bool
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			classes[0] = true
		case unicode.IsUpper(r):
			classes[1] = true
		case unicode.IsDigit(r):
			classes[2] = true
		default:
			classes[3] = true
		}
	}
	kinds := 0
	for _, c := range classes {
		if c {
			kinds++
		}
	}
	if kinds < 2 {
		return ErrPasswordOneClass
	}
	lower := strings.ToLower(password)
	email = strings.ToLower(strings.TrimSpace(email))
	local, _, _ := strings.Cut(email, "@")
	personal := []string{email, local, strings.ToLower(strings.Join(strings.Fields(name), ""))}
	personal = append(personal, strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) })...)
	personal = append(personal, strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })...)
	for _, p := range personal {
		if utf8.RuneCountInString(p) >= 4 && strings.Contains(lower, p) {
			return ErrPasswordPersonal
		}
	}
	return nil
}
