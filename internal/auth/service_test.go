package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"balcao/internal/auth"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

// clock is a settable time for the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	anaEmail    = "ana.martins@example.pt"
	anaPassword = "Sol e mar em Agosto"
)

var client = auth.Client{IP: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0"}

// fixture is a service over a fresh database with one location and one agent, Ana.
type fixture struct {
	db    *store.DB
	svc   *auth.Service
	clock *clock
	ana   auth.Staff
}

func newFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Exec(ctx, "INSERT INTO locations (id, name) VALUES ('lisboa', '{\"pt-PT\": \"Lisboa\"}')"); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	svc := auth.NewService(db, c.Now, nil)
	ana, err := svc.CreateStaff(ctx, auth.NewStaff{Email: anaEmail, Name: "Ana Martins", Role: auth.RoleAgent,
		LocationID: "lisboa", Password: anaPassword})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, svc: svc, clock: c, ana: ana}
}

func (f fixture) login(t *testing.T, email, password string) (auth.LoginResult, error) {
	t.Helper()
	return f.svc.Login(context.Background(), email, password, client)
}

func TestCreateStaff(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if f.ana.ID == "" || f.ana.Role != auth.RoleAgent || !f.ana.Active || !f.ana.HasPassword || f.ana.TOTPEnabled {
			t.Fatalf("created %+v", f.ana)
		}
		for _, c := range []struct {
			name string
			n    auth.NewStaff
			want error
		}{
			{"e-mail taken, other case", auth.NewStaff{Email: "Ana.Martins@Example.PT", Name: "Outra Ana", Role: "agent", LocationID: "lisboa", Password: anaPassword}, auth.ErrEmailTaken},
			{"unknown location", auth.NewStaff{Email: "rui@example.pt", Name: "Rui Sá", Role: "agent", LocationID: "porto", Password: anaPassword}, auth.ErrUnknownLocation},
			{"unknown role", auth.NewStaff{Email: "rui@example.pt", Name: "Rui Sá", Role: "boss", LocationID: "lisboa", Password: anaPassword}, auth.ErrUnknownRole},
			{"weak password", auth.NewStaff{Email: "rui@example.pt", Name: "Rui Sá", Role: "agent", LocationID: "lisboa", Password: "rui@example.pt!"}, auth.ErrPasswordPersonal},
			{"not an e-mail", auth.NewStaff{Email: "rui", Name: "Rui Sá", Role: "agent", LocationID: "lisboa", Password: anaPassword}, auth.ErrInvalidEmail},
			{"no name", auth.NewStaff{Email: "rui@example.pt", Name: " ", Role: "agent", LocationID: "lisboa", Password: anaPassword}, auth.ErrNameRequired},
		} {
			if _, err := f.svc.CreateStaff(ctx, c.n); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		got, err := f.svc.StaffByEmail(ctx, " ANA.martins@example.pt ")
		if err != nil || got.ID != f.ana.ID {
			t.Fatalf("by e-mail in other case: %+v, %v", got, err)
		}
		list, err := f.svc.ListStaff(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v, %v", list, err)
		}
	})
}

// TestLockout: five failed logins in a row lock the account for 15 minutes, during which
// the right password is refused with the same error; after that it signs in again.
func TestLockout(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		fail := func(n int) {
			t.Helper()
			for i := 1; i <= n; i++ {
				if _, err := f.login(t, anaEmail, "wrong password 1"); !errors.Is(err, auth.ErrInvalidLogin) {
					t.Fatalf("failure %d: %v, want ErrInvalidLogin", i, err)
				}
			}
		}
		// One short of the limit the account still opens, and that resets the count.
		fail(auth.MaxFailures - 1)
		if _, err := f.login(t, anaEmail, anaPassword); err != nil {
			t.Fatalf("after %d failures: %v", auth.MaxFailures-1, err)
		}
		fail(auth.MaxFailures)
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("right password on a locked account: %v, want ErrInvalidLogin", err)
		}
		if _, err := f.login(t, "nobody@example.pt", anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("unknown e-mail: %v, want ErrInvalidLogin", err)
		}
		s, _ := f.svc.StaffByID(context.Background(), f.ana.ID)
		if want := f.clock.Now().Add(auth.LockDuration); !s.LockedUntil.Equal(want) {
			t.Fatalf("locked until %v, want %v", s.LockedUntil, want)
		}
		f.clock.Advance(auth.LockDuration - time.Second)
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("a second before the lock ends: %v, want ErrInvalidLogin", err)
		}
		f.clock.Advance(time.Second)
		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil || res.Session.Stage != auth.StageFull || res.Staff.ID != f.ana.ID {
			t.Fatalf("after the lock: %+v, %v", res, err)
		}
		// The count starts again from zero.
		fail(auth.MaxFailures - 1)
		if _, err := f.login(t, anaEmail, anaPassword); err != nil {
			t.Fatalf("four failures after the lock ended locked the account again: %v", err)
		}
	})
}

