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
-- digits: the search compares digits), as pg_trgm's GIN indexes over the very expressions the
-- search's LIKE reads, so a search of three characters or more reads the few members who have
-- them. pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
-- PERSONAL DATA: indexes of the member row's own columns, emptied with them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX members_search_name ON members USING gin (LOWER(display_name) gin_trgm_ops);
CREATE INDEX members_search_full_name ON members USING gin (full_name gin_trgm_ops);
CREATE INDEX members_search_furigana ON members USING gin (furigana gin_trgm_ops);
CREATE INDEX members_search_phone ON members USING gin (
    (REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, '-', ''), ' ', ''), '+', ''), '(', ''), ')', '')) gin_trgm_ops
);
CREATE INDEX members_search_channel ON members USING gin (
    (REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(COALESCE(channel_address, ''), '-', ''), ' ', ''), '+', ''), '(', ''), ')', '')) gin_trgm_ops
);
