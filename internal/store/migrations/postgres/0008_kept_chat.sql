-- A call's chat is kept only when the agent asks for it: kept_chats holds it from that
-- moment until the agent finishes the contact, when it moves into the contact record.
CREATE TABLE kept_chats (
	room TEXT PRIMARY KEY,
	staff_id TEXT NOT NULL REFERENCES staff(id),
	kept_at BIGINT NOT NULL,
	messages TEXT NOT NULL
);

ALTER TABLE contacts ADD COLUMN chat TEXT NOT NULL DEFAULT '';
