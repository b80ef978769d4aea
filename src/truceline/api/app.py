"""The app factory. Nothing is built at import time: settings are read and the engine made here."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from truceline import __version__
from truceline.adapters.db import WalCheckpointer, is_sqlite, make_engine
from truceline.adapters.feed_channel import FeedListener
from truceline.adapters.keys import load_or_create
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.adapters.webhook_sender import HttpSender
from truceline.api import openapi_doc, problems
from truceline.api.deps import AppContext
from truceline.api.idempotency import KeepAnswers
from truceline.api.limits import RequestLimits
from truceline.api.observability import Metrics, RequestMiddleware
from truceline.api.routes import activities, conflicts, hotline, operations, parties, system, tracks, web, webhooks
from truceline.api.routes import audit as audit_routes
from truceline.api.routes import incidents as incident_routes
from truceline.api.routes import zones as zone_routes
from truceline.domain.clock import Clock, utc_now
from truceline.services import audit, upkeep, zones
from truceline.services import hotline as hotline_service
from truceline.services import tracks as track_service
from truceline.services import webhooks as webhook_service
from truceline.settings import Settings
from truceline.web import STATIC

log = logging.getLogger("truceline")

DESCRIPTION = """Truceline lets parties who do not trust each other run a de-escalation and
deconfliction mechanism: zones with rules, notified activities as 4D volumes (ASTM F3548-21
Volume4D), and conflicts found between them. Authenticate with `Authorization: Bearer <token>`.
Errors are RFC 9457 problem+json naming the field (JSON pointer) and the reason."""


#: The order of the API's sections in /docs.
_SECTIONS = "system parties zones activities conflicts hotline webhooks tracks incidents audit operations web"
DOC_ORDER = [{"name": name} for name in _SECTIONS.split()]


@functools.cache  # once per process: later apps in the same process (tests) find it done
def settle_heap() -> None:
    """Take what start-up built and keeps (modules, the app, the zone cache) out of the collector's
    reach. A full collection then walks only what requests leave behind, not ~120k long-lived
    objects: that walk was a 50 ms pause every few hundred notifications."""
    gc.collect()
    gc.freeze()


async def _every(seconds: float, job: Callable[[], object]) -> None:
    """Run a blocking job every ``seconds`` on a worker thread; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("background job failed")


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, portable=settings.portable_sql)
    if settings.migrate_on_start:
        upgrade(engine)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        policy=settings.policy(),
        audit_key=load_or_create(settings.audit_key_file),
        metrics=Metrics(lambda: upkeep.store_counts(SqlUnitOfWork(engine, clock=clock))),
        clock=clock,
        tracks=settings.track_policy(),
        on_loop=is_sqlite(engine) if settings.db_work_on_loop is None else settings.db_work_on_loop,
    )

    retention = upkeep.Retention(
        settings.retain_activities_days,
        settings.retain_track_hours,
        2 * settings.signature_window_seconds + 60,
        feed_days=settings.retain_feed_days,
        idempotency_hours=settings.retain_idempotency_hours,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checkpointer = WalCheckpointer(engine).start()
        ctx.signal.bind(asyncio.get_running_loop())
        native_pg = not is_sqlite(engine) and not settings.portable_sql
        listener = FeedListener(engine, ctx.signal.notify).start() if native_pg else None
        if listener is not None:  # serve once other processes' commits can wake our streams
            await asyncio.to_thread(listener.listening.wait, 5.0)
        await asyncio.to_thread(zones.warm, ctx.uow())  # every notification reads the zones near it
        settle_heap()
        policy = ctx.policy
        sender = HttpSender(timeout_s=policy.webhooks.timeout_s)
        tasks = [
            asyncio.create_task(
                _every(
                    settings.hotline_clock_seconds,
                    lambda: hotline_service.escalate_due(ctx.uow(write=True), policy.hotline),
                )
            ),
            asyncio.create_task(
                _every(
                    settings.reminder_clock_seconds,
                    lambda: hotline_service.remind_starting(ctx.uow(write=True), policy.hotline),
                )
            ),
            asyncio.create_task(
                _every(
                    settings.webhook_poll_seconds,
                    lambda: webhook_service.dispatch_due(lambda: ctx.uow(write=True), sender, policy.webhooks),
                )
            ),
            asyncio.create_task(
                _every(
                    settings.track_cycle_seconds,
                    lambda: track_service.cycle(lambda w: ctx.uow(write=w), policy, ctx.tracks, ctx.detector),
                )
            ),
            asyncio.create_task(
                _every(settings.zone_clock_seconds, lambda: zones.advance(ctx.uow(write=True), ctx.policy))
            ),
            asyncio.create_task(
                _every(settings.audit_head_seconds, lambda: audit.sign_head(ctx.uow(write=True), ctx.audit_key))
            ),
            asyncio.create_task(
                _every(settings.retention_seconds, lambda: upkeep.prune(lambda: ctx.uow(write=True), retention))
            ),
            # every process, not once across them: each writes the uses it saw itself
            asyncio.create_task(_every(settings.token_use_seconds, lambda: ctx.token_uses.flush(ctx.uow(write=True)))),
        ]
        yield
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.to_thread(ctx.token_uses.flush, ctx.uow(write=True))
        except Exception:
            log.exception("could not write the last token uses")
        checkpointer.stop()
        if listener is not None:
            listener.stop()
        engine.dispose()

    app = FastAPI(
        title="Truceline",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=DOC_ORDER,
        docs_url=None,  # openapi_doc serves /docs offline; ReDoc, which would need a CDN, is left out
        redoc_url=None,
    )
    app.state.ctx = ctx
    problems.install(app)
    # A request is matched against each router in turn (tens of µs for the zones router alone), so the
    # busiest come first: notifications, then track reports. The docs keep their own order (DOC_ORDER).
    routers = (activities, tracks, system, operations, parties, zone_routes, conflicts, hotline, webhooks,
               incident_routes, audit_routes, web)  # fmt: skip
    openapi_doc.install(app, [module.router for module in routers])
    for module in routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.add_middleware(KeepAnswers, ctx=ctx)  # inside the others: it keeps the route's own answer
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_body_bytes,
        per_path={"/v1/tracks": settings.max_track_body_bytes, "/v1/incidents/import": settings.max_import_body_bytes},
        itemwise=frozenset({"/v1/tracks"}),
        # evidence comes base64-encoded in JSON: four bytes for three, and room for the rest
        per_pattern={r"/v1/incidents/[^/]+/evidence": settings.max_evidence_bytes * 4 // 3 + 65_536},
    )
    app.add_middleware(RequestMiddleware, metrics=ctx.metrics)  # outermost: times and ids every request
    return app
