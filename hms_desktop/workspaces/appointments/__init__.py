"""Reception's appointments: booking, the day's list, check-in, waiting room and follow-ups."""
