"""The hms central server: FastAPI over PostgreSQL."""
