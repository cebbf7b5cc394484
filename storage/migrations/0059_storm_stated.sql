-- What a document that states what is in force (the 特別警報 bulletin, the legacy summary) named
-- in the city: each warning (rain:5, surge:5), comma-separated. A bulletin names every special
-- warning still in force, so one it names is new only if the office's previous bulletin did not
-- name that one (another hazard's special warning is new though its level is the same).
ALTER TABLE storm_reports ADD COLUMN stated TEXT;
