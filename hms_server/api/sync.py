"""The sync endpoints (protocol in hms_core.sync.protocol)."""

import time
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from hms_core.rbac import Perm
from hms_core.schemas.errors import ErrorResponse
from hms_core.services.audit import record_audit
from hms_core.sync.protocol import (
    MAX_PULL_LIMIT,
    MAX_PULL_WAIT_SECONDS,
    PullResponse,
    PushRequest,
    PushResponse,
)
from hms_server import sync_service
from hms_server.api.deps import Caller, UnitOfWork, get_db, get_feed, require
from hms_server.api.errors import ApiError
from hms_server.db import Database
from hms_server.live import ChangeFeed

router = APIRouter(prefix="/sync", tags=["sync"])
Syncer = Annotated[Caller, Depends(require(Perm.SYNC))]
ClientHeader = Annotated[str, Header(alias="X-HMS-Client", min_length=1, max_length=64)]


class MrnBlock(BaseModel):
    start: int
    stop: int


@router.post("/push", response_model=PushResponse)
def push(
    caller: Syncer, db: Annotated[Database, Depends(get_db)], body: PushRequest
) -> PushResponse:
    """Apply a batch of mutations in order, exactly once each."""
    return sync_service.push(db, replace(caller.actor, client_id=body.client_id), body)


@router.get(
    "/pull",
    response_model=PullResponse,
    responses={410: {"model": ErrorResponse, "description": "Too old: take a snapshot."}},
)
async def pull(
    request: Request,
    caller: Syncer,
    db: Annotated[Database, Depends(get_db)],
    feed: Annotated[ChangeFeed, Depends(get_feed)],
    client_id: ClientHeader,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 1000,
    wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT_SECONDS)] = 0,
) -> PullResponse:
    """Changed rows in this client's scope after `after`, in commit order.

    With `wait`, an empty page is held until a change commits or `wait` seconds pass.
    """
    deadline = time.monotonic() + wait
    while True:
        page = await run_in_threadpool(_pull_page, db, caller, client_id, after, limit)
        if page.changes or not await _until_change(request, feed, page.last_seq, deadline):
            return page


async def _until_change(request: Request, feed: ChangeFeed, seq: int, deadline: float) -> bool:
    """Wait for a change after `seq`: True when one committed, False at the deadline or when
    the client went away (checked every second, so stopping the server is not held up)."""
    while (left := deadline - time.monotonic()) > 0:
        if feed.closing or await request.is_disconnected():
            return False
        if await feed.wait_beyond(seq, min(left, 1.0)) and not feed.closing:
            return True
    return False


def _pull_page(
    db: Database, caller: Caller, client_id: str, after: int, limit: int
) -> PullResponse:
    with db.unit_of_work() as session:
        try:
            page = sync_service.pull(session, caller.actor, client_id, after, limit)
        except sync_service.ChangesCompacted:
            raise ApiError(
                410, "snapshot_required", "This copy is too old to update; a fresh copy is needed."
            ) from None
        if page.changes:
            record_audit(session, caller.actor, "sync.pull", detail={"rows": len(page.changes)})
    return page


@router.get(
    "/snapshot",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def snapshot(caller: Syncer, db: Annotated[Database, Depends(get_db)]) -> StreamingResponse:
    """Everything in this client's scope as of one moment, as JSON lines."""
    with db.unit_of_work() as session:
        record_audit(session, caller.actor, "sync.snapshot")
    return StreamingResponse(
        sync_service.snapshot_lines(db, caller.actor), media_type="application/x-ndjson"
    )


@router.post("/mrn-block", response_model=MrnBlock)
def mrn_block(caller: Syncer, session: UnitOfWork, client_id: ClientHeader) -> MrnBlock:
    """Lease a block of MRN serials so patients registered offline keep their number."""
    start, stop = sync_service.lease_mrn_block(session, caller.actor, client_id)
    record_audit(session, caller.actor, "sync.mrn_block", detail={"start": start, "stop": stop})
    return MrnBlock(start=start, stop=stop)
