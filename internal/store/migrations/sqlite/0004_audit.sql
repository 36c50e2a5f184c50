-- Audit log, branding and the settings of the configuration pages.

-- The audit log: who did what to which record, in which contact, from where. It is
-- append-only (triggers refuse UPDATE and DELETE) and each entry is chained to the one
-- before it: hash = SHA-256(prev_hash || canonical encoding of the entry), hex-encoded,
-- the first entry's prev_hash 64 zeros. seq counts entries from 1 without gaps. details
-- carries ids and field names, never the values of personal data. at is unix seconds.
CREATE TABLE audit_log (
	seq BIGINT PRIMARY KEY,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL DEFAULT '',
	contact TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	details TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_object ON audit_log (object, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The head of the chain: the last entry's seq and hash. Appenders take it in their
-- transaction (a row lock on PostgreSQL; SQLite has one writer), so the chain never forks.
CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Branding files uploaded on the configuration pages (the logo), sanitised before they
-- are stored; sha256 versions their URL.
CREATE TABLE brand_assets (
	name TEXT PRIMARY KEY,
	content_type TEXT NOT NULL,
	body BLOB NOT NULL,
	sha256 TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- How long personal data is kept, in days (the configuration pages change them).
INSERT INTO settings (key, value) VALUES ('retention.appointments_days', '365') ON CONFLICT (key) DO NOTHING;
INSERT INTO settings (key, value) VALUES ('retention.tickets_days', '90') ON CONFLICT (key) DO NOTHING;
INSERT INTO settings (key, value) VALUES ('retention.contact_requests_days', '365') ON CONFLICT (key) DO NOTHING;
