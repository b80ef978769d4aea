"""The rules' edges, as data: each case states whether it must conflict."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from shapely import affinity
from shapely.geometry import box

from tests.helpers import T0, make_activity, make_zone
from truceline.domain import geometry as geo
from truceline.domain.conflicts import Margins, check_overlap, check_zone, conflict_id, find, overlap_key, zone_key
from truceline.domain.model import ActivityKind, ActivityStatus, AltitudeBand, TimeWindow, ZoneStatus

BASE = box(36.0, 33.0, 36.05, 33.05)
H = timedelta(hours=1)


def east_of(shape: object, gap_m: float) -> object:
    frame = geo.frame_for(shape)  # type: ignore[arg-type]
    local = frame.to_local(geo.densify(shape))  # type: ignore[arg-type]
    return frame.to_lonlat(affinity.translate(local, xoff=local.bounds[2] - local.bounds[0] + gap_m))


OVERLAP_CASES = [
    # (label, other's gap east in m, other's band, other's window, same party, must_conflict)
    ("same place and time", -1e9, (0, 1000), (0, 6), False, True),
    ("999 m apart", 999, (0, 1000), (0, 6), False, True),
    ("1001 m apart", 1001, (0, 1000), (0, 6), False, False),
    ("vertical gap 150 m", -1e9, (1150, 2000), (0, 6), False, True),
    ("vertical gap 151 m", -1e9, (1151, 2000), (0, 6), False, False),
    ("touching end to start", -1e9, (0, 1000), (6, 8), False, False),
    ("one hour overlap", -1e9, (0, 1000), (5, 8), False, True),
    ("same party", -1e9, (0, 1000), (0, 6), True, False),
]


@pytest.mark.parametrize(
    ("label", "gap", "band", "hours", "same", "must"), OVERLAP_CASES, ids=[c[0] for c in OVERLAP_CASES]
)
def test_overlap_rule(
    label: str, gap: float, band: tuple[float, float], hours: tuple[int, int], same: bool, must: bool
) -> None:
    a = make_activity(BASE, party="A", window=TimeWindow(T0, T0 + 6 * H))
    shape = BASE if gap < -1e8 else east_of(BASE, gap)
    b = make_activity(
        shape,
        party="A" if same else "B",
        band=AltitudeBand(*band),
        window=TimeWindow(T0 + hours[0] * H, T0 + hours[1] * H),
    )
    d = check_overlap(a, b, Margins(1000, 150))
    assert d.conflict is must, d.reason
    assert d.reason  # every decision says why
    assert d.key == overlap_key(b.id, a.id)  # the same conflict whichever side asks
    if must:
        r = d.regions[0]
        assert r.window.start >= T0 and r.geometry.area > 0


ZONE_CASES = [
    # (label, standoff, activity gap east of zone, kind, zone status, must)
    ("inside, forbidden kind", 0, None, ActivityKind.ground, ZoneStatus.in_force, True),
    ("inside, allowed kind", 0, None, ActivityKind.humanitarian_convoy, ZoneStatus.in_force, False),
    ("inside, zone agreed in principle", 0, None, ActivityKind.ground, ZoneStatus.agreed_in_principle, False),
    ("inside, zone suspended", 0, None, ActivityKind.ground, ZoneStatus.suspended, False),
    ("outside, within standoff", 2000, 1500, ActivityKind.ground, ZoneStatus.in_force, True),
    ("outside, beyond standoff", 2000, 2500, ActivityKind.ground, ZoneStatus.in_force, False),
    ("touching the boundary, no standoff", 0, 0, ActivityKind.ground, ZoneStatus.in_force, True),
]


@pytest.mark.parametrize(
    ("label", "standoff", "gap", "kind", "status", "must"), ZONE_CASES, ids=[c[0] for c in ZONE_CASES]
)
def test_zone_rule(
    label: str, standoff: float, gap: float | None, kind: ActivityKind, status: ZoneStatus, must: bool
) -> None:
    zone = make_zone(BASE, standoff=standoff, status=status)
    shape = box(36.01, 33.01, 36.02, 33.02) if gap is None else east_of(BASE, gap)
    a = make_activity(shape, kind=kind)
    d = check_zone(a, zone)
    assert d.conflict is must, d.reason
    assert d.reason


def test_zone_rule_needs_time_and_altitude() -> None:
    zone = make_zone(BASE, band=AltitudeBand(0, 500), window=TimeWindow(T0 + 10 * H, None))
    inside = box(36.01, 33.01, 36.02, 33.02)
    early = make_activity(inside, window=TimeWindow(T0, T0 + 10 * H))
    assert not check_zone(early, zone).conflict
    assert "time window" in check_zone(early, zone).reason
    high = make_activity(inside, window=TimeWindow(T0 + 10 * H, T0 + 12 * H), band=AltitudeBand(600, 900))
    assert not check_zone(high, zone).conflict
    assert "altitude" in check_zone(high, zone).reason
    ok = make_activity(inside, window=TimeWindow(T0 + 9 * H, T0 + 12 * H), band=AltitudeBand(500, 900))
    d = check_zone(ok, zone)
    assert d.conflict
    assert d.regions[0].window.start == T0 + 10 * H  # the region starts when the zone does


def test_cancelled_activity_conflicts_with_nothing() -> None:
    a = make_activity(BASE, party="A")
    b = make_activity(BASE, party="B")
    b.status = ActivityStatus.cancelled
    assert not check_overlap(a, b, Margins()).conflict
    assert not check_zone(b, make_zone(BASE)).conflict


def test_find_decides_every_candidate_and_skips_itself() -> None:
    a = make_activity(BASE, party="A")
    others = [make_activity(BASE, party="B"), make_activity(east_of(BASE, 50_000), party="C"), a]
    zones = [make_zone(BASE), make_zone(BASE, forbidden=frozenset())]
    decisions = find(a, zones=zones, activities=others)
    assert len(decisions) == 4
    assert [d.conflict for d in decisions] == [True, False, True, False]
    assert len({d.conflict_id for d in decisions}) == 4
    assert conflict_id(decisions[0].key) == decisions[0].conflict_id


def _v7(ms: int) -> str:
    """A version 7 id made at ``ms`` (as ``new_id`` makes them)."""
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | 0x2 << 62 | 0x123456789ABCDEF))


def test_conflict_ids_follow_the_newest_activity_in_time() -> None:
    older, newer, zone = _v7(1_500_000_000_000), _v7(1_500_000_000_999), _v7(1_400_000_000_000)
    key = overlap_key(older, newer)
    assert key == overlap_key(newer, older) == f"overlap:{newer}:{older}"  # the newer first
    cid = uuid.UUID(conflict_id(key))
    assert cid.version == 8 and cid.variant == uuid.RFC_4122
    assert cid.int >> 80 == 1_500_000_000_999  # the newer activity's time leads
    assert conflict_id(key) == str(cid)  # derived, so re-checks find it again
    # Conflicts that come with later activities sort later, whatever else their keys hold.
    later = [conflict_id(zone_key(_v7(1_500_000_000_000 + i), zone)) for i in range(0, 50_000, 997)]
    assert later == sorted(later) and len(set(later)) == len(later)
    # Keys without time-ordered ids still get distinct, stable version 8 ids.
    plain = [conflict_id(overlap_key(str(uuid.uuid4()), str(uuid.uuid4()))) for _ in range(100)]
    assert len(set(plain)) == 100 and {uuid.UUID(c).version for c in plain} == {8}
    assert conflict_id(key + "x") != conflict_id(key)


def test_projections_kept_across_calls_change_no_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate's footprint projected for one ``find`` is reused by the next (the store hands back
    the same object); decisions must be the same as with nothing kept, and the store bounded."""
    from truceline.domain import conflicts as conflictmod

    subjects = [make_activity(east_of(BASE, gap), party="A") for gap in (-1e9, 500, 1500, 30_000)]
    others = [make_activity(east_of(BASE, gap), party="B") for gap in (-1e9, 900, 1100, 20_000)]
    zones = [make_zone(east_of(BASE, 800))]

    def decide() -> list[tuple[str, bool, str]]:
        out = []
        for s in subjects:
            out += [(d.conflict_id, d.conflict, d.reason) for d in find(s, zones=zones, activities=others)]
        return out

    conflictmod._projected.clear()
    cold = decide()
    assert conflictmod._projected
    assert decide() == cold
    # An entry under a footprint's id is only ever used for that very object.
    frame = geo.frame_for(subjects[0].volumes[0].footprint)
    stranger = others[0].volumes[0].footprint
    key = (frame.lon0, frame.lat0, id(stranger))
    conflictmod._projected.put(key, (box(0, 0, 1, 1), box(0, 0, 1, 1)), 0)
    assert decide() == cold
    monkeypatch.setattr(conflictmod._projected, "budget", 200)
    conflictmod._projected.clear()
    assert decide() == cold
    assert sum(len(local.exterior.coords) for _, local in conflictmod._projected.values()) <= 200
