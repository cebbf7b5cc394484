-- Counts kept as rounds close (issue 42): the console's figures and /metrics read an hour of
-- closed rounds a row (on PostgreSQL a row a connection, so the rush's transactions never wait
-- on one another's), and count the rounds still open (their own partial index: at most one a
-- resident) from the rows; never the history itself, which grows to a year of every resident's
-- rounds. The database keeps them in the round's own transaction, whichever code closed it, and
-- only on closing: opening a wave, sending and re-sending cost nothing more. A closed round
-- changed again moves its counts (taken away as it was, added as it is). A purged round's
-- counts stay: the figures outlive the rows, as the monthly report's do.

CREATE TABLE round_tally (
    bucket TEXT NOT NULL,                            -- the slot's hour in UTC: 2026-11-22T22
    shard INTEGER NOT NULL,
    opened BIGINT NOT NULL DEFAULT 0,
    sent BIGINT NOT NULL DEFAULT 0,
    sent_urgent BIGINT NOT NULL DEFAULT 0,
    answered_plain BIGINT NOT NULL DEFAULT 0,
    resent BIGINT NOT NULL DEFAULT 0,
    alerted BIGINT NOT NULL DEFAULT 0,
    alerted_urgent BIGINT NOT NULL DEFAULT 0,
    urgent BIGINT NOT NULL DEFAULT 0,
    oks BIGINT NOT NULL DEFAULT 0,
    state_answered BIGINT NOT NULL DEFAULT 0,
    state_cancelled BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, shard)
);
-- The same closed rounds by the hour each step happened (the check-in reached LINE, her OK, the
-- re-send, the alert): the console's day-by-day chart and the usage export count the day a
-- thing was done.
CREATE TABLE round_events_tally (
    bucket TEXT NOT NULL,                            -- the hour, in UTC
    shard INTEGER NOT NULL,
    sent BIGINT NOT NULL DEFAULT 0,
    oks BIGINT NOT NULL DEFAULT 0,
    resent BIGINT NOT NULL DEFAULT 0,
    alerted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, shard)
);
-- Her OKs by the minutes from the check-in reaching LINE (the overview's median).
CREATE TABLE round_ok_minutes (
    bucket TEXT NOT NULL,                            -- the slot's hour
    minutes INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    rounds BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, minutes, shard)
);

INSERT INTO round_tally (bucket, shard, opened, sent, sent_urgent, answered_plain, resent, alerted, alerted_urgent, urgent, oks, state_answered, state_cancelled)
    SELECT substr(r.slot_at, 1, 13), 0, SUM(CASE WHEN 1 = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN r.sent_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN r.sent_at IS NOT NULL AND r.urgent = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN r.sent_at IS NOT NULL AND r.answer IN ('ok', 'unwell') AND r.urgent = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN r.resent_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN r.alerted_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN r.alerted_at IS NOT NULL AND r.urgent = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN r.urgent = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN r.state = 'answered' AND COALESCE(r.close_reason, '') != 'confirmed' THEN 1 ELSE 0 END), SUM(CASE WHEN r.state = 'answered' THEN 1 ELSE 0 END), SUM(CASE WHEN r.state = 'cancelled' THEN 1 ELSE 0 END)
    FROM checkin_rounds r WHERE r.state IN ('answered', 'cancelled') GROUP BY substr(r.slot_at, 1, 13);
INSERT INTO round_events_tally (bucket, shard, sent)
    SELECT substr(r.sent_at, 1, 13), 0, COUNT(*) FROM checkin_rounds r
    WHERE r.state IN ('answered', 'cancelled') AND r.sent_at IS NOT NULL GROUP BY substr(r.sent_at, 1, 13)
    ON CONFLICT (bucket, shard) DO UPDATE SET sent = round_events_tally.sent + excluded.sent;
INSERT INTO round_events_tally (bucket, shard, oks)
    SELECT substr(r.closed_at, 1, 13), 0, COUNT(*) FROM checkin_rounds r
    WHERE r.state IN ('answered', 'cancelled') AND r.state = 'answered' AND COALESCE(r.close_reason, '') != 'confirmed' AND r.closed_at IS NOT NULL GROUP BY substr(r.closed_at, 1, 13)
    ON CONFLICT (bucket, shard) DO UPDATE SET oks = round_events_tally.oks + excluded.oks;
