-- What LINE counts against the month stays counted when a message's recipients change after
-- it was sent: 退会 takes her LINE id out of the lists of messages already sent (their rows
-- keep the delivery figures), and the month's count (/metrics' quota_used) fell by one for
-- each multicast she was among, though LINE had counted it. Only a row's sending (its state,
-- its moment, its channel, its kind) moves the count now.
DROP TRIGGER line_messages_unsent;
CREATE TRIGGER line_messages_unsent AFTER UPDATE ON outbox
    WHEN OLD.state = 'sent' AND OLD.channel = 'line' AND OLD.sent_at IS NOT NULL AND (OLD.state IS NOT NEW.state OR OLD.sent_at IS NOT NEW.sent_at OR OLD.channel IS NOT NEW.channel OR OLD.kind IS NOT NEW.kind)
BEGIN
    INSERT INTO line_messages_tally (bucket, shard, messages)
    SELECT substr(OLD.sent_at, 1, 13), 0, -(CASE OLD.kind WHEN 'multicast' THEN json_array_length(OLD.recipients) WHEN 'push' THEN 1 ELSE 0 END) WHERE OLD.state = 'sent' AND OLD.channel = 'line' AND OLD.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET messages = line_messages_tally.messages + excluded.messages;
END;
DROP TRIGGER line_messages_resent;
CREATE TRIGGER line_messages_resent AFTER UPDATE ON outbox
    WHEN NEW.state = 'sent' AND NEW.channel = 'line' AND NEW.sent_at IS NOT NULL AND (OLD.state IS NOT NEW.state OR OLD.sent_at IS NOT NEW.sent_at OR OLD.channel IS NOT NEW.channel OR OLD.kind IS NOT NEW.kind)
BEGIN
    INSERT INTO line_messages_tally (bucket, shard, messages)
    SELECT substr(NEW.sent_at, 1, 13), 0, (CASE NEW.kind WHEN 'multicast' THEN json_array_length(NEW.recipients) WHEN 'push' THEN 1 ELSE 0 END) WHERE NEW.state = 'sent' AND NEW.channel = 'line' AND NEW.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET messages = line_messages_tally.messages + excluded.messages;
END;
