"""Attached files of orders (a study's images, DICOM files, scanned reports): uploaded by the
lab or imaging, kept by the server, shown in the chart with a thumbnail.

An upload is the file itself as the request body, its type in `Content-Type`, and the order
and file name as query parameters (`id` makes a retried upload land on the same row). The
first bytes must show the declared type: a text file named .png is refused. The row
(`attachment`) syncs to desktops in the "orders" scope; the bytes stay on the server and are
fetched through `/content` or `/thumbnail`. Every upload and every view is audited.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, StringConstraints
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hms_core.db.base import new_id
from hms_core.db.clinical import Attachment, ClinicalOrder
from hms_core.rbac import Perm
from hms_core.schemas.errors import ErrorResponse
from hms_core.services.actor import Actor
from hms_core.services.audit import record_audit
from hms_core.services.clinical import get_row
from hms_core.services.clinical.orders import refuse_cancelled
from hms_core.services.errors import Conflict, InvalidData, NotFound
from hms_server.api.deps import Caller, UnitOfWork, require, require_any
from hms_server.api.errors import ApiError
from hms_server.attachments_store import (
    CONTENT_TYPES,
    NAMES,
    AttachmentStore,
    NoThumbnail,
    sniff,
)
from hms_server.settings import Settings

router = APIRouter(prefix="/api/attachments", tags=["attachments"])
MAX_BYTES = 50_000_000  # 50 MB: a CT series is uploaded image by image
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    415: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_ALIASES = {"image/jpg": "image/jpeg", "application/dicom+octet-stream": "application/dicom"}

LabWork = Annotated[Caller, Depends(require(Perm.LAB_WORK))]
Viewer = Annotated[Caller, Depends(require_any(Perm.ORDER_READ, Perm.CHART_READ))]
FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class AttachmentOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    order_id: uuid.UUID | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    description: str
    row_version: int


def store_for(settings: Settings) -> AttachmentStore:
    """The attachment files of this server: `<data_dir>/attachments`."""
    return AttachmentStore(settings.data_dir / "attachments")


@router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses=_ERRORS,
    summary="Upload a file (PNG, JPEG, DICOM or PDF, at most 50 MB) to an order",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file itself; its first bytes must show the declared type.",
            "content": dict.fromkeys(CONTENT_TYPES, _BINARY),
        }
    },
)
async def upload(
    request: Request,
    caller: LabWork,
    session: UnitOfWork,
    order_id: Annotated[uuid.UUID, Query()],
    file_name: Annotated[FileName, Query()],
    description: Annotated[Description, Query()] = "",
    id: Annotated[uuid.UUID | None, Query()] = None,  # noqa: A002 - the row's id, for retries
) -> Attachment:
    data = await _body(request)
    content_type = _checked_type(request.headers.get("content-type", ""), data)
    upload = _Upload(id or new_id(), order_id, file_name, description, content_type, data)
    store = store_for(request.app.state.settings)
    return await run_in_threadpool(_record, session, caller.actor, upload, store)


@router.get(
    "/{attachment_id}",
    response_model=AttachmentOut,
    responses=_ERRORS,
    summary="What an attached file is",
)
def describe(attachment_id: uuid.UUID, caller: Viewer, session: UnitOfWork) -> Attachment:
    return _viewed(session, caller.actor, attachment_id, "attachment.describe")


@router.get(
    "/{attachment_id}/content",
    responses={**_ERRORS, 200: {"content": dict.fromkeys(CONTENT_TYPES, _BINARY)}},
    response_class=Response,
    summary="The attached file itself",
)
def content(
    request: Request, attachment_id: uuid.UUID, caller: Viewer, session: UnitOfWork
) -> Response:
    row = _viewed(session, caller.actor, attachment_id, "attachment.view")
    data = store_for(request.app.state.settings).read(row.sha256)
    disposition = f"inline; filename*=UTF-8''{quote(row.file_name, safe='')}"
    return Response(data, media_type=row.content_type, headers={"Content-Disposition": disposition})


@router.get(
    "/{attachment_id}/thumbnail",
    responses={**_ERRORS, 200: {"content": {"image/png": _BINARY}}},
    response_class=Response,
    summary="A PNG of the picture, at most 256 px on its longer side",
)
def thumbnail(
    request: Request, attachment_id: uuid.UUID, caller: Viewer, session: UnitOfWork
) -> Response:
    row = _viewed(session, caller.actor, attachment_id, "attachment.thumbnail")
    store = store_for(request.app.state.settings)
    try:
        png = store.thumbnail(row.sha256, row.content_type)
    except NoThumbnail as exc:
        raise ApiError(404, "no_thumbnail", str(exc)) from exc
    return Response(png, media_type="image/png")


async def _body(request: Request) -> bytes:
    """The uploaded bytes, refused with 413 past MAX_BYTES (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise _too_large()
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BYTES:
            raise _too_large()
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise InvalidData("The file is empty.", fields={"body": "Empty"})
    return data


def _too_large() -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"The file is larger than the {MAX_BYTES // 1_000_000} MB allowed. "
        "Upload the images of a series one by one.",
        detail={"max_bytes": MAX_BYTES},
    )


def _checked_type(declared: str, data: bytes) -> str:
    """The file's type from its first bytes; refused when it is none of ours or not what the
    sender declared."""
    declared = declared.split(";")[0].strip().lower()
    declared = _ALIASES.get(declared, declared)
    found = sniff(data)
    if found is None:
        raise ApiError(
            415,
            "unsupported_file",
            "This file is not a PNG or JPEG image, a DICOM file or a PDF document.",
            detail={"declared": declared},
        )
    if declared not in ("", "application/octet-stream") and declared != found:
        what = NAMES.get(declared, declared)
        raise ApiError(
            415,
            "unsupported_file",
            f"This file is not {what}: its contents are {NAMES[found]}.",
            detail={"declared": declared, "found": found},
        )
    return found


@dataclass(frozen=True)
class _Upload:
    id: uuid.UUID
    order_id: uuid.UUID
    file_name: str
    description: str
    content_type: str
    data: bytes


def _record(session: Session, actor: Actor, upload: _Upload, store: AttachmentStore) -> Attachment:
    """Keep the file and add its row, audited with the order's patient (a retry with the same
    id and the same file returns the row it made)."""
    digest = hashlib.sha256(upload.data).hexdigest()
    existing = session.get(Attachment, upload.id)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(
                "Another file was already uploaded under this id.", fields={"id": "Used"}
            )
        return existing
    order = get_row(
        session, ClinicalOrder, upload.order_id, "This order does not exist.", "order_id"
    )
    refuse_cancelled(order)
    store.put(upload.data)
    row = Attachment(
        id=upload.id,
        patient_id=order.patient_id,
        order_id=order.id,
        file_name=upload.file_name,
        content_type=upload.content_type,
        size=len(upload.data),
        sha256=digest,
        uploaded_by=actor.username,
        uploaded_at=datetime.now(UTC),
        description=upload.description,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor,
        "attachment.upload",
        patient_id=order.patient_id,
        detail={
            "attachment_id": str(row.id),
            "order_id": str(order.id),
            "content_type": row.content_type,
            "size": row.size,
        },
    )
    return row


def _viewed(session: Session, actor: Actor, attachment_id: uuid.UUID, action: str) -> Attachment:
    """The attachment, with an audit event of who looked at it."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("This file does not exist.", fields={"attachment_id": "Unknown"})
    record_audit(
        session,
        actor,
        action,
        patient_id=row.patient_id,
        detail={"attachment_id": str(row.id), "order_id": str(row.order_id)},
    )
    return row
