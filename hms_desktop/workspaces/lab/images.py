"""The images of an imaging study: sent to the server (which keeps them) and their thumbnails
fetched back. Network work: run it off the UI thread."""

import uuid
from dataclasses import dataclass
from pathlib import Path

from hms_core.db.base import new_id
from hms_desktop.sync.api_client import ApiClient
from hms_desktop.widgets.thumbnail_strip import fetch_thumbnail


@dataclass(frozen=True)
class Shown:
    """An attached file as the report form shows it."""

    key: str  # the attachment's id
    name: str
    png: bytes | None  # None: the server has no picture of it (a PDF)


def upload(api: ApiClient, order_id: uuid.UUID, paths: list[str]) -> list[Shown]:
    """Send each file (PNG, JPEG or DICOM) to the order, with its thumbnail back."""
    shown = []
    for path in map(Path, paths):
        sent = api.upload_attachment(order_id, path.name, path.read_bytes(), attachment_id=new_id())
        shown.append(Shown(str(sent["id"]), path.name, thumbnail(api, sent["id"])))
    return shown


def thumbnail(api: ApiClient, attachment_id: uuid.UUID | str) -> bytes | None:
    """The server's thumbnail of an attachment, or None when it cannot draw one."""
    return fetch_thumbnail(api, attachment_id)