INSERT INTO round_events_tally (bucket, shard, resent)
    SELECT substr(r.resent_at, 1, 13), 0, COUNT(*) FROM checkin_rounds r
    WHERE r.state IN ('answered', 'cancelled') AND r.resent_at IS NOT NULL GROUP BY substr(r.resent_at, 1, 13)
    ON CONFLICT (bucket, shard) DO UPDATE SET resent = round_events_tally.resent + excluded.resent;
INSERT INTO round_events_tally (bucket, shard, alerted)
    SELECT substr(r.alerted_at, 1, 13), 0, COUNT(*) FROM checkin_rounds r
    WHERE r.state IN ('answered', 'cancelled') AND r.alerted_at IS NOT NULL GROUP BY substr(r.alerted_at, 1, 13)
    ON CONFLICT (bucket, shard) DO UPDATE SET alerted = round_events_tally.alerted + excluded.alerted;
INSERT INTO round_ok_minutes (bucket, minutes, shard, rounds)
    SELECT substr(r.slot_at, 1, 13), CAST(round(extract(epoch FROM (r.closed_at::timestamptz - r.sent_at::timestamptz)) / 60) AS INTEGER), 0, COUNT(*)
    FROM checkin_rounds r WHERE r.state = 'answered' AND COALESCE(r.close_reason, '') != 'confirmed' AND r.sent_at IS NOT NULL AND r.closed_at IS NOT NULL
    GROUP BY substr(r.slot_at, 1, 13), CAST(round(extract(epoch FROM (r.closed_at::timestamptz - r.sent_at::timestamptz)) / 60) AS INTEGER);

