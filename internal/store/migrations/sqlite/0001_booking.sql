-- Agency configuration, appointments and contact requests.
-- Times are unix seconds (UTC); days are 'YYYY-MM-DD' in the agency's time zone; translated
-- texts are JSON objects keyed by language ({"pt-PT": "...", "en": "..."}).

CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE locations (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	region TEXT NOT NULL DEFAULT '',
	active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE opening_hours (
	location_id TEXT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
	weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
	start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1440),
	end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440 AND end_minute > start_minute),
	PRIMARY KEY (location_id, weekday, start_minute)
);

-- Days closed beyond the national holidays (municipal holiday, tolerância de ponto);
-- an empty location_id closes the whole agency.
CREATE TABLE closures (
	location_id TEXT NOT NULL DEFAULT '',
	day TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (location_id, day)
);

CREATE TABLE services (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '{}',
	position INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE themes (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL REFERENCES services(id),
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '{}',
	instructions TEXT NOT NULL DEFAULT '{}',
	duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0 AND duration_minutes % 5 = 0),
	buffer_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes >= 0 AND buffer_minutes % 5 = 0),
	auth_level TEXT NOT NULL CHECK (auth_level IN ('none', 'weak', 'strong')),
	min_notice_minutes INTEGER NOT NULL DEFAULT 60 CHECK (min_notice_minutes >= 0),
	horizon_days INTEGER NOT NULL DEFAULT 30 CHECK (horizon_days > 0),
	position INTEGER NOT NULL DEFAULT 0,
	active BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX themes_service ON themes (service_id);

CREATE TABLE staff (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	location_id TEXT NOT NULL REFERENCES locations(id),
	role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'interpreter', 'supervisor', 'administrator')),
	active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE staff_languages (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	language TEXT NOT NULL CHECK (language IN ('pt', 'en', 'lgp')),
	PRIMARY KEY (staff_id, language)
);
CREATE INDEX staff_languages_language ON staff_languages (language);

CREATE TABLE staff_themes (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	theme_id TEXT NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
	PRIMARY KEY (staff_id, theme_id)
);
CREATE INDEX staff_themes_theme ON staff_themes (theme_id);

-- Weekly availability in the agency's local time, bounded by the location's opening hours.
CREATE TABLE staff_hours (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
	start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1440),
	end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440 AND end_minute > start_minute),
	PRIMARY KEY (staff_id, weekday, start_minute)
);

CREATE TABLE staff_absences (
	id TEXT PRIMARY KEY,
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	starts_at BIGINT NOT NULL,
	ends_at BIGINT NOT NULL CHECK (ends_at > starts_at),
	reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_absences_staff ON staff_absences (staff_id, starts_at);

CREATE TABLE appointments (
	id TEXT PRIMARY KEY,
	theme_id TEXT NOT NULL REFERENCES themes(id),
	agent_id TEXT NOT NULL REFERENCES staff(id),
	interpreter_id TEXT REFERENCES staff(id),
	starts_at BIGINT NOT NULL,
	ends_at BIGINT NOT NULL CHECK (ends_at > starts_at),
	status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'done', 'no_show')),
	citizen_id TEXT,
	citizen_name TEXT NOT NULL,
	citizen_email TEXT NOT NULL,
	citizen_phone TEXT NOT NULL DEFAULT '',
	citizen_niss TEXT NOT NULL DEFAULT '',
	citizen_nif TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT 'pt-PT',
	time_zone TEXT NOT NULL DEFAULT 'Europe/Lisbon',
	sign_language BOOLEAN NOT NULL DEFAULT FALSE,
	notes TEXT NOT NULL DEFAULT '',
	manage_token_hash TEXT NOT NULL UNIQUE,
	join_token_hash TEXT NOT NULL UNIQUE,
	sequence INTEGER NOT NULL DEFAULT 0,
	channel TEXT NOT NULL DEFAULT 'portal',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX appointments_agent ON appointments (agent_id, starts_at);
CREATE INDEX appointments_starts ON appointments (starts_at);

-- One row per staff member and 5-minute block they are booked for. Its primary key is what
-- makes double booking impossible, on one server or many: a block is claimed by inserting it.
CREATE TABLE staff_bookings (
	staff_id TEXT NOT NULL REFERENCES staff(id),
	block_start BIGINT NOT NULL,
	appointment_id TEXT NOT NULL,
	PRIMARY KEY (staff_id, block_start)
);
CREATE INDEX staff_bookings_appointment ON staff_bookings (appointment_id);

CREATE TABLE contact_requests (
	id TEXT PRIMARY KEY,
	theme_id TEXT REFERENCES themes(id),
	citizen_name TEXT NOT NULL,
	citizen_email TEXT NOT NULL DEFAULT '',
	citizen_phone TEXT NOT NULL DEFAULT '',
	citizen_niss TEXT NOT NULL DEFAULT '',
	citizen_nif TEXT NOT NULL DEFAULT '',
	language TEXT NOT NULL DEFAULT 'pt-PT',
	subject TEXT NOT NULL,
	message TEXT NOT NULL DEFAULT '',
	preferred_times TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'handled')),
	created_at BIGINT NOT NULL
);
CREATE INDEX contact_requests_status ON contact_requests (status, created_at);
