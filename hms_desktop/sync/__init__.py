"""Talking to the hms server: the HTTP API client and, later, the background sync worker."""
