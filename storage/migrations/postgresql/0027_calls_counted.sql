-- The month's calls are counted before each call (the budget): only the voice channel's rows.
CREATE INDEX outbox_calls ON outbox (created_at) WHERE channel = 'voice';
