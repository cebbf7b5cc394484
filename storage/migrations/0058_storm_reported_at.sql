-- When JMA says a warning document was issued (Head/ReportDateTime): the legacy summary
-- (気象特別警報・警報・注意報) states what is in force, so a level it states is new only if the
-- office's previous summary, by this time, did not state it. NULL for a document not read.
ALTER TABLE storm_reports ADD COLUMN reported_at TEXT;
