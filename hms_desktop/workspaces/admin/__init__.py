"""Administration: the audit log viewer."""
