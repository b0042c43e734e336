"""The local SQLite cache and outbox (not built yet)."""
