"""Request-scoped dependencies: the app's context and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.clock import Clock, utc_now
from truceline.domain.model import Party
from truceline.services import parties
from truceline.services.policy import Policy
from truceline.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    policy: Policy
    clock: Clock = utc_now

    def uow(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, clock=self.clock)


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def caller(request: Request, ctx: Annotated[AppContext, Depends(context)]) -> Party:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return parties.authenticate(ctx.uow(), token.strip() if scheme.lower() == "bearer" else None)


Ctx = Annotated[AppContext, Depends(context)]
Caller = Annotated[Party, Depends(caller)]
