-- The agent console's memory between page loads, and its reads of personal data.

-- How far an agent has gone with the citizen they serve, saved as they go so that a
-- reload, a crashed browser or another tab resumes there: the steps of the call script
-- ticked, the step shown as current, and the outcome form as typed so far (the contact
-- record's fields, unchecked until the contact is finished). One row per agent and
-- citizen served ('appointment:<id>' or 'ticket:<id>'); it lives only while the agent
-- serves that citizen: finishing the contact, letting the ticket go or the no-show rule
-- delete it, and the console's upkeep removes any row left behind.
CREATE TABLE console_progress (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	subject TEXT NOT NULL,
	ticked TEXT NOT NULL DEFAULT '',
	current_step INTEGER NOT NULL DEFAULT 1,
	reason TEXT NOT NULL DEFAULT '',
	theme_id TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL DEFAULT '',
	notes TEXT NOT NULL DEFAULT '',
	follow_up TEXT NOT NULL DEFAULT '',
	auth_level TEXT NOT NULL DEFAULT '',
	person TEXT NOT NULL DEFAULT '',
	representative TEXT NOT NULL DEFAULT '',
	stage INTEGER NOT NULL DEFAULT 0,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (staff_id, subject)
);

-- The objects ('appointment:<id>', 'ticket:<id>') each live page of the console has
-- shown a member of staff on a local day (YYYY-MM-DD, Lisbon), so that the read is
-- written to the audit log the first time only, not at every live refresh, even when
-- several servers serve the same person. page: 'agenda', 'serving' or 'interpreter'.
-- Rows of earlier days are deleted by the console's upkeep.
CREATE TABLE console_reads (
	staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	day TEXT NOT NULL,
	page TEXT NOT NULL,
	object TEXT NOT NULL,
	PRIMARY KEY (staff_id, day, page, object)
);
CREATE INDEX console_reads_day ON console_reads (day);
