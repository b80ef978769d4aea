"""Live tracks: ingest position reports; every cycle, predict losses of separation and zone incursions
and keep ``separation`` and ``incursion`` conflicts current (one per episode, routed to the hotline);
show each party the part of the picture it may see."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely

from truceline.adapters.track_store import Snapshot
from truceline.domain import geometry as geo
from truceline.domain.cells import to_ms
from truceline.domain.errors import FieldError, InvalidInput
from truceline.domain.ids import new_id
from truceline.domain.incursions import Incursion, ZoneShape, find, zone_shape
from truceline.domain.model import (
    ActivityKind,
    AltitudeBand,
    Conflict,
    ConflictRule,
    ConflictStatus,
    Party,
    Region,
    TimeWindow,
    TrackRef,
    ZoneStatus,
)
from truceline.domain.tactical import FT, NM, Minima, Pairs, Traffic, detect, extrapolate, position_at
from truceline.domain.tracks import TrackReport, parse_report
from truceline.domain.volumes import format_time
from truceline.services import audit, hotline
from truceline.services.access import require
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork

#: the advisory lock that makes one process at a time keep the tactical conflicts
CYCLE_LOCK = 0x7472_6163_6B73  # "tracks"


@dataclass(frozen=True)
class TrackPolicy:
    minima: Minima = field(default_factory=Minima)
    stale_s: float = 30.0  # a track with no report for this long drops out
    clear_s: float = 10.0  # a conflict closes after it has not been predicted for this long
    near_m: float = 50_000.0  # others' tracks a party sees: within this of one of its own
    max_reports: int = 100_000  # per request


# --- ingest ---------------------------------------------------------------------------------------
@dataclass
class IngestResult:
    accepted: int
    rejected: list[dict[str, Any]]  # {"line": n, "errors": [{"pointer", "detail"}]}


def ingest(uow: UnitOfWork, policy: TrackPolicy, caller: Party, items: Sequence[tuple[int, object]]) -> IngestResult:
    """Check each report on its own; store the good ones (their latest state per track, and the report
    itself). ``items``: (line number, parsed JSON or an error text)."""
    require(caller, "track.report")
    if len(items) > policy.max_reports:
        raise InvalidInput.at("", f"at most {policy.max_reports:,} reports per request; split the batch")
    rejected: list[dict[str, Any]] = []
    good: list[tuple[int, TrackReport]] = []
    with uow:
        now = uow.clock()
        for line, item in items:
            if isinstance(item, str):  # a line that was not JSON
                rejected.append({"line": line, "errors": [{"pointer": "", "detail": item}]})
                continue
            r = parse_report(item, party_id=caller.id, party_name=caller.name, now=now)
            if isinstance(r, list):
                rejected.append({"line": line, "errors": [e.as_dict() for e in r]})
            else:
                good.append((line, r))
        links = sorted({r.activity_id for _, r in good if r.activity_id})
        own = {a.id for a in uow.activities.get_many(links) if a.party_id == caller.id} if links else set()
        reports = []
        for line, r in good:
            if r.activity_id and r.activity_id not in own:
                rejected.append({"line": line, "errors": [
                    FieldError("/activity_id", f"no activity {r.activity_id} of your party").as_dict()]})
            else:
                reports.append(r)
        if reports:
            uow.tracks.save(reports)
            digest = hashlib.sha256(
                json.dumps([[r.track_id, to_ms(r.at), r.lat, r.lon, r.altitude_m] for r in reports]).encode()
            ).hexdigest()
            audit.record(uow, caller, "tracks.reported", "tracks", caller.id,
                         {"reports": len(reports), "tracks": len({r.track_id for r in reports}), "digest": digest,
                          "first": format_time(min(r.at for r in reports)),
                          "last": format_time(max(r.at for r in reports))},
                         concerns=[caller.id])
        uow.commit()
    rejected.sort(key=lambda x: int(x["line"]))
    return IngestResult(len(reports), rejected)


# --- the cycle ------------------------------------------------------------------------------------
@dataclass
class Picture:
    """One cycle's view of the traffic, kept in memory for the picture endpoints."""

    at: datetime
    snap: Snapshot
    traffic: Traffic
    pairs: Pairs
    incursions: list[Incursion]
    zones: dict[str, ZoneShape]
    names: dict[str, str]
    conflict_of: dict[str, str]  # episode key -> open conflict id
    minima: Minima


