"""Pydantic models: the HTTP and sync wire contract."""
