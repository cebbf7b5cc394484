"""The scheduler surface: the sweep over the database (the ladder, the wave, the JMA feed), the
outbox's delivery, and the heartbeat that keeps this instance's claims."""
