"""The FastAPI application factory."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute

from hms_core import SCHEMA_VERSION
from hms_server.api import (
    attachments,
    audit,
    auth,
    billing,
    health,
    hospital,
    live,
    live_monitor,
    monitoring,
    notifications,
    patients,
    scheduling,
    sync,
)
from hms_server.api.errors import install
from hms_server.db import Database
from hms_server.limits import BodySizeLimit
from hms_server.live import ChangeFeed
from hms_server.monitoring.alarm_service import AlarmService
from hms_server.monitoring.mllp import Gateway
from hms_server.monitoring.scoring import Scorer
from hms_server.notify.dispatcher import NotificationWorker
from hms_server.settings import Settings


def route_permission(route: APIRoute) -> str | None:
    """The permission a route requires: from its `require()` dependency or its openapi_extra."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        permission = getattr(dependency.call, "permission", None)
        if permission is not None:
            return str(permission)
        pending.extend(dependency.dependencies)
    return (route.openapi_extra or {}).get("x-permission")


def _start_gateway(app: FastAPI) -> "Gateway | None":
    """The HL7/MLLP gateway, with the processors and tickers set on app.state (if any)."""
    settings = app.state.settings
    if settings.mllp_port is None:
        return None
    gateway = Gateway(
        app.state.db,
        settings.mllp_host,
        settings.mllp_port,
        processors=getattr(app.state, "monitor_processors", ()),
        tickers=getattr(app.state, "monitor_tickers", ()),
    )
    app.state.gateway = gateway.start()
    return gateway


@asynccontextmanager
async def _background_work(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, a worker queues reminders and delivers patient messages, and
    the bedside monitor gateway listens when HMS_MLLP_PORT is set."""
    thread, stop = NotificationWorker(app.state.db, app.state.settings).start()
    gateway = None
    try:
        gateway = _start_gateway(app)
        yield
    finally:
        if gateway is not None:
            await asyncio.to_thread(gateway.stop)
        stop.set()
        if (hub := getattr(app.state, "live_hub", None)) is not None:
            hub.close()
        thread.join(timeout=30)


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(
        lifespan=_background_work,
        title="hms server",
        version="0.1.0",
        description="Hospital management system API. Every operation names the permission it "
        "needs in `x-permission` ('public' needs none; 'authenticated' needs a valid token).",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.feed = ChangeFeed(db.engine.url.render_as_string(hide_password=False))
    install(app)
    alarms, scorer = AlarmService(), Scorer()
    app.state.monitor_processors = [alarms.observe, scorer.observe]
    app.state.monitor_tickers = [alarms.tick]
    routers = (
        health,
        auth,
        patients,
        audit,
        hospital,
        scheduling,
        sync,
        live,
        notifications,
        billing,
        attachments,
    )
    for module in (*routers, monitoring, live_monitor):
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                extra = route.openapi_extra or {}
                route.openapi_extra = {**extra, "x-permission": route_permission(route)}
        app.include_router(module.router)

    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        exempt=(attachments.router.prefix,),  # uploads check their own, larger limit
    )

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers["X-HMS-Schema-Version"] = str(SCHEMA_VERSION)
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
