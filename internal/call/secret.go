package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"balcao/internal/store"
)

// SecretSetting is the key, in the settings table, of the secret that signs join
// tokens: 32 random bytes in hex, generated at the first start. Deleting the row (and
// restarting) invalidates every token issued, which only makes open pages reload.
const SecretSetting = "call_token_secret"

// LoadSecret returns the token secret from the settings table, creating it if there is
// none. Several servers on one database race harmlessly: the first insert wins and all
// read it back.
func LoadSecret(ctx context.Context, db *store.DB) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate call secret: %w", err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		SecretSetting, hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("store call secret: %w", err)
	}
	var v string
	if err := db.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", SecretSetting).Scan(&v); err != nil {
		return nil, fmt.Errorf("read call secret: %w", err)
	}
	secret, err := hex.DecodeString(v)
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("read call secret: setting %s is not 32 bytes of hex", SecretSetting)
	}
	return secret, nil
}
