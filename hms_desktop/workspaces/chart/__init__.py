"""A patient's chart: the whole clinical record on one screen (read from the desk cache)."""
