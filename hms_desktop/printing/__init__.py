"""PDF documents built with reportlab (not built yet)."""
