-- PostgreSQL's twin of ../0006_answers.sql.
-- More than OK: how the person answered, who took an alert, who found them safe; the note a
-- responder needs (緊急時メモ); what each member of a group answered.
ALTER TABLE checkin_rounds ADD COLUMN answer TEXT;          -- ok, unwell, help (NULL: a message)
ALTER TABLE checkin_rounds ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;  -- 助けてほしい
ALTER TABLE checkin_rounds ADD COLUMN claimed_by INTEGER REFERENCES members (id);  -- 対応します
ALTER TABLE checkin_rounds ADD COLUMN claimed_at TEXT;
ALTER TABLE checkin_rounds ADD COLUMN confirmed_by INTEGER REFERENCES members (id);  -- 無事を確認
ALTER TABLE checkin_rounds ADD COLUMN realerted_at TEXT;    -- nobody took it: sent again
CREATE INDEX checkin_rounds_unclaimed ON checkin_rounds (alerted_at)
    WHERE state = 'alerted' AND claimed_by IS NULL AND realerted_at IS NULL;

ALTER TABLE members ADD COLUMN emergency_memo TEXT NOT NULL DEFAULT '';

ALTER TABLE group_answers ADD COLUMN answer TEXT NOT NULL DEFAULT 'ok';

-- Quiet reassurance: a manager who asked for it gets one note a day about everyone they watch.
ALTER TABLE members ADD COLUMN daily_note INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN daily_note_sent_on TEXT;     -- the local date of the last note
