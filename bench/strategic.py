"""Strategic deconfliction benchmark: time ``notify`` through the full service path.

Fills a store with N random activities and M zones over a theatre-sized region (a 640 km x 555 km
box over Syria and its borders; windows of 1-6 h spread over one week). Activities: 70 % circles of
0.3-5 km radius, 20 % rectangles up to 11 km, 10 % corridors of 5-40 km; ground kinds at 0-1.5 km,
air and fires in random bands between 0.5 and 15 km. Zones: 80 % protected sites and crossings of
0.2-3 km radius, 15 % buffers, restricted and no-fly areas of 3-20 km, 5 % de-escalation zones
20-60 km across; 80 % in force. Then it times
``services.activities.notify`` for new random activities: validation, cell covering, candidate
search, exact checks, persistence and commit, each in its own transaction. It prints p50/p95/p99
and writes them as JSON.

    python bench/strategic.py --activities 100000 --zones 2000 --json bench/results/strategic-100k.json

The fill writes activities through the same repository as notify, in large transactions and
without running detection among the filled activities (filling 1M through notify would take
hours). Timed notifies do run detection against everything stored.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from truceline.adapters.db import WalCheckpointer, make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.api.app import settle_heap
from truceline.domain.model import ActivityKind
from truceline.services import activities, parties, zones
from truceline.services.policy import Policy

REGION = (35.5, 32.3, 42.5, 37.3)  # lon/lat box
WEEK_START = datetime(2017, 7, 10, tzinfo=UTC)
KINDS = [k.value for k in ActivityKind]
AIR = {"air", "fires"}


def _t(t: datetime) -> dict[str, str]:
    return {"value": t.isoformat().replace("+00:00", "Z"), "format": "RFC3339"}


def _alt(v: float) -> dict[str, Any]:
    return {"value": round(v, 1), "reference": "W84", "units": "M"}


def random_activity(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(KINDS)
    lon = rng.uniform(REGION[0], REGION[2])
    lat = rng.uniform(REGION[1], REGION[3])
    start = WEEK_START + timedelta(minutes=rng.randint(0, 7 * 24 * 60))
    end = start + timedelta(minutes=rng.randint(60, 360))
    if kind in AIR:
        lo = rng.uniform(500, 12_000)
        hi = lo + rng.uniform(300, 3_000)
    else:
        lo, hi = 0.0, rng.uniform(800, 1_500)
    shape = rng.random()
    if shape < 0.7:
        outline: dict[str, Any] = {
            "outline_circle": {
                "center": {"lat": lat, "lng": lon},
                "radius": {"value": rng.uniform(300, 5_000), "units": "M"},
            }
        }
    elif shape < 0.9:
        dx, dy = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05)
        verts = [(lon - dx, lat - dy), (lon + dx, lat - dy), (lon + dx, lat + dy), (lon - dx, lat + dy)]
        outline = {"outline_polygon": {"vertices": [{"lat": y, "lng": x} for x, y in verts]}}
    else:
        length = rng.uniform(0.05, 0.35)
        ang = rng.uniform(0, 2 * math.pi)
        line = {
            "type": "LineString",
            "coordinates": [[lon, lat], [lon + length * math.cos(ang), lat + length * math.sin(ang)]],
        }
        outline = {"outline_corridor": {"line": line, "half_width_m": rng.uniform(200, 1_000)}}
    return {
        "kind": kind,
        "title": "bench",
        "volumes": [
            {
                "volume": {**outline, "altitude_lower": _alt(lo), "altitude_upper": _alt(hi)},
                "time_start": _t(start),
                "time_end": _t(end),
            }
        ],
    }


def random_zone(rng: random.Random, i: int) -> dict[str, Any]:
    """A zone list as a theatre has one: mostly small protected sites and crossings (the no-strike
    list: hospitals, schools, water works), some buffers and restricted areas, a few large zones."""
    lon = rng.uniform(REGION[0], REGION[2])
    lat = rng.uniform(REGION[1], REGION[3])
    sign = "final" if rng.random() < 0.8 else rng.choice([None, "in_principle"])  # 80 % end up in force
    base: dict[str, Any] = {"name": f"zone {i}", "sign": sign, "effective_from": "2017-07-01T00:00:00Z"}
    r = rng.random()
    if r < 0.80:
        kind = rng.choice(["protected_site", "protected_site", "protected_site", "crossing"])
        return {
            **base,
            "kind": kind,
            "forbidden_kinds": ["fires", "air"],
            "standoff_m": rng.choice([0, 200, 500]),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "radius_m": rng.uniform(200, 3_000),
        }
    if r < 0.95:
        kind = rng.choice(["buffer", "restricted", "no_fly"])
        forbidden = {"buffer": ["fires", "ground"], "restricted": ["ground", "fires"], "no_fly": ["air"]}[kind]
        return {
            **base,
            "kind": kind,
            "forbidden_kinds": forbidden,
            "standoff_m": rng.choice([0, 1_000]),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "radius_m": rng.uniform(3_000, 20_000),
        }
    d = rng.uniform(0.1, 0.3)
    ring = [[lon - d, lat - d], [lon + d, lat - d * 0.7], [lon + d * 1.1, lat + d], [lon - d * 0.8, lat + d * 0.9]]
    return {
        **base,
        "kind": "de_escalation",
        "forbidden_kinds": ["fires", "air", "ground"],
        "standoff_m": 0,
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }


def fill(engine: Any, policy: Policy, owners: list[Any], n: int, m: int, rng: random.Random) -> float:
    t0 = time.perf_counter()
    for i in range(m):
        owner = owners[i % len(owners)]
        body = random_zone(rng, i)
        sign = body.pop("sign")
        z = zones.create(SqlUnitOfWork(engine, write=True), policy, owner, body).zone
        if sign:  # the owner is the only signatory: a final signature puts the zone in force
            zones.take_position(
                SqlUnitOfWork(engine, write=True), policy, owner, z.id, {"revision": 1, "strength": sign}
            )
    batch = 5_000
    done = 0
    while done < n:
        with SqlUnitOfWork(engine, write=True) as uow:
            for _ in range(min(batch, n - done)):
                owner = rng.choice(owners)
                prepared = activities.prepare(random_activity(rng), policy)
                uow.activities.add(prepared.activity(owner.id, WEEK_START), prepared.covering.stored)
                done += 1
            uow.commit()
        if done % 50_000 == 0 or done == n:
            rate = done / (time.perf_counter() - t0)
            print(f"  filled {done:,} activities ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    with engine.begin() as c:  # committed: statistics written in a transaction that rolls back are lost
        c.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--activities", type=int, default=10_000, help="activities in the store before timing")
    ap.add_argument("--zones", type=int, default=200, help="zones in the store")
    ap.add_argument("--notify", type=int, default=1_000, help="timed notifications")
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="do not fill: time against the store at --db as it is")
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)

    tmp = None
    if args.db is None:
        tmp = tempfile.mkdtemp(prefix="truceline-bench-")
        args.db = f"sqlite:///{tmp}/bench.db"
    engine = make_engine(args.db)
    upgrade(engine)
    policy = Policy()
    rng = random.Random(args.seed)
    names = [f"bench party {i}" for i in range(10)]
    existing = {p.name: p for p in parties.list_parties(SqlUnitOfWork(engine))}
    owners = [
        existing.get(n) or parties.add(SqlUnitOfWork(engine, write=True), name=n, role="officer")[0] for n in names
    ]

    fill_s = 0.0
    if not args.reuse:
        print(f"filling {args.activities:,} activities and {args.zones:,} zones ...", file=sys.stderr, flush=True)
        fill_s = fill(engine, policy, owners, args.activities, args.zones, rng)

    checkpointer = WalCheckpointer(engine).start()  # as the server runs it
    zones.warm(SqlUnitOfWork(engine))  # as the server does at start
    settle_heap()  # likewise
    bodies = [(rng.choice(owners), random_activity(rng)) for _ in range(args.notify)]
    for owner, body in bodies[:20]:  # warm caches (frames, zone cache, prepared statements)
        activities.notify(SqlUnitOfWork(engine, write=True), policy, owner, body)
    times: list[float] = []
    conflicts: list[int] = []
    for owner, body in bodies:
        t0 = time.perf_counter()
        r = activities.notify(SqlUnitOfWork(engine, write=True), policy, owner, body)
        times.append((time.perf_counter() - t0) * 1000)
        conflicts.append(len(r.conflicts))
    quiet = [t for t, c in zip(times, conflicts, strict=True) if c == 0]
    size_mb = None
    if args.db.startswith("sqlite:///"):
        path = args.db[len("sqlite:///") :]
        size_mb = round(os.path.getsize(path) / 1e6, 1) if os.path.exists(path) else None
    result = {
        "benchmark": "strategic.notify",
        "database": engine.dialect.name,
        "activities": args.activities,
        "zones": args.zones,
        "timed_notifications": args.notify,
        "cell_resolution": policy.resolution,
        "notify_ms": {
            "p50": round(pct(times, 50), 3),
            "p95": round(pct(times, 95), 3),
            "p99": round(pct(times, 99), 3),
            "mean": round(statistics.fmean(times), 3),
            "max": round(max(times), 3),
        },
        "conflicts_per_notify": round(statistics.fmean(conflicts), 3),
        # Cost grows with the conflicts a notification finds (each is computed, stored and returned);
        # notifications that found none show the index's own scaling with the store's size.
        "notify_ms_without_conflicts": {
            "count": len(quiet),
            "p50": round(pct(quiet, 50), 3) if quiet else None,
            "p99": round(pct(quiet, 99), 3) if quiet else None,
        },
        "fill_seconds": round(fill_s, 1),
        "db_size_mb": size_mb,
        "cpu_count": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(),
    }
    n = result["notify_ms"]
    q = result["notify_ms_without_conflicts"]
    print(
        f"{'database':<10} {'activities':>11} {'zones':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'mean ms':>8} {'conflicts/notify':>17} {'p50 ms, none found':>19}"
    )
    print(
        f"{result['database']:<10} {args.activities:>11,} {args.zones:>6,} {n['p50']:>8.2f} {n['p95']:>8.2f} "
        f"{n['p99']:>8.2f} {n['mean']:>8.2f} {result['conflicts_per_notify']:>17.2f} "
        f"{q['p50'] if q['p50'] is not None else float('nan'):>19.2f}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    checkpointer.stop()
    engine.dispose()
    if tmp is not None:  # a store of our own making: hundreds of MB at 100k
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
