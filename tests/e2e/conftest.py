from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from truceline.api.app import create_app
from truceline.services import parties
from truceline.settings import Settings


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    tokens = {}
    for name, role in [("A", "officer"), ("B", "officer"), ("Obs", "observer"), ("Mon", "monitor"), ("Admin", "admin")]:
        _, tokens[name] = parties.add(ctx.uow(write=True), name=name, role=role)
    with TestClient(app) as client:
        yield Api(client, tokens)
