-- Durable messages: each is written in the same transaction as the change that owes it,
-- and delivered by a worker with retries. idempotency_key makes enqueueing the same
-- message twice a no-op and is sent to providers that deduplicate with it.
CREATE TABLE outbox (
	id TEXT PRIMARY KEY,
	channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
	idempotency_key TEXT NOT NULL UNIQUE,
	subject_ref TEXT NOT NULL DEFAULT '',
	payload TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'cancelled')),
	attempts INTEGER NOT NULL DEFAULT 0,
	not_before BIGINT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	provider_ref TEXT NOT NULL DEFAULT '',
	cost_cents INTEGER NOT NULL DEFAULT 0,
	segments INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	sent_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (status, not_before);
CREATE INDEX outbox_subject ON outbox (subject_ref, status);
