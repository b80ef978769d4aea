"""Track storage: every report kept, and each track's latest state (a newer report wins, whatever order
they arrive in). The detector reads the latest states as columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from truceline.adapters import tables as t
from truceline.adapters.db import is_sqlite
from truceline.domain.cells import to_ms
from truceline.domain.tracks import TrackReport

_T = t.tracks.c


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
        if not reports:
            return
        rows = [
            dict(
                party_id=r.party_id,
                track_id=r.track_id,
                t_ms=to_ms(r.at),
                lat=r.lat,
                lon=r.lon,
                alt=r.altitude_m,
                gs=r.ground_speed_mps,
                trk=r.track_deg,
                vs=r.vertical_rate_mps,
            )
            for r in reports
        ]
        self.conn.execute(insert(t.track_reports), rows)
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for r, row in zip(reports, rows, strict=True):
            key = (r.party_id, r.track_id)
            if key not in latest or latest[key]["t_ms"] <= row["t_ms"]:
                latest[key] = dict(row, callsign=r.callsign, kind=r.kind, activity_id=r.activity_id)
        dialect: Any = sqlite if is_sqlite(self.conn.engine) else postgresql
        stmt = dialect.insert(t.tracks)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["party_id", "track_id"],
            set_={c: excluded[c] for c in ("callsign", "t_ms", "lat", "lon", "alt", "gs", "trk", "vs", "kind",
                                           "activity_id")},
            where=t.tracks.c.t_ms <= excluded.t_ms,
        )
        self.conn.execute(stmt, sorted(latest.values(), key=lambda x: (x["party_id"], x["track_id"])))

    def fresh(self, since_ms: int) -> Snapshot:
        q = select(
            _T.party_id, _T.track_id, _T.callsign, _T.kind, _T.activity_id, _T.t_ms,
            _T.lat, _T.lon, _T.alt, _T.gs, _T.trk, _T.vs,
        ).where(_T.t_ms >= since_ms).order_by(_T.party_id, _T.track_id)  # fmt: skip
        rows = self.conn.execute(q).all()
        if not rows:
            f = np.empty(0)
            return Snapshot([], [], [], [], [], np.empty(0, np.int64), f, f, f, f, f, f)
        cols = list(zip(*rows, strict=True))
        num = [np.asarray(c, dtype=np.float64) for c in cols[6:]]
        return Snapshot(
            list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
            np.asarray(cols[5], dtype=np.int64), *num,
        )  # fmt: skip

    def forget_older_than(self, before_ms: int) -> int:
        """Drop history older than ``before_ms`` (retention)."""
        r = self.conn.execute(delete(t.track_reports).where(t.track_reports.c.t_ms < before_ms))
        return int(r.rowcount or 0)
