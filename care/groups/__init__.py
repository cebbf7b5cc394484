"""つながり: a LINE group of neighbours checking on each other; the group's settings and OKs
(`membership`), and its rounds and non-responder reports (`rounds`)."""
