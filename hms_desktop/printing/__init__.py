"""Printed documents on this PC, without Qt: where PDFs are saved and what they are called.
The PDFs themselves are built in `hms_core.printing` (the server attaches the same receipt to
its email); Qt previews and prints them from `hms_desktop.widgets.pdf_preview`."""
