"""Reusable widgets: login, navigation rail, patient search, status bar, forms and tables."""