CREATE FUNCTION round_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NOT (OLD.state IS DISTINCT FROM NEW.state OR OLD.slot_at IS DISTINCT FROM NEW.slot_at OR OLD.sent_at IS DISTINCT FROM NEW.sent_at OR OLD.resent_at IS DISTINCT FROM NEW.resent_at OR OLD.alerted_at IS DISTINCT FROM NEW.alerted_at OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.close_reason IS DISTINCT FROM NEW.close_reason OR OLD.answer IS DISTINCT FROM NEW.answer OR OLD.urgent IS DISTINCT FROM NEW.urgent) THEN
            RETURN NULL;
        END IF;
        IF OLD.state IN ('answered', 'cancelled') THEN
        INSERT INTO round_tally (bucket, shard, opened, sent, sent_urgent, answered_plain, resent, alerted, alerted_urgent, urgent, oks, state_answered, state_cancelled)
    SELECT substr(OLD.slot_at, 1, 13), pg_backend_pid() % 16, -CASE WHEN 1 = 1 THEN 1 ELSE 0 END, -CASE WHEN OLD.sent_at IS NOT NULL THEN 1 ELSE 0 END, -CASE WHEN OLD.sent_at IS NOT NULL AND OLD.urgent = 1 THEN 1 ELSE 0 END, -CASE WHEN OLD.sent_at IS NOT NULL AND OLD.answer IN ('ok', 'unwell') AND OLD.urgent = 0 THEN 1 ELSE 0 END, -CASE WHEN OLD.resent_at IS NOT NULL THEN 1 ELSE 0 END, -CASE WHEN OLD.alerted_at IS NOT NULL THEN 1 ELSE 0 END, -CASE WHEN OLD.alerted_at IS NOT NULL AND OLD.urgent = 1 THEN 1 ELSE 0 END, -CASE WHEN OLD.urgent = 1 THEN 1 ELSE 0 END, -CASE WHEN OLD.state = 'answered' AND COALESCE(OLD.close_reason, '') != 'confirmed' THEN 1 ELSE 0 END, -CASE WHEN OLD.state = 'answered' THEN 1 ELSE 0 END, -CASE WHEN OLD.state = 'cancelled' THEN 1 ELSE 0 END WHERE OLD.state IN ('answered', 'cancelled')
    ON CONFLICT (bucket, shard) DO UPDATE SET opened = round_tally.opened + excluded.opened, sent = round_tally.sent + excluded.sent, sent_urgent = round_tally.sent_urgent + excluded.sent_urgent, answered_plain = round_tally.answered_plain + excluded.answered_plain, resent = round_tally.resent + excluded.resent, alerted = round_tally.alerted + excluded.alerted, alerted_urgent = round_tally.alerted_urgent + excluded.alerted_urgent, urgent = round_tally.urgent + excluded.urgent, oks = round_tally.oks + excluded.oks, state_answered = round_tally.state_answered + excluded.state_answered, state_cancelled = round_tally.state_cancelled + excluded.state_cancelled;
        INSERT INTO round_events_tally (bucket, shard, sent)
    SELECT substr(OLD.sent_at, 1, 13), pg_backend_pid() % 16, -1 WHERE OLD.state IN ('answered', 'cancelled') AND OLD.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET sent = round_events_tally.sent + excluded.sent;
        INSERT INTO round_events_tally (bucket, shard, oks)
    SELECT substr(OLD.closed_at, 1, 13), pg_backend_pid() % 16, -1 WHERE OLD.state IN ('answered', 'cancelled') AND OLD.state = 'answered' AND COALESCE(OLD.close_reason, '') != 'confirmed' AND OLD.closed_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET oks = round_events_tally.oks + excluded.oks;
        INSERT INTO round_events_tally (bucket, shard, resent)
    SELECT substr(OLD.resent_at, 1, 13), pg_backend_pid() % 16, -1 WHERE OLD.state IN ('answered', 'cancelled') AND OLD.resent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET resent = round_events_tally.resent + excluded.resent;
        INSERT INTO round_events_tally (bucket, shard, alerted)
    SELECT substr(OLD.alerted_at, 1, 13), pg_backend_pid() % 16, -1 WHERE OLD.state IN ('answered', 'cancelled') AND OLD.alerted_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET alerted = round_events_tally.alerted + excluded.alerted;
        INSERT INTO round_ok_minutes (bucket, minutes, shard, rounds)
    SELECT substr(OLD.slot_at, 1, 13), CAST(round(extract(epoch FROM (OLD.closed_at::timestamptz - OLD.sent_at::timestamptz)) / 60) AS INTEGER), pg_backend_pid() % 16, -1 WHERE OLD.state = 'answered' AND COALESCE(OLD.close_reason, '') != 'confirmed' AND OLD.sent_at IS NOT NULL AND OLD.closed_at IS NOT NULL
    ON CONFLICT (bucket, minutes, shard) DO UPDATE SET rounds = round_ok_minutes.rounds + excluded.rounds;
        END IF;
    END IF;
    IF NEW.state IN ('answered', 'cancelled') THEN
        INSERT INTO round_tally (bucket, shard, opened, sent, sent_urgent, answered_plain, resent, alerted, alerted_urgent, urgent, oks, state_answered, state_cancelled)
    SELECT substr(NEW.slot_at, 1, 13), pg_backend_pid() % 16, CASE WHEN 1 = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.sent_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.sent_at IS NOT NULL AND NEW.urgent = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.sent_at IS NOT NULL AND NEW.answer IN ('ok', 'unwell') AND NEW.urgent = 0 THEN 1 ELSE 0 END, CASE WHEN NEW.resent_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.alerted_at IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.alerted_at IS NOT NULL AND NEW.urgent = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.urgent = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'answered' AND COALESCE(NEW.close_reason, '') != 'confirmed' THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'answered' THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'cancelled' THEN 1 ELSE 0 END WHERE NEW.state IN ('answered', 'cancelled')
    ON CONFLICT (bucket, shard) DO UPDATE SET opened = round_tally.opened + excluded.opened, sent = round_tally.sent + excluded.sent, sent_urgent = round_tally.sent_urgent + excluded.sent_urgent, answered_plain = round_tally.answered_plain + excluded.answered_plain, resent = round_tally.resent + excluded.resent, alerted = round_tally.alerted + excluded.alerted, alerted_urgent = round_tally.alerted_urgent + excluded.alerted_urgent, urgent = round_tally.urgent + excluded.urgent, oks = round_tally.oks + excluded.oks, state_answered = round_tally.state_answered + excluded.state_answered, state_cancelled = round_tally.state_cancelled + excluded.state_cancelled;
        INSERT INTO round_events_tally (bucket, shard, sent)
    SELECT substr(NEW.sent_at, 1, 13), pg_backend_pid() % 16, 1 WHERE NEW.state IN ('answered', 'cancelled') AND NEW.sent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET sent = round_events_tally.sent + excluded.sent;
        INSERT INTO round_events_tally (bucket, shard, oks)
    SELECT substr(NEW.closed_at, 1, 13), pg_backend_pid() % 16, 1 WHERE NEW.state IN ('answered', 'cancelled') AND NEW.state = 'answered' AND COALESCE(NEW.close_reason, '') != 'confirmed' AND NEW.closed_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET oks = round_events_tally.oks + excluded.oks;
        INSERT INTO round_events_tally (bucket, shard, resent)
    SELECT substr(NEW.resent_at, 1, 13), pg_backend_pid() % 16, 1 WHERE NEW.state IN ('answered', 'cancelled') AND NEW.resent_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET resent = round_events_tally.resent + excluded.resent;
        INSERT INTO round_events_tally (bucket, shard, alerted)
    SELECT substr(NEW.alerted_at, 1, 13), pg_backend_pid() % 16, 1 WHERE NEW.state IN ('answered', 'cancelled') AND NEW.alerted_at IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET alerted = round_events_tally.alerted + excluded.alerted;
        INSERT INTO round_ok_minutes (bucket, minutes, shard, rounds)
    SELECT substr(NEW.slot_at, 1, 13), CAST(round(extract(epoch FROM (NEW.closed_at::timestamptz - NEW.sent_at::timestamptz)) / 60) AS INTEGER), pg_backend_pid() % 16, 1 WHERE NEW.state = 'answered' AND COALESCE(NEW.close_reason, '') != 'confirmed' AND NEW.sent_at IS NOT NULL AND NEW.closed_at IS NOT NULL
    ON CONFLICT (bucket, minutes, shard) DO UPDATE SET rounds = round_ok_minutes.rounds + excluded.rounds;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER round_tally_counted AFTER INSERT OR UPDATE ON checkin_rounds
    FOR EACH ROW EXECUTE FUNCTION round_tally_count();

