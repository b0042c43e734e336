"""Doctors' hours: weekly availability, leave and extra sessions (administrators)."""