@dataclass
class Detector:
    """What one process remembers between cycles: when each open conflict was last predicted (so a
    pair flickering at the threshold does not open and close conflicts every second), and the latest
    picture."""

    last_seen: dict[str, datetime] = field(default_factory=dict)
    picture: Picture | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _pair_key(a: tuple[str, str], b: tuple[str, str]) -> str:
    x, y = sorted([a, b])
    return f"separation:{x[0]}/{x[1]}:{y[0]}/{y[1]}"


def _incursion_key(t: tuple[str, str], zone_id: str) -> str:
    return f"incursion:{t[0]}/{t[1]}:{zone_id}"


def episode(c: Conflict) -> str:
    return _episode_of(c.rule.value, c.zone_id, [(x.party_id, x.track_id) for x in c.tracks])


def _episode_of(rule: str, zone_id: str | None, ids: list[tuple[str, str]]) -> str:
    if rule == ConflictRule.separation.value and len(ids) == 2:
        return _pair_key(ids[0], ids[1])
    return _incursion_key(ids[0], zone_id or "")


def _ref(snap: Snapshot, k: int) -> TrackRef:
    kind = snap.kinds[k]
    return TrackRef(snap.party_ids[k], snap.track_ids[k], snap.callsigns[k], ActivityKind(kind), snap.activity_ids[k])


def _who(snap: Snapshot, k: int, names: dict[str, str]) -> str:
    return f"{snap.callsigns[k]} ({names.get(snap.party_ids[k], snap.party_ids[k])})"


def _secs(s: float) -> str:
    return f"{max(s, 0.0):.0f} s"


def _separation(pic: Picture, n: int, now: datetime) -> Conflict:
    p, snap, t, m = pic.pairs, pic.snap, pic.traffic, pic.minima
    i, j = int(p.i[n]), int(p.j[n])
    t_in, t_out = float(p.t_in[n]), min(float(p.t_out[n]), m.lookahead_s)
    r, h = max(t.rpz[i], t.rpz[j]), max(t.hpz[i], t.hpz[j])
    limits = f"minimum {r / NM:.1f} NM and {h / FT:.0f} ft"
    if p.los[n]:
        reason = (f"{_who(snap, i, pic.names)} and {_who(snap, j, pic.names)} have lost separation: "
                  f"{p.dist[n] / NM:.1f} NM and {abs(p.dalt[n]) / FT:.0f} ft apart now ({limits})")
    else:
        reason = (f"{_who(snap, i, pic.names)} and {_who(snap, j, pic.names)} are predicted to lose separation "
                  f"in {_secs(t_in)}, closest {p.dcpa[n] / NM:.1f} NM at {_secs(p.tcpa[n])} ({limits})")
    tc = float(np.clip(p.tcpa[n], t_in, t_out))
    la, lo, al = position_at(t, np.array([i, j]), np.array([tc, tc]))
    _, _, alt_in = position_at(t, np.array([i, j]), np.array([t_in, t_in]))
    _, _, alt_out = position_at(t, np.array([i, j]), np.array([t_out, t_out]))
    alts = [*al, *alt_in, *alt_out]
    region = Region(
        geo.circle(float(np.mean(lo)), float(np.mean(la)), float(r)),
        TimeWindow(now + timedelta(seconds=t_in), now + timedelta(seconds=max(t_out, t_in + 1))),
        AltitudeBand(min(alts) - h / 2, max(alts) + h / 2),
    )
    return Conflict(
        id=new_id(), rule=ConflictRule.separation, status=ConflictStatus.open, reason=reason,
        party_ids=sorted({snap.party_ids[i], snap.party_ids[j]}), subjects=[], zone_id=None, zone_revision=None,
        regions=[region], created_at=now, updated_at=now, tracks=[_ref(snap, i), _ref(snap, j)],
    )  # fmt: skip


