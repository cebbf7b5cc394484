-- Every send a person or the city starts (テスト送信, roll-calls, notices) is one audit row with
-- what it is counted by (a person, a team) and what it costs: the rate rule counts these rows,
-- so the record and the limit can never disagree.
ALTER TABLE audit_log ADD COLUMN scope TEXT;
ALTER TABLE audit_log ADD COLUMN messages INTEGER;
CREATE INDEX audit_log_scope ON audit_log (action, scope, at);
