-- A second channel's seam: care/ writes tellings (channel-neutral, in the reader's language)
-- and each row names the channel that renders and sends them. Rows written before keep their
-- LINE messages in `messages` and are sent as written.
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'line';
ALTER TABLE outbox ADD COLUMN tellings TEXT NOT NULL DEFAULT '[]';
-- How a person is reached: LINE (their line_user_id) unless a channel and an address in its
-- terms are set.
ALTER TABLE members ADD COLUMN channel TEXT NOT NULL DEFAULT 'line';
ALTER TABLE members ADD COLUMN channel_address TEXT;
