"""Sync tests: fixtures come from tests/conftest.py (real PostgreSQL, live server)."""
