"""The reference health-code platform: the verification API over a SQLite or PostgreSQL store."""
