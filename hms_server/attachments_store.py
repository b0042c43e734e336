"""Where the server keeps attached files (study images, DICOM files, scanned PDFs): under the
data directory, in `attachments/<sha256>`, one file per content, written atomically. Thumbnails
(PNG, at most 256 px on the longer side) are made on first request and kept beside them in
`attachments/thumbnails/<sha256>.png`.

What a file is comes from its first bytes, never from what the sender says it is.
"""

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

PNG, JPEG, DICOM, PDF = "image/png", "image/jpeg", "application/dicom", "application/pdf"
CONTENT_TYPES = (PNG, JPEG, DICOM, PDF)
NAMES = {PNG: "a PNG image", JPEG: "a JPEG image", DICOM: "a DICOM file", PDF: "a PDF document"}
THUMBNAIL_SIZE = 256
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class NoThumbnail(ValueError):
    """This file has no picture that can be shown small (a PDF, or pixels we cannot read)."""


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show, or None when they are none of ours."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"%PDF-"):
        return PDF
    if len(data) >= 132 and data[128:132] == b"DICM":  # a 128-byte preamble, then "DICM"
        return DICOM
    return None


class AttachmentStore:
    """Files by content (their SHA-256) under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        """Keep the bytes (once per content) and return their SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            _write_atomically(target, data)
        return digest

    def path(self, digest: str) -> Path:
        if not _SHA256.match(digest):
            raise ValueError(f"not a SHA-256: {digest!r}")
        return self.root / digest

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def thumbnail(self, digest: str, content_type: str) -> bytes:
        """A PNG of the picture, at most 256 px on its longer side (made once, then kept)."""
        cached = self.root / "thumbnails" / f"{self.path(digest).name}.png"
        if cached.exists():
            return cached.read_bytes()
        png = make_thumbnail(self.read(digest), content_type)
        _write_atomically(cached, png)
        return png


def make_thumbnail(data: bytes, content_type: str) -> bytes:
    """The picture of a PNG, JPEG or DICOM file as a small PNG."""
    if content_type == DICOM:
        image = _dicom_image(data)
    elif content_type in (PNG, JPEG):
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise NoThumbnail("The image cannot be read.") from exc
    else:
        raise NoThumbnail(f"There is no picture to show for {NAMES.get(content_type, 'it')}.")
    if image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _dicom_image(data: bytes) -> Image.Image:
    """The first frame of a DICOM file, windowed to 8-bit grey (or its colour pixels)."""
    import pydicom  # imported on first use: only DICOM thumbnails need it
    from pydicom.pixels import apply_modality_lut

    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
        pixels = dataset.pixel_array
    except Exception as exc:  # pydicom raises many kinds for unreadable or compressed pixels
        raise NoThumbnail("The DICOM file's pixels cannot be read.") from exc
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    if frames > 1:
        pixels = pixels[0]
    if int(getattr(dataset, "SamplesPerPixel", 1)) == 3:
        rgb = pixels if pixels.dtype == np.uint8 else _to_8bit(pixels, None, None)
        return Image.fromarray(rgb, "RGB")
    values = apply_modality_lut(pixels, dataset).astype(np.float64)
    grey = _to_8bit(values, _first(dataset, "WindowCenter"), _first(dataset, "WindowWidth"))
    if getattr(dataset, "PhotometricInterpretation", "") == "MONOCHROME1":
        grey = 255 - grey  # MONOCHROME1: low values are white
    return Image.fromarray(grey.astype(np.uint8), "L")


def _to_8bit(values: np.ndarray, center: float | None, width: float | None) -> np.ndarray:
    """Map values to 0..255 through the window (center, width), or their full range."""
    values = values.astype(np.float64)
    if center is not None and width is not None and width > 1:
        low, high = center - width / 2, center + width / 2
    else:
        low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (np.clip(values, low, high) - low) / (high - low) * 255.0
    return np.rint(scaled).astype(np.uint8)


def _first(dataset: object, keyword: str) -> float | None:
    """A DICOM number that may be multi-valued: its first value."""
    value = getattr(dataset, keyword, None)
    if value is None:
        return None
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError, IndexError):
        return None


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