def _incursion(pic: Picture, inc: Incursion, now: datetime) -> Conflict:
    snap, t = pic.snap, pic.traffic
    k = inc.track
    z = pic.zones[inc.zone_id]
    kind = snap.kinds[k]
    if inc.inside_now:
        reason = f"{_who(snap, k, pic.names)}, {kind}, is inside {z.name}, which forbids {kind}"
    else:
        reason = (f"{_who(snap, k, pic.names)}, {kind}, is predicted to enter {z.name}, which forbids {kind}, "
                  f"in {_secs(inc.t_in)}")
    la, lo, al = position_at(t, np.array([k]), np.array([inc.t_in]))
    region = Region(
        geo.circle(float(lo[0]), float(la[0]), 1000.0),
        TimeWindow(now + timedelta(seconds=inc.t_in), now + timedelta(seconds=max(inc.t_out, inc.t_in + 1))),
        AltitudeBand(float(al[0]) - 150, float(al[0]) + 150),
    )
    return Conflict(
        id=new_id(), rule=ConflictRule.incursion, status=ConflictStatus.open, reason=reason,
        party_ids=sorted({snap.party_ids[k], *z.party_ids}), subjects=[], zone_id=z.zone_id, zone_revision=None,
        regions=[region], created_at=now, updated_at=now, tracks=[_ref(snap, k)],
    )  # fmt: skip


def _zone_minima(t: Traffic, shapes: list[tuple[ZoneShape, float | None, float | None]]) -> None:
    """Tracks inside a zone that sets its own separation minima use them (the larger one wins)."""
    for z, h_m, v_m in shapes:
        inside = shapely.contains_xy(z.shape, t.lon, t.lat)
        if h_m is not None:
            t.rpz[inside] = np.maximum(t.rpz[inside], h_m)
        if v_m is not None:
            t.hpz[inside] = np.maximum(t.hpz[inside], v_m)


def snapshot_picture(uow: UnitOfWork, policy: TrackPolicy, now: datetime) -> Picture:
    """Read the fresh tracks, extrapolate them to ``now`` and run both detections (no writes)."""
    m = policy.minima
    snap = uow.tracks.fresh(to_ms(now - timedelta(seconds=policy.stale_s)))
    parties = sorted(set(snap.party_ids))
    index = {p: n for n, p in enumerate(parties)}
    base = Traffic.of(snap.lat, snap.lon, snap.gs, snap.trk, snap.alt, snap.vs,
                      np.array([index[p] for p in snap.party_ids], dtype=np.int64), m)
    traffic = extrapolate(base, (to_ms(now) - snap.t_ms) / 1000.0)
    zones = uow.zones.list(status=ZoneStatus.in_force.value, at=now, limit=1_000_000)
    zones = [z for z in zones if z.schedule is None or z.schedule.is_active(now)]  # outside its hours: no rules
    shapes = {z.id: zone_shape(z) for z in zones}
    _zone_minima(traffic, [(shapes[z.id], z.separation_m, z.vertical_separation_m) for z in zones
                           if z.separation_m is not None or z.vertical_separation_m is not None])
    pairs = detect(traffic, m)
    forbidding = [s for s in shapes.values() if s.forbidden]
    incs = find(traffic, snap.kinds, forbidding, m.lookahead_s)
    names = uow.parties.names({*parties, *(p for s in shapes.values() for p in s.party_ids)})
    return Picture(now, snap, traffic, pairs, incs, shapes, names, {}, m)


def _open_episodes(uow: UnitOfWork) -> dict[str, str]:
    """Episode key -> id of each open tactical conflict."""
    return {_episode_of(rule, zid, ids): cid for cid, rule, zid, ids in uow.conflicts.open_tactical_subjects()}


def _found(pic: Picture) -> dict[str, tuple[str, int]]:
    """Episode key -> (rule, index into the pairs or the incursions) of everything predicted now."""
    snap = pic.snap
    out: dict[str, tuple[str, int]] = {}
    p = pic.pairs
    for n, (i, j) in enumerate(zip(p.i.tolist(), p.j.tolist(), strict=True)):
        out[_pair_key((snap.party_ids[i], snap.track_ids[i]), (snap.party_ids[j], snap.track_ids[j]))] = ("s", n)
    for n, inc in enumerate(pic.incursions):
        k = inc.track
        out.setdefault(_incursion_key((snap.party_ids[k], snap.track_ids[k]), inc.zone_id), ("i", n))
    return out


def _changes(
    found: dict[str, tuple[str, int]], open_now: dict[str, str], det: Detector, now: datetime, clear_s: float
) -> tuple[list[str], list[str]]:
    """Episode keys to open, and ids of open conflicts clear for ``clear_s`` (or whose tracks went stale)
    to close."""
    new = [k for k in found if k not in open_now]
    closing = []
    for key, cid in open_now.items():
        if key in found:
            det.last_seen[cid] = now
            continue
        seen = det.last_seen.setdefault(cid, now)  # after a restart, a fresh grace period
        if (now - seen).total_seconds() >= clear_s:
            closing.append(cid)
    return new, closing


