-- PostgreSQL's twin of ../0009_consent.sql.
-- A new manager sees a user's optional personal fields (氏名, 電話番号, 生年月日...) only once
-- the user has agreed with one tap: consent is what separates 見守り from 監視. Pairs that
-- already watch each other keep what they saw.
CREATE TABLE personal_shares (
    user_id INTEGER NOT NULL REFERENCES members (id),
    manager_id INTEGER NOT NULL REFERENCES members (id),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, manager_id)
);
INSERT INTO personal_shares (user_id, manager_id, granted_at)
    SELECT u.member_id, m.member_id, GREATEST(u.joined_at, m.joined_at)
    FROM team_members u
    JOIN team_members m ON m.team_id = u.team_id AND m.role = 'manager'
    WHERE u.role = 'user' AND u.member_id != m.member_id
    ON CONFLICT DO NOTHING;
