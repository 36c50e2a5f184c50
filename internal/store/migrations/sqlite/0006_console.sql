-- The agent console: where each appointment's citizen is (lobby, call), the agents'
-- states and where they serve, the first rows of the CRM (one contact record per
-- service contact), the attempts to reach a citizen who has not joined, and the extra
-- join links sent to such a citizen. Times are unix seconds (UTC); 0 means "not yet".

-- lobby_at: the citizen first entered the call's lobby; call_started_at: first admitted;
-- ended_at: the agent finished (done) or the slot ended without the citizen (no_show).
-- changed_by: the member of staff who last cancelled or moved it on the citizen's behalf.
ALTER TABLE appointments ADD COLUMN lobby_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE appointments ADD COLUMN call_started_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE appointments ADD COLUMN ended_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE appointments ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX appointments_due ON appointments (status, ends_at);

-- Join links besides the one derived from the manage token: each is sent once (the
-- no-show e-mail) and opens the same join page. Only the SHA-256 of the token is kept.
CREATE TABLE appointment_join_links (
	token_hash TEXT PRIMARY KEY,
	appointment_id TEXT NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL
);
CREATE INDEX appointment_join_links_appointment ON appointment_join_links (appointment_id);

-- One row per agent who has opened the console. The citizen being served is either an
-- appointment or a ticket (or neither). pool is where the agent serves: '' for their own
-- location, a location id, or 'national' for the national pool. calling_until keeps two
-- "call next" of one agent from running at once.
CREATE TABLE agent_states (
	staff_id TEXT PRIMARY KEY REFERENCES staff(id) ON DELETE CASCADE,
	status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('offline', 'available', 'in_call', 'wrap_up', 'break')),
	since BIGINT NOT NULL,
	appointment_id TEXT REFERENCES appointments(id),
	ticket_id TEXT REFERENCES tickets(id),
	assigned_at BIGINT NOT NULL DEFAULT 0,
	calling_until BIGINT NOT NULL DEFAULT 0,
	pool TEXT NOT NULL DEFAULT ''
);

-- Moves of an agent between locations' queues and the national pool, by a supervisor.
CREATE TABLE agent_moves (
	id TEXT PRIMARY KEY,
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	from_pool TEXT NOT NULL,
	to_pool TEXT NOT NULL,
	moved_by TEXT NOT NULL REFERENCES staff(id),
	at BIGINT NOT NULL
);
CREATE INDEX agent_moves_staff ON agent_moves (staff_id, at);

-- A service contact on any channel: the first rows of the CRM. The citizen's details are
-- a snapshot; citizen_id links to the citizen record once the CRM has one. stage is the
-- step of the call script reached (0: the citizen never came; 1-8 otherwise).
CREATE TABLE contacts (
	id TEXT PRIMARY KEY,
	channel TEXT NOT NULL CHECK (channel IN ('video', 'phone', 'email', 'in_person')),
	appointment_id TEXT UNIQUE REFERENCES appointments(id),
	ticket_id TEXT UNIQUE REFERENCES tickets(id),
	citizen_id TEXT,
	citizen_name TEXT NOT NULL DEFAULT '',
	citizen_email TEXT NOT NULL DEFAULT '',
	citizen_phone TEXT NOT NULL DEFAULT '',
	citizen_niss TEXT NOT NULL DEFAULT '',
	agent_id TEXT REFERENCES staff(id),
	service_id TEXT REFERENCES services(id),
	theme_id TEXT REFERENCES themes(id),
	reason TEXT NOT NULL DEFAULT '',
	auth_level TEXT NOT NULL DEFAULT 'none' CHECK (auth_level IN ('none', 'weak', 'strong')),
	person TEXT NOT NULL DEFAULT 'self' CHECK (person IN ('self', 'third_party')),
	representative TEXT NOT NULL DEFAULT '',
	stage INTEGER NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 8),
	outcome TEXT NOT NULL CHECK (outcome IN ('resolved', 'follow_up', 'referred', 'not_resolved', 'no_answer', 'no_show')),
	notes TEXT NOT NULL DEFAULT '',
	follow_up TEXT NOT NULL DEFAULT '',
	started_at BIGINT NOT NULL,
	ended_at BIGINT NOT NULL,
	duration_seconds INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX contacts_email ON contacts (citizen_email, started_at);
CREATE INDEX contacts_phone ON contacts (citizen_phone, started_at);
CREATE INDEX contacts_niss ON contacts (citizen_niss, started_at);
CREATE INDEX contacts_agent ON contacts (agent_id, started_at);

-- Attempts to reach a citizen who had not joined by the start of their appointment.
-- result: for a phone call reached / no_answer / voicemail / wrong_number; for a link
-- sent by e-mail or text message, sent.
CREATE TABLE contact_attempts (
	id TEXT PRIMARY KEY,
	appointment_id TEXT NOT NULL REFERENCES appointments(id),
	agent_id TEXT NOT NULL REFERENCES staff(id),
	channel TEXT NOT NULL CHECK (channel IN ('phone', 'email', 'sms')),
	result TEXT NOT NULL CHECK (result IN ('reached', 'no_answer', 'voicemail', 'wrong_number', 'sent')),
	at BIGINT NOT NULL
);
CREATE INDEX contact_attempts_appointment ON contact_attempts (appointment_id, at);