-- The alerts of a period (the overview's, the report's): a few in a thousand rounds.
CREATE INDEX checkin_rounds_alerted ON checkin_rounds (alerted_at) WHERE alerted_at IS NOT NULL;
CREATE INDEX checkin_rounds_alert_closed ON checkin_rounds (closed_at)
    WHERE state = 'answered' AND alerted_at IS NOT NULL;

-- What LINE counts against the month (a multicast per recipient, a push as one), kept as
-- outbox rows are sent: /metrics read every sent row of the month at each scrape.
CREATE TABLE line_messages_tally (
    bucket TEXT NOT NULL,                            -- the hour LINE accepted them, in UTC
    shard INTEGER NOT NULL,
    messages BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, shard)
);
INSERT INTO line_messages_tally (bucket, shard, messages)
    SELECT substr(o.sent_at, 1, 13), 0, SUM(CASE o.kind WHEN 'multicast' THEN json_array_length(o.recipients::json) WHEN 'push' THEN 1 ELSE 0 END) FROM outbox o
    WHERE o.state = 'sent' AND o.channel = 'line' AND o.sent_at IS NOT NULL GROUP BY substr(o.sent_at, 1, 13);
-- /metrics' pending and failed counts, from the rows in those states alone.
CREATE INDEX outbox_failed ON outbox (id) WHERE state = 'failed';
CREATE FUNCTION line_messages_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NOT (OLD.state IS DISTINCT FROM NEW.state OR OLD.sent_at IS DISTINCT FROM NEW.sent_at OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.recipients IS DISTINCT FROM NEW.recipients) THEN
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
CREATE TRIGGER line_messages_counted AFTER INSERT OR UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION line_messages_count();

-- The console's counts of people (LINE's friends, those watched by phone alone, with check-ins,
-- who blocked the account), kept as members change: a million residents are three million rows
-- with their families, seconds to count at each view. Only these columns move them: the wave's
-- next check-in and an OK's moment do not.
CREATE TABLE member_tally (
    shard INTEGER PRIMARY KEY,
    friends BIGINT NOT NULL DEFAULT 0,
    phone_only BIGINT NOT NULL DEFAULT 0,
    users BIGINT NOT NULL DEFAULT 0,
    blocked BIGINT NOT NULL DEFAULT 0
);
INSERT INTO member_tally (shard, friends, phone_only, users, blocked)
    SELECT 0, COALESCE(SUM(CASE WHEN m.status = 'active' AND m.withdrawn_at IS NULL AND substr(m.line_user_id, 1, 4) != 'tel:' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN m.status = 'active' AND m.withdrawn_at IS NULL AND substr(m.line_user_id, 1, 4) = 'tel:' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN m.status = 'active' AND m.interval_days IS NOT NULL THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN m.status != 'active' AND m.withdrawn_at IS NULL THEN 1 ELSE 0 END), 0) FROM members m;
