"""Where printed documents are saved on this PC and the names they are saved under (no Qt)."""

import re
from pathlib import Path

import platformdirs

# Characters Windows, macOS or Linux refuse (or treat specially) in a file name, and controls.
UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
MAX_STEM = 120  # leaves room for a folder path within the 255-byte limit of most file systems
KINDS = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "receipt": "Receipt",
    "claim": "Claim",
}


def safe_file_name(stem: str, suffix: str = ".pdf") -> str:
    """`stem` with unsafe characters replaced by "-", spaces tidied, then `suffix`."""
    cleaned = UNSAFE.sub("-", stem)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .-")  # Windows drops trailing dots and spaces
    return (cleaned[:MAX_STEM].rstrip(" .-") or "document") + suffix


def default_pdf_name(kind: str, number: str | None, patient_mrn: str) -> str:
    """The name a document is saved under, e.g. "Invoice INV-2026-000012 MRN 1000008.pdf".

    `kind` is "invoice", "credit_note", "receipt" or "claim" (other words are used as given);
    an invoice finalised offline has no number yet and says "(number pending)".
    """
    label = KINDS.get(kind, kind.replace("_", " ").strip().capitalize() or "Document")
    number_part = number.strip() if number and number.strip() else "(number pending)"
    mrn_part = f" MRN {patient_mrn.strip()}" if patient_mrn.strip() else ""
    return safe_file_name(f"{label} {number_part}{mrn_part}")


def documents_dir() -> Path:
    """The folder PDFs are saved in by default: "hms" in the user's Documents folder."""
    return Path(platformdirs.user_documents_dir()) / "hms"
