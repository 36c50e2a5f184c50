-- Staff accounts: credentials and second factor on the staff table, login sessions, the
-- failed logins that throttle an address, and which roles must use a second factor.
-- Times are unix seconds (UTC); 0 means "never" / "not set".

-- password_hash is an argon2id hash in the PHC string format ('' until a password is set,
-- which makes every login fail). totp_secret is the base32 RFC 6238 key, set at enrolment
-- and in use once totp_confirmed; totp_last_step is the last 30-second step accepted, so a
-- code is never accepted twice. Five failed logins in a row set locked_until.
-- disabled_at is set by `balcao user disable` and outlives a configuration re-applied
-- at start (which sets active again).
ALTER TABLE staff ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN totp_secret TEXT;
ALTER TABLE staff ADD COLUMN totp_confirmed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN disabled_at BIGINT NOT NULL DEFAULT 0;

-- Staff sign in with their e-mail address, in any letter case.
CREATE UNIQUE INDEX staff_login_email ON staff (lower(email)) WHERE email <> '';

-- A session's id is the SHA-256 of the token in the browser's cookie (256 random bits):
-- the token itself is never stored. stage is 'full' once signed in, or 'totp' / 'enrol'
-- between the password and the second factor. A session ends at expires_at (12 hours
-- after sign-in), after 30 minutes without a request, or when revoked.
CREATE TABLE staff_sessions (
	id TEXT PRIMARY KEY,
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	stage TEXT NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'totp', 'enrol')),
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0,
	user_agent TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id, revoked_at);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Failed logins by client address (an IPv6 client by its /64), for the per-address throttle.
CREATE TABLE login_failures (
	id TEXT PRIMARY KEY,
	ip TEXT NOT NULL,
	at BIGINT NOT NULL
);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- Roles whose members must sign in with a second factor (TOTP): administrators by default.
INSERT INTO settings (key, value) VALUES ('auth.totp_required.administrator', 'true') ON CONFLICT (key) DO NOTHING;
