-- When the person's current letter code was last put on a letter to print (the console's
-- letter page, or its pages of letters): a code made by the import and never printed is no
-- letter in her hands, and the pages of letters print one for her (care/roster/letters.py).
ALTER TABLE roster_people ADD COLUMN letter_printed_at TEXT;
