-- The console's list of people (issue 42): found by an index of its words, counted only as far
-- as its pages reach, never by reading every member. Searched by a name, ふりがな or a phone
-- number, it read every member with LIKE (2 s at 100,000 residents, 20 at a million).
--
-- A case closed lately (the desk reads her for CASE_KNOWN_FOR after) and the desk queue's
-- closed this week: by when it closed, not every case the city kept.
CREATE INDEX desk_cases_closed ON desk_cases (closed_at) WHERE closed_at IS NOT NULL;
-- The teams the desk watches itself (a few of a city's): their people are the desk's to read.
CREATE INDEX teams_desk_watched ON teams (id) WHERE desk_watched = 1 AND deleted_at IS NULL;
-- Every three characters of each member's LINE name, 氏名, ふりがな and phone numbers (as
-- digits: the search compares digits), so a search of three characters or more reads the few
-- members who have them (SQLite's FTS5 trigram tokenizer; ASCII and other letters folded, so
-- it finds at least whom LIKE finds, and the search's own LIKE then decides, as before).
-- PERSONAL DATA: the index holds what the member row holds and nothing else. Contentless: it
-- keeps no copy of the text; the triggers below change it in the member's own transaction, so
-- what 退会, a deletion or the purge's scrub empties on the member is gone from it too.
CREATE VIRTUAL TABLE people_search USING fts5 (
    display_name, full_name, furigana, phone, channel_address,
    content = '', tokenize = 'trigram case_sensitive 0'
);
INSERT INTO people_search (rowid, display_name, full_name, furigana, phone, channel_address)
    SELECT id, display_name, full_name, furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', '') FROM members;
CREATE TRIGGER people_search_insert AFTER INSERT ON members BEGIN
    INSERT INTO people_search (rowid, display_name, full_name, furigana, phone, channel_address)
        VALUES (new.id, new.display_name, new.full_name, new.furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(new.phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(new.channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''));
END;
CREATE TRIGGER people_search_update
    AFTER UPDATE OF id, display_name, full_name, furigana, phone, channel_address ON members
BEGIN
    INSERT INTO people_search
        (people_search, rowid, display_name, full_name, furigana, phone, channel_address)
        VALUES ('delete', old.id, old.display_name, old.full_name, old.furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(old.phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(old.channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''));
    INSERT INTO people_search (rowid, display_name, full_name, furigana, phone, channel_address)
        VALUES (new.id, new.display_name, new.full_name, new.furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(new.phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(new.channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''));
END;
CREATE TRIGGER people_search_delete AFTER DELETE ON members BEGIN
    INSERT INTO people_search
        (people_search, rowid, display_name, full_name, furigana, phone, channel_address)
        VALUES ('delete', old.id, old.display_name, old.full_name, old.furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(old.phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''), REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(old.channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''));
END;
