"""Operations on the store: backup and restore across back ends, retention, scheduled work run once."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, exc, func, select, text

from tests.conftest import FakeClock, _pg_database
from tests.helpers import T0, activity_body, zone_body
from truceline.adapters import db
from truceline.adapters import tables as t
from truceline.adapters.backup import BadBackup, backup, restore
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import current, upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.clock import Clock, utc_now
from truceline.domain.errors import StateConflict
from truceline.services import activities, audit, hotline, parties, tracks, upkeep, webhooks, zones
from truceline.services import scenario as scenarios
from truceline.services.policy import Policy
from truceline.services.tracks import TrackPolicy


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {tb.name: int(c.execute(select(func.count()).select_from(tb)).scalar() or 0)
                for tb in t.metadata.sorted_tables}  # fmt: skip


def _rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    tb = t.metadata.tables[table]
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(tb).order_by(*tb.primary_key.columns))]


def _load_demo(engine: Engine) -> None:
    def writer(clock: Clock | None) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, write=True, clock=clock or utc_now)

    scenarios.load(writer, Policy(), scenarios.read("syria-2017"))


@pytest.mark.parametrize("direction", ["sqlite→postgresql", "postgresql→sqlite"])
def test_backup_restores_every_row_on_either_back_end(direction: str, tmp_path: Path, pg_server_uri: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'one.db'}"
    pg_url = _pg_database(pg_server_uri)
    src_url, dst_url = (sqlite_url, pg_url) if direction.startswith("sqlite") else (pg_url, sqlite_url)
    src, dst = make_engine(src_url), make_engine(dst_url)
    upgrade(src)
    _load_demo(src)
    before = _counts(src)
    assert before["activities"] > 0 and before["audit_log"] > 0 and before["zone_cells"] > 0

    counts = backup(src, tmp_path / "store.backup")
    assert counts == before
    assert restore(dst, tmp_path / "store.backup") == before
    assert _counts(dst) == before
    assert current(dst) == current(src)
    for table in ("zones", "activity_volumes", "audit_log", "audit_state", "conflicts", "feed_events", "incidents"):
        assert _rows(dst, table) == _rows(src, table), table
    v = audit.verify(SqlUnitOfWork(dst))
    assert v.problem is None and v.entries == before["audit_log"]
    # the restored store keeps working: a new notification gets the next ids and its conflicts
    us = next(p for p in parties.list_parties(SqlUnitOfWork(dst)) if p.name == "United States")
    r = activities.notify(SqlUnitOfWork(dst, write=True), Policy(), us, activity_body(kind="air"))
    assert r.activity.id
    assert audit.verify(SqlUnitOfWork(dst)).problem is None
    src.dispose()
    dst.dispose()


def test_restore_refuses_a_store_that_is_not_empty_and_changes_nothing(tmp_path: Path) -> None:
    a = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(a)
    parties.add(SqlUnitOfWork(a, write=True), name="A", role="officer")
    backup(a, tmp_path / "a.backup")
    with pytest.raises(StateConflict, match="not empty"):
        restore(a, tmp_path / "a.backup")
    assert _counts(a)["parties"] == 1


def test_a_damaged_or_cut_short_backup_restores_nothing(tmp_path: Path) -> None:
    a = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(a)
    for n in ("A", "B", "C"):
        parties.add(SqlUnitOfWork(a, write=True), name=n, role="officer")
    backup(a, tmp_path / "a.backup")
    with gzip.open(tmp_path / "a.backup", "rt") as f:
        lines = f.read().splitlines()
    cut = tmp_path / "cut.backup"
    with gzip.open(cut, "wt") as f:
        f.write("\n".join(lines[:-3]) + "\n")  # the last rows and the end line are gone
    b = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with pytest.raises(BadBackup, match="incomplete"):
        restore(b, cut)
    assert _counts(b)["parties"] == 0
    # and the good one still restores into the same database
    restore(b, tmp_path / "a.backup")
    assert _counts(b)["parties"] == 3
    (tmp_path / "junk.backup").write_bytes(b"not a backup")
    with pytest.raises(BadBackup, match="not a Truceline backup"):
        restore(make_engine(f"sqlite:///{tmp_path / 'c.db'}"), tmp_path / "junk.backup")


def test_retention_prunes_what_ended_long_ago_and_keeps_the_rest(
    engine: Engine, uow: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    policy = Policy()
    a, _ = parties.add(uow(), name="A", role="officer")
    b, _ = parties.add(uow(), name="B", role="officer")
    z = zones.create(uow(), policy, a, zone_body()).zone
    zones.take_position(uow(), policy, a, z.id, {"revision": 1, "strength": "final"})
    old = [activities.notify(uow(), policy, p, activity_body(kind="ground")) for p in (a, b)]
    assert old[1].conflicts  # overlap with A's, and the zone's rule
    later = T0 + timedelta(days=200)
    recent = activities.notify(uow(), policy, a, activity_body(t0=later, t1=later + timedelta(hours=2)))
    clock.now = T0
    tp = TrackPolicy()
    got = tracks.ingest(uow(), tp, a, [(1, _report("a1", T0 - timedelta(hours=1)))])
    assert got.accepted == 1
    clock.now = T0 + timedelta(days=100)
    tracks.ingest(uow(), tp, a, [(1, _report("a2", clock.now - timedelta(minutes=1)))])

    pruned = upkeep.prune(uow, upkeep.Retention(activities_days=90, track_hours=48, batch=1))
    assert (pruned.activities, pruned.track_reports, pruned.tracks) == (2, 1, 1)
    assert pruned.conflicts == len({c.id for r in old for c in r.conflicts})
    with SqlUnitOfWork(engine) as u:
        assert u.activities.get(recent.activity.id) is not None
        assert all(u.activities.get(r.activity.id) is None for r in old)
        assert not u.conflicts.get(old[1].conflicts[0].id)
    counts = _counts(engine)
    assert counts["activity_volumes"] == 1 and counts["track_reports"] == 1 and counts["tracks"] == 1
    assert len(recent.conflicts) == 1  # the zone's rule, months later: kept
    assert counts["conflicts"] == counts["conflict_activities"] == counts["conflict_parties"] == 1
    assert counts["volume_cells"] == _cells_of(engine, recent.activity.id) > 0
    # what went is in the audit log, batch by batch, and the chain holds
    with SqlUnitOfWork(engine) as u:
        entries = [e for e in u.audit.entries() if e.entry.body.action == "retention.pruned"]
    assert len(entries) >= 2 and sum(e.payload["activities"] for e in entries) == 2
    assert audit.verify(SqlUnitOfWork(engine)).problem is None
    # nothing more to do: nothing more pruned, nothing more written
    assert not upkeep.prune(uow, upkeep.Retention(activities_days=90, track_hours=48))
    assert _counts(engine)["audit_log"] == counts["audit_log"]
    # None keeps everything
    clock.now = T0 + timedelta(days=1000)
    assert not upkeep.prune(uow, upkeep.Retention(activities_days=None, track_hours=None))


def test_a_nonce_is_taken_once_and_pruned_once_its_signed_time_would_be_refused_anyway(
    engine: Engine, uow: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    a, _ = parties.add(uow(), name="A", role="officer")
    b, _ = parties.add(uow(), name="B", role="officer")
    nonce = "Xq3-vP9_aa5tT0bLwQ2mYw"
    parties.take_nonce(uow(), a, nonce, clock.now)
    with pytest.raises(StateConflict, match="received before"):
        parties.take_nonce(uow(), a, nonce, clock.now)
    parties.take_nonce(uow(), b, nonce, clock.now)  # another party's nonces are its own
    keep = upkeep.Retention(activities_days=None, track_hours=None, nonce_seconds=660)
    clock.now += timedelta(seconds=600)
    parties.take_nonce(uow(), a, "a-later-one-0123456", clock.now)
    assert not upkeep.prune(uow, keep)  # still within reach of a signed time the server accepts
    clock.now += timedelta(seconds=120)
    assert upkeep.prune(uow, keep).signed_nonces == 2
    assert _counts(engine)["signed_nonces"] == 1


def _cells_of(engine: Engine, activity_id: str) -> int:
    vc = t.volume_cells
    with engine.connect() as c:
        return int(c.execute(select(func.count()).where(vc.c.activity_id == activity_id)).scalar() or 0)


def _report(track: str, when: datetime) -> dict[str, Any]:
    return {"track_id": track, "callsign": track.upper(), "time": when.isoformat().replace("+00:00", "Z"),
            "lat": 33.0, "lon": 36.0, "altitude_m": 3000.0, "ground_speed_mps": 200.0, "track_deg": 90.0,
            "vertical_rate_mps": 0.0}  # fmt: skip


def test_scheduled_work_runs_in_one_process_at_a_time(pg_url: str) -> None:
    """Two processes' schedulers fire at the same instant: the job's lock lets exactly one through."""
    engine = make_engine(pg_url)
    upgrade(engine)
    a, _ = parties.add(SqlUnitOfWork(engine, write=True), name="A", role="officer")
    parties.add(SqlUnitOfWork(engine, write=True), name="B", role="officer")
    activities.notify(SqlUnitOfWork(engine, write=True), Policy(), a, activity_body())
    barrier = threading.Barrier(2)
    entered: list[bool] = []

    class Racing(SqlUnitOfWork):
        def try_lock(self, key: int) -> bool:
            got = super().try_lock(key)
            entered.append(got)
            if len(entered) <= 2:
                barrier.wait(timeout=30)  # the first two hold on until both have tried
            return got

    now = datetime(2030, 1, 1, tzinfo=UTC)
    for job in (
        lambda: audit.sign_head(Racing(engine, write=True, clock=lambda: now), _key()),
        lambda: zones.advance(Racing(engine, write=True, clock=lambda: now), Policy()),
        lambda: upkeep.prune(lambda: Racing(engine, write=True, clock=lambda: now), upkeep.Retention()),
    ):
        entered.clear()
        threads = [threading.Thread(target=job) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        assert sorted(entered)[:2] == [False, True], entered
    with SqlUnitOfWork(engine) as u:
        assert len(u.audit.signed_heads()) == 1
    engine.dispose()


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def test_a_pooled_connection_the_server_dropped_is_replaced_once_idle(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL connections are pinged at checkout only after sitting idle (``IDLE_PING_S``): under
    load no round trip is spent on it, and one the server dropped meanwhile is never handed out."""
    engine = make_engine(pg_url)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))

    def backend_pid() -> int:
        with engine.connect() as c:
            return int(c.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def drop(pid: int) -> None:
        other = make_engine(pg_url)
        with other.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        other.dispose()

    first = backend_pid()
    assert backend_pid() == first and pings == []  # just used: handed out again without a ping
    drop(first)
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # as if it had sat idle long enough
    second = backend_pid()  # the ping finds it gone; the pool connects afresh
    assert second != first and len(pings) == 1
    drop(second)
    monkeypatch.setattr(db, "IDLE_PING_S", 3600.0)  # not idle long enough to ping: the drop shows
    with pytest.raises(exc.OperationalError):
        backend_pid()
    engine.dispose()


def test_a_server_that_never_answers_fails_the_connection_soon(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token look-up runs on the event loop, so a connection must not wait the system's TCP timeout
    (minutes) on a database host that accepts and then says nothing: it fails after CONNECT_TIMEOUT_S,
    or after the URL's own ``connect_timeout``."""
    import socket

    mute = socket.create_server(("127.0.0.1", 0))  # the kernel completes the handshake; nobody answers
    port = mute.getsockname()[1]

    def attempt(url: str) -> list[BaseException]:
        engine = make_engine(url)
        outcome: list[BaseException] = []

        def connect() -> None:
            try:
                engine.connect().close()
            except exc.OperationalError as e:
                outcome.append(e)

        thread = threading.Thread(target=connect, daemon=True)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "still waiting on a server that never answers"
        return outcome

    monkeypatch.setattr(db, "CONNECT_TIMEOUT_S", 2)
    (error,) = attempt(f"postgresql://nobody@127.0.0.1:{port}/nothing")
    assert "timeout" in str(error).lower()
    monkeypatch.setattr(db, "CONNECT_TIMEOUT_S", 3600)
    (error,) = attempt(f"postgresql://nobody@127.0.0.1:{port}/nothing?connect_timeout=2")
    assert "timeout" in str(error).lower()
    mute.close()


def test_reads_outside_a_transaction_leave_none_behind(pg_url: str) -> None:
    """A request's token look-up and detection's look before the lock (``no_transaction``) run without
    BEGIN and ROLLBACK on PostgreSQL: two round trips fewer each. The pooled connection goes back as
    it was, so a write after them on the same connection is still one transaction, undone whole when
    it fails."""
    engine = make_engine(pg_url)
    upgrade(engine)
    party, token = parties.add(SqlUnitOfWork(engine, write=True), name="reader", role="officer")
    backends: set[int] = set()

    def pid(uow: SqlUnitOfWork) -> int:
        return int(uow._conn.execute(text("SELECT pg_backend_pid()")).scalar_one())  # type: ignore[union-attr]

    def in_transaction(uow: SqlUnitOfWork) -> bool:
        """What the server last said of the session (libpq's transaction status), not SQLAlchemy's view."""
        status = uow._conn.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
        return bool(status != psycopg.pq.TransactionStatus.IDLE)

    with SqlUnitOfWork(engine, no_transaction=True) as uow:
        backends.add(pid(uow))
        assert uow.parties.by_token_hash(parties.hash_token(token))[0].id == party.id  # type: ignore[index]
        assert not in_transaction(uow)
    assert parties.authenticate(SqlUnitOfWork(engine, no_transaction=True), token).id == party.id
    with SqlUnitOfWork(engine, write=True).reader() as view:  # detection's look before the write lock
        backends.add(pid(view))
        assert view.parties.by_token_hash(parties.hash_token(token)) is not None
        assert not in_transaction(view)

    with pytest.raises(RuntimeError), SqlUnitOfWork(engine, write=True) as uow:
        backends.add(pid(uow))
        assert in_transaction(uow)
        uow._conn.execute(t.parties.update().values(name="renamed"))  # type: ignore[union-attr]
        raise RuntimeError("the write fails after its first statement")
    assert len(backends) == 1  # the same pooled connection served both
    with engine.connect() as c:
        assert c.execute(select(t.parties.c.name)).scalars().all() == ["reader"]
    engine.dispose()


def test_retention_prunes_old_feed_events_and_finished_deliveries_and_a_reader_is_told_what_it_missed(
    engine: Engine, uow: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    policy = Policy()
    a, _ = parties.add(uow(), name="A", role="officer")
    b, _ = parties.add(uow(), name="B", role="officer")
    webhooks.register(uow(), b, url="https://b.example/hook", event_types=[])
    for n in range(3):  # each proposal is an event on A's and B's feeds, and a delivery to B's webhook
        zones.create(uow(), policy, a, zone_body(name=f"old {n}", signatories=["A", "B"]))
    with engine.begin() as c:  # two were delivered, one failed for good; the last stays due
        ids = list(c.execute(select(t.webhook_deliveries.c.id).order_by(t.webhook_deliveries.c.id)).scalars())
        c.execute(t.webhook_deliveries.update().where(t.webhook_deliveries.c.id.in_(ids[:2])).values(status="delivered"))
        c.execute(t.webhook_deliveries.update().where(t.webhook_deliveries.c.id == ids[2]).values(status="failed"))
    clock.now += timedelta(days=31)
    zones.create(uow(), policy, a, zone_body(name="new", signatories=["A", "B"]))
    keep_all_but_feed = dict(activities_days=None, track_hours=None)
    assert not upkeep.prune(uow, upkeep.Retention(**keep_all_but_feed, feed_days=None))  # None keeps them

    pruned = upkeep.prune(uow, upkeep.Retention(**keep_all_but_feed, feed_days=30, batch=2))
    assert (pruned.feed_events, pruned.webhook_deliveries) == (6, 3)  # 3 on each feed; the 4th delivery is due
    with engine.connect() as c:
        fe = t.feed_events.c
        assert list(c.execute(select(fe.seq).where(fe.party_id == b.id))) == [(4,)]
        assert [r.status for r in c.execute(select(t.webhook_deliveries))] == ["pending"]
    # B's reader resuming from before the gap is told which events it missed, then gets the rest.
    got = hotline.events(uow(), b, after=1)
    assert [(e.seq, e.type) for e in got] == [(3, "feed.pruned"), (4, "zone.proposed")]
    assert got[0].payload["after"] == 1 and got[0].payload["missed_through"] == 3
    assert "Events 2–3 of your feed were removed by retention" in got[0].payload["summary"]
    assert [e.seq for e in hotline.events(uow(), b, after=3)] == [4]  # from the gap on: nothing missed
    assert hotline.events(uow(), b, after=4) == []
    # When every event after the reader's id has gone, the head says so (a stream's first read).
    clock.now += timedelta(days=31)
    assert upkeep.prune(uow, upkeep.Retention(**keep_all_but_feed, feed_days=30)).feed_events == 2
    (gap,) = hotline.events(uow(), b, after=2)
    assert (gap.seq, gap.type, gap.payload["missed_through"]) == (4, "feed.pruned", 4)
    assert hotline.events(uow(), b, after=2, first=False) == []  # a stream's later reads skip that look-up
    assert hotline.events(uow(), b, after=4) == []
    # What went is in the audit log, and the chain holds.
    with SqlUnitOfWork(engine) as u:
        said = [e.payload for e in u.audit.entries() if e.entry.body.action == "retention.pruned"]
    assert sum(p["feed_events"] for p in said) == 8 and sum(p["webhook_deliveries"] for p in said) == 3
    assert all("feed_before" in p for p in said)
    assert audit.verify(SqlUnitOfWork(engine)).problem is None


def test_an_empty_retention_setting_keeps_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the deployment guide says: ``TRUCELINE_RETAIN_FEED_DAYS=`` keeps everything; a bad value is
    named."""
    from pydantic import ValidationError

    from truceline.settings import Settings

    monkeypatch.setenv("TRUCELINE_RETAIN_ACTIVITIES_DAYS", "")
    monkeypatch.setenv("TRUCELINE_RETAIN_TRACK_HOURS", " ")
    monkeypatch.setenv("TRUCELINE_RETAIN_FEED_DAYS", "7")
    s = Settings()
    assert (s.retain_activities_days, s.retain_track_hours, s.retain_feed_days) == (None, None, 7.0)
    monkeypatch.setenv("TRUCELINE_RETAIN_FEED_DAYS", "a week")
    with pytest.raises(ValidationError, match="retain_feed_days"):
        Settings()
