-- The answer to a handled event, kept with it until LINE has it: written in the transaction that
-- handles the event, cleared once sent. When the instance that handled it dies before sending,
-- another sends it while the reply token is still good.
ALTER TABLE webhook_events ADD COLUMN reply TEXT;
CREATE INDEX webhook_events_reply ON webhook_events (received_at) WHERE reply IS NOT NULL;
