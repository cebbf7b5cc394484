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
-- digits: the search compares digits), as pg_trgm's GIN indexes over a table of their own,
-- people_search, holding those columns as the search's LIKE reads them (the LINE name
-- lowercased, the numbers as digits), so a search of three characters or more reads the few
-- members who have them. Not indexes over the members' own columns: PostgreSQL writes a new
-- version of a row at each change and, unless no indexed column changed, every index of the
-- table takes an entry for it; the 07:00 wave moves 333,000 next check-ins, and five trigram
-- indexes on members doubled what moving them cost (1.3-1.6 s against 0.7-0.9 s for 50,000).
-- The trigger changes people_search only when a searched column changes.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
-- PERSONAL DATA: copies of the member row's own columns, changed in her row's transaction
-- (退会's and the purge's scrubs change them here too) and deleted with it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE people_search (
    id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    full_name TEXT,
    furigana TEXT,
    phone TEXT,
    channel_address TEXT NOT NULL
);
CREATE FUNCTION people_search_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO people_search (id, display_name, full_name, furigana, phone, channel_address)
    VALUES (NEW.id, LOWER(NEW.display_name), NEW.full_name, NEW.furigana,
            REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(NEW.phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''),
            REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(NEW.channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''))
    ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
        full_name = EXCLUDED.full_name, furigana = EXCLUDED.furigana, phone = EXCLUDED.phone,
        channel_address = EXCLUDED.channel_address;
    RETURN NULL;
END
$$;
CREATE TRIGGER people_search_kept
    AFTER INSERT OR UPDATE OF display_name, full_name, furigana, phone, channel_address
    ON members FOR EACH ROW EXECUTE FUNCTION people_search_kept();
INSERT INTO people_search (id, display_name, full_name, furigana, phone, channel_address)
    SELECT id, LOWER(display_name), full_name, furigana, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', ''),
        REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', '') FROM members;
CREATE INDEX people_search_name ON people_search USING gin (display_name gin_trgm_ops);
CREATE INDEX people_search_full_name ON people_search USING gin (full_name gin_trgm_ops);
CREATE INDEX people_search_furigana ON people_search USING gin (furigana gin_trgm_ops);
CREATE INDEX people_search_phone ON people_search USING gin (phone gin_trgm_ops);
CREATE INDEX people_search_channel ON people_search USING gin (channel_address gin_trgm_ops);
