-- A device that answers her check-ins (counts_as_ok) and has sent no sign of life for
-- MIMAMORI_DEVICE_QUIET_AFTER: when she and her managers were told it went quiet. Told once;
-- its next ping clears it, so that going quiet again is told again.
ALTER TABLE devices ADD COLUMN quiet_told_at TEXT;
CREATE INDEX devices_answering ON devices (member_id) WHERE counts_as_ok = 1 AND revoked_at IS NULL;
