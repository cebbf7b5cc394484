"""A check-in from due to closed: the safety protocol (`protocol`, a pure table) and the one
function that carries its decisions out (`carry`), the ladder's waits (`ladder`, `due`), the
rounds themselves (`checkins`, `status`), answers, alerts, calls before the alert and their
numbers, devices' signs of life, and who is told (`notify`, `alone`, `reassurance`)."""
