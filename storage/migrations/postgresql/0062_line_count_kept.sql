-- What LINE counts against the month stays counted when a message's recipients change after
-- it was sent: 退会 takes her LINE id out of the lists of messages already sent (their rows
-- keep the delivery figures), and the month's count (/metrics' quota_used) fell by one for
-- each multicast she was among, though LINE had counted it. Only a row's sending (its state,
-- its moment, its channel, its kind) moves the count now.
CREATE OR REPLACE FUNCTION line_messages_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NOT (OLD.state IS DISTINCT FROM NEW.state OR OLD.sent_at IS DISTINCT FROM NEW.sent_at OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.kind IS DISTINCT FROM NEW.kind) THEN
            RETURN NULL;
        END IF;
        IF OLD.state = 'sent' AND OLD.channel = 'line' AND OLD.sent_at IS NOT NULL THEN
            INSERT INTO line_messages_tally (bucket, shard, messages)
    SELECT substr(OLD.sent_at, 1, 13), pg_backend_pid() % 16, -(CASE OLD.kind WHEN 'multicast' THEN json_array_length(OLD.recipients::json) WHEN 'push' THEN 1 ELSE 0 END) WHERE OLD.state = 'sent' AND OLD.channel = 'line' AND OLD.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET messages = line_messages_tally.messages + excluded.messages;
        END IF;
    END IF;
    IF NEW.state = 'sent' AND NEW.channel = 'line' AND NEW.sent_at IS NOT NULL THEN
        INSERT INTO line_messages_tally (bucket, shard, messages)
    SELECT substr(NEW.sent_at, 1, 13), pg_backend_pid() % 16, (CASE NEW.kind WHEN 'multicast' THEN json_array_length(NEW.recipients::json) WHEN 'push' THEN 1 ELSE 0 END) WHERE NEW.state = 'sent' AND NEW.channel = 'line' AND NEW.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET messages = line_messages_tally.messages + excluded.messages;
    END IF;
    RETURN NULL;
END;
$$;
