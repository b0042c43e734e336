"""The doctor's clinic: the day's appointments, confirming requests, visits and follow-ups."""
