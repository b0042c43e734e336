"""The hms desktop client: PySide6 workspaces over the hms server's HTTP API."""

__version__ = "0.1.0"
