"""A stable identifier for this installed desktop, sent with every request (not a secret)."""

import logging
import uuid
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)


def client_id_path() -> Path:
    """Where the identifier of this installation is kept."""
    return Path(platformdirs.user_data_dir("hms", appauthor=False)) / "client_id"


def load_or_create_client_id() -> str:
    """Read this installation's id, creating and saving a new UUID on first use."""
    path = client_id_path()
    try:
        text = path.read_text(encoding="utf-8").strip()
        return str(uuid.UUID(text))
    except (OSError, ValueError):
        pass
    new_id = str(uuid.uuid4())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_id + "\n", encoding="utf-8")
    except OSError:
        log.warning("could not save the client id to %s; using a temporary one", path)
    return new_id
