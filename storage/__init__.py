"""The database: the engine (SQLite or PostgreSQL), migrations, and one repository per table
family, used inside a unit of work."""