def cycle(make_uow: Callable[[bool], UnitOfWork], policy: Policy, tracks: TrackPolicy, det: Detector) -> Picture:
    """One detection cycle: predict (in a read transaction), then, only if something changed, open a
    conflict for each new episode and close the ones clear for ``clear_s``, each change on the
    hotline. One process at a time keeps the conflicts; the others only refresh their picture. Whole
    conflicts are built only for episodes that open or close: a steady picture costs no writes."""
    with det.lock:
        with make_uow(False) as uow:
            now = uow.clock()
            pic = snapshot_picture(uow, tracks, now)
            open_now = _open_episodes(uow)
        found = _found(pic)
        new_keys, closing = _changes(found, open_now, det, now, tracks.clear_s)
        new: list[Conflict] = []
        if new_keys or closing:
            with make_uow(True) as uow:
                if uow.try_lock(CYCLE_LOCK):
                    open_now = _open_episodes(uow)  # as of now, under the lock
                    new_keys, closing = _changes(found, open_now, det, now, tracks.clear_s)
                    for key in new_keys:
                        kind, n = found[key]
                        c = _separation(pic, n, now) if kind == "s" else _incursion(pic, pic.incursions[n], now)
                        new.append(c)
                        det.last_seen[c.id] = now
                    closed = list(uow.conflicts.get_many(closing).values())
                    for c in closed:
                        c.status = ConflictStatus.closed
                        c.closed_at = c.updated_at = now
                        c.closed_reason = "cleared: no longer predicted within the look-ahead"
                        det.last_seen.pop(c.id, None)
                    uow.conflicts.save_many(new, closed)
                    for c in new:
                        audit.record(uow, None, "conflict.opened", "conflict", c.id,
                                     {"rule": c.rule.value, "reason": c.reason}, concerns=c.party_ids)
                    for c in closed:
                        audit.record(uow, None, "conflict.closed", "conflict", c.id, {"reason": c.closed_reason},
                                     concerns=c.party_ids)
                    hotline.announce(uow, policy.hotline, new, closed)
                    uow.commit()
                else:
                    new, closing = [], []
        gone = set(closing)
        pic.conflict_of = {**{k: cid for k, cid in open_now.items() if cid not in gone},
                           **{episode(c): c.id for c in new}}
        det.picture = pic
    return pic


# --- the picture each party sees ------------------------------------------------------------------
def _near(t: Traffic, mine: np.ndarray, others: np.ndarray, limit_m: float) -> np.ndarray:
    """Which of ``others`` are within ``limit_m`` of one of ``mine`` (equirectangular, in blocks)."""
    out = np.zeros(len(others), bool)
    if len(mine) == 0 or len(others) == 0:
        return out
    la0, lo0 = np.radians(t.lat[mine]), np.radians(t.lon[mine])
    for s in range(0, len(others), 4096):
        o = others[s : s + 4096]
        la, lo = np.radians(t.lat[o])[:, None], np.radians(t.lon[o])[:, None]
        dlon = (lo - lo0[None, :] + math.pi) % (2 * math.pi) - math.pi
        d = 6_371_000.0 * np.hypot(la - la0[None, :], dlon * np.cos((la + la0[None, :]) / 2))
        out[s : s + len(o)] = (d <= limit_m).any(axis=1)
    return out


