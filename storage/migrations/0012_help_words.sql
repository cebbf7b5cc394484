-- Words of distress start the help path: the alert (and its re-send) quotes what the person
-- wrote, so a manager reads 「転んで動けません」, not only that help was asked for.
ALTER TABLE checkin_rounds ADD COLUMN help_words TEXT;
