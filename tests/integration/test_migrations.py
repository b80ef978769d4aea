"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from truceline.adapters.migrate import alembic_config, current, upgrade
from truceline.adapters.tables import metadata


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None and current(engine) == head
    upgrade(engine)  # idempotent
    assert current(engine) == head
