-- A person may take a manager off watching them (見守り, not 監視), from the chat or My page.
-- In a 社協 team of hundreds that cannot mean removing the manager from the team: the pair is
-- recorded, and that manager no longer watches that person, in any team they share.
CREATE TABLE unwatched (
    user_id INTEGER NOT NULL REFERENCES members (id),
    manager_id INTEGER NOT NULL REFERENCES members (id),
    at TEXT NOT NULL,
    PRIMARY KEY (user_id, manager_id)
);
