-- Walk-in virtual queues: the services that take tickets (senhas), their hours and rules,
-- and the tickets themselves. Numbers restart every day per service (A001, A002, ...).
CREATE TABLE walk_in_queues (
	service_id TEXT PRIMARY KEY REFERENCES services(id),
	letter TEXT NOT NULL,
	always_open BOOLEAN NOT NULL DEFAULT FALSE,
	max_waiting INTEGER NOT NULL DEFAULT 200 CHECK (max_waiting > 0),
	max_priority_run INTEGER NOT NULL DEFAULT 0 CHECK (max_priority_run >= 0),
	priority_run INTEGER NOT NULL DEFAULT 0,
	answer_seconds INTEGER NOT NULL DEFAULT 120 CHECK (answer_seconds > 0),
	recall_minutes INTEGER NOT NULL DEFAULT 5 CHECK (recall_minutes >= 0),
	near_position INTEGER NOT NULL DEFAULT 3 CHECK (near_position >= 0)
);

CREATE TABLE walk_in_hours (
	service_id TEXT NOT NULL REFERENCES walk_in_queues(service_id) ON DELETE CASCADE,
	weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
	start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1440),
	end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440 AND end_minute > start_minute),
	PRIMARY KEY (service_id, weekday, start_minute)
);

CREATE TABLE ticket_counters (
	service_id TEXT NOT NULL,
	day TEXT NOT NULL,
	last INTEGER NOT NULL,
	PRIMARY KEY (service_id, day)
);

CREATE TABLE tickets (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL REFERENCES services(id),
	theme_id TEXT REFERENCES themes(id),
	day TEXT NOT NULL,
	number INTEGER NOT NULL,
	code TEXT NOT NULL,
	priority BOOLEAN NOT NULL DEFAULT FALSE,
	status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'in_call', 'served', 'abandoned', 'no_answer')),
	citizen_id TEXT,
	citizen_name TEXT NOT NULL,
	citizen_email TEXT NOT NULL DEFAULT '',
	citizen_phone TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT 'pt-PT',
	token_hash TEXT NOT NULL UNIQUE,
	channel TEXT NOT NULL DEFAULT 'portal',
	call_attempts INTEGER NOT NULL DEFAULT 0,
	eligible_at BIGINT NOT NULL,
	agent_id TEXT REFERENCES staff(id),
	near_alerted BOOLEAN NOT NULL DEFAULT FALSE,
	created_at BIGINT NOT NULL,
	called_at BIGINT NOT NULL DEFAULT 0,
	answered_at BIGINT NOT NULL DEFAULT 0,
	ended_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (service_id, day, number)
);
CREATE INDEX tickets_queue ON tickets (service_id, status, priority, created_at);
CREATE INDEX tickets_agent ON tickets (agent_id, status);