CREATE FUNCTION member_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO member_tally (shard, friends, phone_only, users, blocked)
        VALUES (pg_backend_pid() % 16, CASE WHEN NEW.status = 'active' AND NEW.withdrawn_at IS NULL AND substr(NEW.line_user_id, 1, 4) != 'tel:' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'active' AND NEW.withdrawn_at IS NULL AND substr(NEW.line_user_id, 1, 4) = 'tel:' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'active' AND NEW.interval_days IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.status != 'active' AND NEW.withdrawn_at IS NULL THEN 1 ELSE 0 END)
        ON CONFLICT (shard) DO UPDATE SET friends = member_tally.friends + excluded.friends, phone_only = member_tally.phone_only + excluded.phone_only, users = member_tally.users + excluded.users, blocked = member_tally.blocked + excluded.blocked;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO member_tally (shard, friends, phone_only, users, blocked)
        VALUES (pg_backend_pid() % 16, -CASE WHEN OLD.status = 'active' AND OLD.withdrawn_at IS NULL AND substr(OLD.line_user_id, 1, 4) != 'tel:' THEN 1 ELSE 0 END, -CASE WHEN OLD.status = 'active' AND OLD.withdrawn_at IS NULL AND substr(OLD.line_user_id, 1, 4) = 'tel:' THEN 1 ELSE 0 END, -CASE WHEN OLD.status = 'active' AND OLD.interval_days IS NOT NULL THEN 1 ELSE 0 END, -CASE WHEN OLD.status != 'active' AND OLD.withdrawn_at IS NULL THEN 1 ELSE 0 END)
        ON CONFLICT (shard) DO UPDATE SET friends = member_tally.friends + excluded.friends, phone_only = member_tally.phone_only + excluded.phone_only, users = member_tally.users + excluded.users, blocked = member_tally.blocked + excluded.blocked;
    ELSIF OLD.status IS DISTINCT FROM NEW.status OR OLD.withdrawn_at IS DISTINCT FROM NEW.withdrawn_at OR OLD.line_user_id IS DISTINCT FROM NEW.line_user_id OR OLD.interval_days IS DISTINCT FROM NEW.interval_days THEN
        INSERT INTO member_tally (shard, friends, phone_only, users, blocked)
        VALUES (pg_backend_pid() % 16, CASE WHEN NEW.status = 'active' AND NEW.withdrawn_at IS NULL AND substr(NEW.line_user_id, 1, 4) != 'tel:' THEN 1 ELSE 0 END - CASE WHEN OLD.status = 'active' AND OLD.withdrawn_at IS NULL AND substr(OLD.line_user_id, 1, 4) != 'tel:' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'active' AND NEW.withdrawn_at IS NULL AND substr(NEW.line_user_id, 1, 4) = 'tel:' THEN 1 ELSE 0 END - CASE WHEN OLD.status = 'active' AND OLD.withdrawn_at IS NULL AND substr(OLD.line_user_id, 1, 4) = 'tel:' THEN 1 ELSE 0 END, CASE WHEN NEW.status = 'active' AND NEW.interval_days IS NOT NULL THEN 1 ELSE 0 END - CASE WHEN OLD.status = 'active' AND OLD.interval_days IS NOT NULL THEN 1 ELSE 0 END, CASE WHEN NEW.status != 'active' AND NEW.withdrawn_at IS NULL THEN 1 ELSE 0 END - CASE WHEN OLD.status != 'active' AND OLD.withdrawn_at IS NULL THEN 1 ELSE 0 END)
        ON CONFLICT (shard) DO UPDATE SET friends = member_tally.friends + excluded.friends, phone_only = member_tally.phone_only + excluded.phone_only, users = member_tally.users + excluded.users, blocked = member_tally.blocked + excluded.blocked;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER member_tally_counted AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH ROW EXECUTE FUNCTION member_tally_count();

-- Her calls (わたしの記録 reads them by her id): the voice channel's rows only.
CREATE INDEX outbox_called ON outbox (recipient_member_id) WHERE channel = 'voice';
