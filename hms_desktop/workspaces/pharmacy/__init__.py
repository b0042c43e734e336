"""The pharmacy: the queue of electronic prescriptions, allergies and overrides in view."""