def view(pic: Picture, caller: Party, policy: TrackPolicy, responsible_zones: Sequence[str]) -> dict[str, Any]:
    """What ``caller`` may see: its own tracks; others' near its own, inside zones it is responsible
    for, or in a conflict with it; and the alerts that concern it."""
    snap, t = pic.snap, pic.traffic
    owner = np.asarray(snap.party_ids, dtype=object)
    mine = np.nonzero(owner == caller.id)[0]
    others = np.nonzero(owner != caller.id)[0]
    visible = np.zeros(len(snap), bool)
    visible[mine] = True
    visible[others[_near(t, mine, others, policy.near_m)]] = True
    for zid in responsible_zones:
        z = pic.zones.get(zid)
        if z is not None and len(others):
            visible[others[shapely.contains_xy(z.shape, t.lon[others], t.lat[others])]] = True
    alerts = []
    p = pic.pairs
    for n in range(len(p)):
        i, j = int(p.i[n]), int(p.j[n])
        if caller.id not in (snap.party_ids[i], snap.party_ids[j]):
            continue
        visible[[i, j]] = True
        key = _pair_key((snap.party_ids[i], snap.track_ids[i]), (snap.party_ids[j], snap.track_ids[j]))
        alerts.append({
            "rule": "separation", "conflict_id": pic.conflict_of.get(key),
            "tracks": [_track_ref_json(snap, i, pic.names), _track_ref_json(snap, j, pic.names)],
            "zone_id": None, "loss_of_separation_now": bool(p.los[n]),
            "time_in": format_time(pic.at + timedelta(seconds=float(max(p.t_in[n], 0)))),
            "time_out": format_time(pic.at + timedelta(seconds=float(min(p.t_out[n], pic.minima.lookahead_s)))),
            "t_in_s": round(float(max(p.t_in[n], 0)), 1), "tcpa_s": round(float(p.tcpa[n]), 1),
            "dcpa_m": round(float(p.dcpa[n]), 1), "distance_m": round(float(p.dist[n]), 1),
            "vertical_m": round(float(abs(p.dalt[n])), 1),
        })  # fmt: skip
    mine_zones = set(responsible_zones)
    for inc in pic.incursions:
        k = inc.track
        if snap.party_ids[k] != caller.id and inc.zone_id not in mine_zones:
            continue
        visible[k] = True
        key = _incursion_key((snap.party_ids[k], snap.track_ids[k]), inc.zone_id)
        alerts.append({
            "rule": "incursion", "conflict_id": pic.conflict_of.get(key),
            "tracks": [_track_ref_json(snap, k, pic.names)], "zone_id": inc.zone_id,
            "zone_name": pic.zones[inc.zone_id].name, "inside_now": inc.inside_now,
            "time_in": format_time(pic.at + timedelta(seconds=inc.t_in)),
            "time_out": format_time(pic.at + timedelta(seconds=inc.t_out)),
            "t_in_s": round(inc.t_in, 1),
        })  # fmt: skip
    alerts.sort(key=lambda a: (a["t_in_s"], a["rule"]))
    idx = np.nonzero(visible)[0]
    horizon = np.full(len(idx), pic.minima.lookahead_s)
    plat, plon, palt = position_at(t, idx, horizon)
    tracks = [
        {
            **_track_ref_json(snap, int(k), pic.names),
            "time": format_time(datetime.fromtimestamp(int(snap.t_ms[k]) / 1000, tz=pic.at.tzinfo)),
            "lat": round(float(t.lat[k]), 6), "lon": round(float(t.lon[k]), 6),
            "altitude_m": round(float(t.alt[k]), 1), "ground_speed_mps": round(float(t.gs[k]), 1),
            "track_deg": round(float(t.trk[k]), 1), "vertical_rate_mps": round(float(t.vs[k]), 2),
            "predicted": {"in_s": pic.minima.lookahead_s, "lat": round(float(plat[n]), 6),
                          "lon": round(float(plon[n]), 6), "altitude_m": round(float(palt[n]), 1)},
        }
        for n, k in enumerate(idx)
    ]  # fmt: skip
    return {"at": format_time(pic.at), "tracks": tracks, "alerts": alerts}


def _track_ref_json(snap: Snapshot, k: int, names: dict[str, str]) -> dict[str, Any]:
    return {"owner": {"id": snap.party_ids[k], "name": names.get(snap.party_ids[k])}, "track_id": snap.track_ids[k],
            "callsign": snap.callsigns[k], "kind": snap.kinds[k], "activity_id": snap.activity_ids[k]}


def picture(uow: UnitOfWork, policy: TrackPolicy, caller: Party, det: Detector) -> dict[str, Any]:
    """The caller's view of the latest picture (computed now if no cycle has run yet)."""
    require(caller, "track.read")
    pic = det.picture
    if pic is None:
        with uow:
            pic = snapshot_picture(uow, policy, uow.clock())
    mine = [zid for zid, z in pic.zones.items() if caller.id in z.party_ids]  # accepted responsibilities
    return view(pic, caller, policy, mine)