// TestThrottleByAddress: many failures from one address stop its logins for a while,
// even with the right password, while other addresses go on.
func TestThrottleByAddress(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		attacker := auth.Client{IP: "2001:db8:1:2:3:4:5:6"}
		for i := 0; i < auth.MaxIPFailures; i++ {
			// Other addresses of the same /64 count as one.
			attacker.IP = "2001:db8:1:2::" + string(rune('a'+i%6))
			if _, err := f.svc.Login(ctx, "nobody@example.pt", "guess "+attacker.IP, attacker); !errors.Is(err, auth.ErrInvalidLogin) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err := f.svc.Login(ctx, anaEmail, anaPassword, attacker); !errors.Is(err, auth.ErrThrottled) {
			t.Fatalf("after %d failures: %v, want ErrThrottled", auth.MaxIPFailures, err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); err != nil {
			t.Fatalf("another address: %v", err)
		}
		f.clock.Advance(auth.IPWindow)
		if _, err := f.svc.Login(ctx, anaEmail, anaPassword, attacker); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

// TestSessionExpiry: a session ends after 30 minutes unused, and 12 hours after sign-in
// however much it is used.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Token) != 43 || res.Session.ID == res.Token || strings.Contains(res.Session.ID, res.Token) || len(res.Session.ID) != 64 {
			t.Fatalf("token %q, id %q: want 256 random bits and their SHA-256", res.Token, res.Session.ID)
		}
		var stored int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM staff_sessions WHERE id = ?", res.Token).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the token itself is stored (%d rows, %v)", stored, err)
		}
		sess, staff, err := f.svc.Authenticate(ctx, res.Token)
		if err != nil || staff.ID != f.ana.ID || sess.UserAgent != "Firefox, Linux" || sess.IP != client.IP || sess.CSRF == "" {
			t.Fatalf("authenticate: %+v %+v %v", sess, staff, err)
		}
		// Used every 29 minutes, it stays open: the idle timeout rolls.
		for i := 0; i < 4; i++ {
			f.clock.Advance(29 * time.Minute)
			if _, _, err := f.svc.Authenticate(ctx, res.Token); err != nil {
				t.Fatalf("used after 29 minutes (#%d): %v", i+1, err)
			}
		}
		f.clock.Advance(auth.IdleTimeout)
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after 30 idle minutes: %v, want ErrNoSession", err)
		}

		res, err = f.login(t, anaEmail, anaPassword)
		if err != nil {
			t.Fatal(err)
		}
		start := f.clock.Now()
		for f.clock.Now().Sub(start) < auth.SessionLifetime-20*time.Minute {
			f.clock.Advance(20 * time.Minute)
			if _, _, err := f.svc.Authenticate(ctx, res.Token); err != nil {
				t.Fatalf("used %v after sign-in: %v", f.clock.Now().Sub(start), err)
			}
		}
		f.clock.Advance(start.Add(auth.SessionLifetime).Sub(f.clock.Now()))
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("12 hours after sign-in: %v, want ErrNoSession", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, "not-a-token"); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("unknown token: %v", err)
		}
		if err := f.svc.Prune(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRevokeAndDisable(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var tokens []string
		for range 3 {
			res, err := f.login(t, anaEmail, anaPassword)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, res.Token)
		}
		if err := f.svc.Revoke(ctx, tokens[0]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, tokens[0]); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("revoked session: %v", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, tokens[1]); err != nil {
			t.Fatalf("revoking one session ended another: %v", err)
		}
		if list, err := f.svc.Sessions(ctx, f.ana.ID); err != nil || len(list) != 2 {
			t.Fatalf("live sessions: %d, %v; want 2", len(list), err)
		}
		if n, err := f.svc.RevokeAll(ctx, f.ana.ID); err != nil || n != 2 {
			t.Fatalf("revoke all: %d, %v; want 2", n, err)
		}
		for _, tok := range tokens {
			if _, _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
				t.Fatalf("after sign-out everywhere: %v", err)
			}
		}

		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Disable(ctx, f.ana.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session of a disabled account: %v", err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("login of a disabled account: %v", err)
		}
		// A configuration applied again sets active; the account stays disabled.
		if _, err := db.Exec(ctx, "UPDATE staff SET active = TRUE WHERE id = ?", f.ana.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("login of a disabled account made active again: %v", err)
		}
	})
}

