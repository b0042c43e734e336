"""The lab bench: worklist, specimens, results, validation and imaging reports."""
