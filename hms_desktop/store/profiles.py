"""Where each user's cache lives: one folder per server and user in the desktop's data dir."""

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs


def data_root() -> Path:
    return Path(platformdirs.user_data_dir("hms", appauthor=False))


def profile_dir(server_url: str, username: str, root: Path | None = None) -> Path:
    """A readable, collision-free folder name for (server, user)."""
    host = urlsplit(server_url).netloc or server_url
    digest = hashlib.sha256(f"{server_url}|{username}".encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}-{username}")[:60]
    return (root or data_root()) / "profiles" / f"{readable}-{digest}"