func TestSetPasswordEndsSessions(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetPassword(ctx, f.ana.ID, "short"); !errors.Is(err, auth.ErrPasswordTooShort) {
			t.Fatalf("short password: %v", err)
		}
		if err := f.svc.SetPassword(ctx, f.ana.ID, "Chuva em Novembro 7"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("session after a password change: %v", err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("old password: %v", err)
		}
		if _, err := f.login(t, anaEmail, "Chuva em Novembro 7"); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		old := legacyHash(anaPassword, 1, 8*1024)
		if _, err := db.Exec(ctx, "UPDATE staff SET password_hash = ? WHERE id = ?", old, f.ana.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); err != nil {
			t.Fatal(err)
		}
		var now string
		if err := db.QueryRow(ctx, "SELECT password_hash FROM staff WHERE id = ?", f.ana.ID).Scan(&now); err != nil {
			t.Fatal(err)
		}
		if now == old || auth.NeedsRehash(now) || !auth.CheckPassword(now, anaPassword) {
			t.Fatalf("after login the hash is %q", now)
		}
	})
}

// enrol sets up TOTP for the staff member and returns the secret.
func (f fixture) enrol(t *testing.T, staffID string) string {
	t.Helper()
	ctx := context.Background()
	secret, err := f.svc.BeginTOTP(ctx, staffID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.BeginTOTP(ctx, staffID)
	if err != nil || again != secret {
		t.Fatalf("a second BeginTOTP changed the secret (%v)", err)
	}
	if _, err := f.svc.ConfirmTOTP(ctx, auth.Session{StaffID: staffID, Stage: auth.StageFull}, "000000", client); !errors.Is(err, auth.ErrInvalidCode) &&
		auth.TOTP(decode(t, secret), f.clock.Now(), 6) != "000000" {
		t.Fatalf("a wrong code confirmed TOTP: %v", err)
	}
	token, err := f.svc.ConfirmTOTP(ctx, auth.Session{StaffID: staffID, Stage: auth.StageFull}, f.code(t, secret, 0), client)
	if err != nil || token != "" {
		t.Fatalf("confirm: %q, %v", token, err)
	}
	if _, err := f.svc.BeginTOTP(ctx, staffID); !errors.Is(err, auth.ErrTOTPEnabled) {
		t.Fatalf("BeginTOTP once enabled: %v", err)
	}
	return secret
}

func (f fixture) code(t *testing.T, secret string, d time.Duration) string {
	return auth.TOTP(decode(t, secret), f.clock.Now().Add(d), 6)
}

func TestTOTPLogin(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		secret := f.enrol(t, f.ana.ID)

		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil || res.Session.Stage != auth.StageTOTP || !res.Session.ExpiresAt.Equal(f.clock.Now().Add(auth.PendingLifetime)) {
			t.Fatalf("login with TOTP on: %+v, %v; want a session waiting for the code", res.Session, err)
		}
		// The code used to confirm the enrolment is spent.
		if _, err := f.svc.VerifyTOTPLogin(ctx, res.Token, f.code(t, secret, 0), client); !errors.Is(err, auth.ErrInvalidCode) {
			t.Fatalf("the enrolment's code again: %v, want ErrInvalidCode", err)
		}
		f.clock.Advance(auth.TOTPStep)
		full, err := f.svc.VerifyTOTPLogin(ctx, res.Token, f.code(t, secret, 0), client)
		if err != nil || full.Session.Stage != auth.StageFull || full.Token == res.Token {
			t.Fatalf("right code: %+v, %v", full.Session, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the waiting session outlived the login: %v", err)
		}
		if _, err := f.svc.VerifyTOTPLogin(ctx, full.Token, f.code(t, secret, 0), client); !errors.Is(err, auth.ErrWrongStage) {
			t.Fatalf("code on a signed-in session: %v", err)
		}
		// The same code, in a second login within the same 30 seconds, is refused.
		res2, _ := f.login(t, anaEmail, anaPassword)
		if _, err := f.svc.VerifyTOTPLogin(ctx, res2.Token, f.code(t, secret, 0), client); !errors.Is(err, auth.ErrInvalidCode) {
			t.Fatalf("a code used twice: %v, want ErrInvalidCode", err)
		}
		// A waiting session ends after 10 minutes.
		f.clock.Advance(auth.PendingLifetime)
		if _, err := f.svc.VerifyTOTPLogin(ctx, res2.Token, f.code(t, secret, 0), client); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("code after 10 minutes: %v, want ErrNoSession", err)
		}

		// Wrong codes count as failed logins: the fifth locks the account.
		res3, _ := f.login(t, anaEmail, anaPassword)
		for i := 1; i < auth.MaxFailures; i++ {
			if _, err := f.svc.VerifyTOTPLogin(ctx, res3.Token, wrongCode(f.code(t, secret, 0)), client); !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := f.svc.VerifyTOTPLogin(ctx, res3.Token, wrongCode(f.code(t, secret, 0)), client); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("fifth wrong code: %v, want ErrInvalidLogin", err)
		}
		if _, err := f.login(t, anaEmail, anaPassword); !errors.Is(err, auth.ErrInvalidLogin) {
			t.Fatalf("login after five wrong codes: %v, want the account locked", err)
		}
	})
}

