"""The conflict inbox: versions sync could not reconcile, for a person to resolve."""
