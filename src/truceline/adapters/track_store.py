"""Track storage: every report kept, and each track's latest state (a newer report wins, whatever order
they arrive in). The detector reads the latest states as columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection

from truceline.adapters.db import is_sqlite
from truceline.domain.cells import to_ms
from truceline.domain.tracks import TrackReport

_LATEST = ("party_id", "track_id", "t_ms", "lat", "lon", "alt", "gs", "trk", "vs", "callsign", "kind", "activity_id")


@dataclass
class Snapshot:
    """The latest state of each fresh track, as columns (row k is one track)."""

    party_ids: list[str]
    track_ids: list[str]
    callsigns: list[str]
    kinds: list[str]
    activity_ids: list[str | None]
    t_ms: NDArray[np.int64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    alt: NDArray[np.float64]
    gs: NDArray[np.float64]
    trk: NDArray[np.float64]
    vs: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.track_ids)


class TrackRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def save(self, reports: Sequence[TrackReport]) -> None:
        """Append every report and move each track's latest state forward. Ingest is the hot path:
        plain driver ``executemany`` with portable SQL (the upsert is SQLite's and PostgreSQL's)."""
        if not reports:
            return
        mark = "?" if is_sqlite(self.conn.engine) else "%s"
        rows = [
            (r.party_id, r.track_id, to_ms(r.at), r.lat, r.lon, r.altitude_m, r.ground_speed_mps, r.track_deg,
             r.vertical_rate_mps)
            for r in reports
        ]  # fmt: skip
        cols = "party_id, track_id, t_ms, lat, lon, alt, gs, trk, vs"
        self.conn.exec_driver_sql(
            f"INSERT INTO track_reports ({cols}) VALUES ({', '.join([mark] * 9)})", rows
        )
        latest: dict[tuple[str, str], tuple[Any, ...]] = {}
        for r, row in zip(reports, rows, strict=True):
            key = (r.party_id, r.track_id)
            if key not in latest or latest[key][2] <= row[2]:
                latest[key] = (*row, r.callsign, r.kind, r.activity_id)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _LATEST[2:])
        self.conn.exec_driver_sql(
            f"INSERT INTO tracks ({', '.join(_LATEST)}) VALUES ({', '.join([mark] * len(_LATEST))}) "
            f"ON CONFLICT (party_id, track_id) DO UPDATE SET {updates} WHERE tracks.t_ms <= excluded.t_ms",
            [latest[k] for k in sorted(latest)],
        )

    def fresh(self, since_ms: int) -> Snapshot:
        """Tracks reported since ``since_ms``, as columns. This runs every cycle over every track, so it
        reads through the driver's own cursor (plain tuples), in primary-key order."""
        mark = "?" if is_sqlite(self.conn.engine) else "%s"
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                "SELECT party_id, track_id, callsign, kind, activity_id, t_ms, lat, lon, alt, gs, trk, vs "
                f"FROM tracks WHERE t_ms >= {mark} ORDER BY party_id, track_id",
                (since_ms,),
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            f = np.empty(0)
            return Snapshot([], [], [], [], [], np.empty(0, np.int64), f, f, f, f, f, f)
        cols = list(zip(*rows, strict=True))
        n = len(rows)
        return Snapshot(
            list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
            np.fromiter(cols[5], np.int64, n), *(np.fromiter(cols[k], np.float64, n) for k in range(6, 12)),
        )  # fmt: skip