// wrongCode is a 6-digit code other than code, and other than the codes of the steps
// around it with any luck at all.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+5)%10
	return string(b)
}

func TestTOTPRequiredByRole(t *testing.T) {
	t.Parallel()
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if req, err := f.svc.TOTPRequired(ctx, auth.RoleAdministrator); err != nil || !req {
			t.Fatalf("administrators: required %v (%v), want true by default", req, err)
		}
		if req, _ := f.svc.TOTPRequired(ctx, auth.RoleAgent); req {
			t.Fatal("agents need TOTP by default")
		}
		if err := f.svc.SetTOTPRequired(ctx, auth.RoleAgent, true); err != nil {
			t.Fatal(err)
		}
		res, err := f.login(t, anaEmail, anaPassword)
		if err != nil || res.Session.Stage != auth.StageEnrol {
			t.Fatalf("login of an agent without TOTP, required: %+v, %v; want StageEnrol", res.Session, err)
		}
		sess, _, err := f.svc.Authenticate(ctx, res.Token)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := f.svc.BeginTOTP(ctx, f.ana.ID)
		if err != nil {
			t.Fatal(err)
		}
		token, err := f.svc.ConfirmTOTP(ctx, sess, f.code(t, secret, 0), client)
		if err != nil || token == "" {
			t.Fatalf("confirm while enrolling at login: %q, %v; want a signed-in session", token, err)
		}
		full, _, err := f.svc.Authenticate(ctx, token)
		if err != nil || full.Stage != auth.StageFull {
			t.Fatalf("after enrolment: %+v, %v", full, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("the enrolling session outlived the enrolment: %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, f.ana.ID, anaPassword); !errors.Is(err, auth.ErrTOTPRequired) {
			t.Fatalf("turning off a required TOTP: %v", err)
		}
		if err := f.svc.SetTOTPRequired(ctx, auth.RoleAgent, false); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DisableTOTP(ctx, f.ana.ID, "wrong password 1"); !errors.Is(err, auth.ErrInvalidPassword) {
			t.Fatalf("turning off TOTP with a wrong password: %v", err)
		}
		if err := f.svc.DisableTOTP(ctx, f.ana.ID, anaPassword); err != nil {
			t.Fatal(err)
		}
		if res, err := f.login(t, anaEmail, anaPassword); err != nil || res.Session.Stage != auth.StageFull {
			t.Fatalf("login after TOTP was turned off: %+v, %v", res.Session, err)
		}
		if err := f.svc.SetTOTPRequired(ctx, "boss", true); !errors.Is(err, auth.ErrUnknownRole) {
			t.Fatalf("unknown role: %v", err)
		}
	})
}
