"""The app factory. Nothing is built at import time: settings are read and the engine made here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from truceline import __version__
from truceline.adapters.db import WalCheckpointer, make_engine
from truceline.adapters.migrate import upgrade
from truceline.api import problems
from truceline.api.deps import AppContext
from truceline.api.limits import BodySizeLimit
from truceline.api.routes import activities, conflicts, parties, system, zones
from truceline.domain.clock import Clock, utc_now
from truceline.settings import Settings

DESCRIPTION = """Truceline lets parties who do not trust each other run a de-escalation and
deconfliction mechanism: zones with rules, notified activities as 4D volumes (ASTM F3548-21
Volume4D), and conflicts found between them. Authenticate with `Authorization: Bearer <token>`.
Errors are RFC 9457 problem+json naming the field (JSON pointer) and the reason."""


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if settings.migrate_on_start:
        upgrade(engine)
    ctx = AppContext(settings=settings, engine=engine, policy=settings.policy(), clock=clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checkpointer = WalCheckpointer(engine).start()
        yield
        checkpointer.stop()
        engine.dispose()

    app = FastAPI(title="Truceline", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.ctx = ctx
    problems.install(app)
    for module in (system, parties, zones, activities, conflicts):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
