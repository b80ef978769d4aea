"""Tactical detection benchmark: Truceline's detector against BlueSky's compiled state-based detection
(``CSTATEBASED``, bluesky-simulator 1.1.1) on the same random traffic, plus the full cycle from the
store and HTTP ingest.

Traffic: N aircraft uniformly in a square box (default 500 km) centred on 34°N 38°E; ground speed
100-250 m/s, any heading; altitude 1,000-12,000 m; 20 % climbing or descending at up to 15 m/s.
Minima 5 NM / 1,000 ft, look-ahead 300 s (BlueSky's defaults). Both detectors see the same arrays;
the unique conflict-pair sets must be identical. Times are medians of repeated runs after a warm-up
(numba compiles on first use).

    pip install -e '.[bench]'
    python bench/tactical.py --n 10000 --json bench/results/tactical-10k.json
    python bench/tactical.py --n 100000 --box-km 4000 --no-bluesky --cycle --ingest 200000 \\
        --json bench/results/tactical-100k.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from serving import free_port, wait_healthy
from truceline.domain.tactical import Minima, Traffic, detect

LAT0, LON0 = 34.0, 38.0


def traffic(n: int, box_km: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    half = box_km / 2 / 111.2
    lat = LAT0 + rng.uniform(-half, half, n)
    lon = LON0 + rng.uniform(-half, half, n) / np.cos(np.radians(LAT0))
    return {
        "lat": lat,
        "lon": lon,
        "gs": rng.uniform(100, 250, n),
        "trk": rng.uniform(0, 360, n),
        "alt": rng.uniform(1000, 12000, n),
        "vs": np.where(rng.random(n) < 0.2, rng.uniform(-15, 15, n), 0.0),
    }


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bluesky_pairs(tr: dict[str, np.ndarray], m: Minima, repeat: int) -> tuple[float, set[tuple[int, int]]]:
    from bluesky.traffic.asas import cstatebased  # type: ignore[import-not-found]

    n = len(tr["lat"])
    own = types.SimpleNamespace(**tr, id=[str(i) for i in range(n)], ntraf=n)
    rpz, hpz, tl = np.full(n, m.horizontal_m), np.full(n, m.vertical_m), np.full(n, m.lookahead_s)
    seconds, res = timed(lambda: cstatebased.detect(own, own, rpz, hpz, tl), repeat)
    return seconds, {(min(int(a), int(b)), max(int(a), int(b))) for a, b in res[0]}


def cycle_from_store(tr: dict[str, np.ndarray], parties: int) -> dict[str, float]:
    """Store the traffic as tracks of ``parties`` parties, then time one full cycle's reading and
    detection (snapshot, extrapolation, separation, incursions) and a steady-state cycle."""
    from truceline.adapters.db import make_engine
    from truceline.adapters.migrate import upgrade
    from truceline.adapters.unit_of_work import SqlUnitOfWork
    from truceline.domain.tracks import TrackReport
    from truceline.services import parties as party_service
    from truceline.services import tracks
    from truceline.services.policy import Policy

    d = tempfile.mkdtemp(prefix="truceline-tactical-")
    engine = make_engine(f"sqlite:///{d}/bench.db")
    upgrade(engine)
    now = datetime(2017, 7, 10, 6, tzinfo=UTC)
    owners = [party_service.add(SqlUnitOfWork(engine, write=True), name=f"P{i}", role="officer")[0]
              for i in range(parties)]
    n = len(tr["lat"])
    reports = [
        TrackReport(owners[k % parties].id, f"t{k}", f"T{k}", now, float(tr["lat"][k]), float(tr["lon"][k]),
                    float(tr["alt"][k]), float(tr["gs"][k]), float(tr["trk"][k]), float(tr["vs"][k]))
        for k in range(n)
    ]
    with SqlUnitOfWork(engine, write=True) as u:
        u.tracks.save(reports)
        u.commit()
    policy, tp, det = Policy(), tracks.TrackPolicy(), tracks.Detector()
    clock = lambda: now + timedelta(seconds=1)  # noqa: E731

    def uow(write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, write=write, clock=clock)

    with uow(False) as u:
        t0 = time.perf_counter()
        pic = tracks.snapshot_picture(u, tp, clock())
        read_detect = time.perf_counter() - t0
    t0 = time.perf_counter()
    tracks.cycle(uow, policy, tp, det)
    first = time.perf_counter() - t0  # opens every conflict and posts every alert
    t0 = time.perf_counter()
    tracks.cycle(uow, policy, tp, det)
    steady = time.perf_counter() - t0
    return {"snapshot_and_detect_s": read_detect, "first_cycle_s": first, "steady_cycle_s": steady,
            "pairs": float(len(pic.pairs)), "incursions": float(len(pic.incursions))}


def ingest_over_http(total: int, batch: int, clients: int) -> dict[str, float]:
    """Start a server on loopback and POST ``total`` NDJSON reports in batches from ``clients`` threads."""
    import concurrent.futures

    import httpx

    d = tempfile.mkdtemp(prefix="truceline-ingest-")
    db = f"sqlite:///{d}/ingest.db"
    exe = str(Path(sys.executable).parent / "truceline")
    out = subprocess.run([exe, "party", "add", "Bench", "--role", "officer", "--db", db, "--json"],
                         capture_output=True, text=True, check=True)
    token = json.loads(out.stdout)["token"]
    port = free_port()
    env = {**os.environ, "TRUCELINE_TRACK_CYCLE_SECONDS": "3600", "TRUCELINE_AUDIT_KEY_FILE": f"{d}/audit.key"}
    proc = subprocess.Popen([exe, "serve", "--db", db, "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, 30.0):
            raise SystemExit("the server did not start")
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        rng = np.random.default_rng(1)
        bodies = []
        for b in range(0, total, batch):
            lines = [
                json.dumps({"track_id": f"t{(b + k) % 20000}", "time": now, "lat": float(rng.uniform(32, 37)),
                            "lon": float(rng.uniform(36, 42)), "altitude_m": 5000.0, "ground_speed_mps": 200.0,
                            "track_deg": 90.0})
                for k in range(min(batch, total - b))
            ]
            bodies.append("\n".join(lines).encode())
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        with httpx.Client(timeout=60) as warm:
            warm.post(f"{url}/v1/tracks", content=bodies[0], headers=headers).raise_for_status()

        def send(body: bytes) -> int:
            with httpx.Client(timeout=120) as c:
                r = c.post(f"{url}/v1/tracks", content=body, headers=headers)
                r.raise_for_status()
                return int(r.json()["accepted"])

        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            accepted = sum(pool.map(send, bodies))
        seconds = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"reports": float(accepted), "seconds": seconds, "reports_per_s": accepted / seconds,
            "batch": float(batch), "clients": float(clients)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="aircraft")
    ap.add_argument("--box-km", type=float, default=500.0, help="side of the square they fly in")
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of Truceline's detector (median)")
    ap.add_argument("--bluesky-repeat", type=int, default=3)
    ap.add_argument("--no-bluesky", action="store_true", help="skip BlueSky (it is O(n²): minutes at 100k)")
    ap.add_argument("--cycle", action="store_true", help="also time a full cycle from a SQLite store")
    ap.add_argument("--ingest", type=int, default=0, help="also time HTTP ingest of this many reports")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    m = Minima()
    tr = traffic(a.n, a.box_km, a.seed)
    t = Traffic.of(tr["lat"], tr["lon"], tr["gs"], tr["trk"], tr["alt"], tr["vs"])
    detect(t, m)  # warm-up: numba compiles (or loads its cache)
    ours_s, pairs = timed(lambda: detect(t, m), a.repeat)
    res: dict[str, Any] = {"n": a.n, "box_km": a.box_km, "seed": a.seed, "truceline_s": ours_s,
                           "pairs": len(pairs), "cpus": os.cpu_count()}
    print(f"{a.n:,} aircraft in a {a.box_km:g} km box: Truceline {ours_s * 1000:.1f} ms, {len(pairs):,} pairs")
    if not a.no_bluesky:
        bs_s, bs_pairs = bluesky_pairs(tr, m, a.bluesky_repeat)
        same = bs_pairs == pairs.keys()
        res.update(bluesky_s=bs_s, bluesky_pairs=len(bs_pairs), identical=same, speedup=bs_s / ours_s)
        print(f"BlueSky CSTATEBASED {bs_s:.3f} s, {len(bs_pairs):,} pairs; identical: {same}; "
              f"Truceline is {bs_s / ours_s:.0f}x faster")
        if not same:
            print(f"  only BlueSky: {sorted(bs_pairs - pairs.keys())[:10]}  only ours: "
                  f"{sorted(pairs.keys() - bs_pairs)[:10]}")
    if a.cycle:
        c = cycle_from_store(tr, parties=8)
        res["cycle"] = c
        print(f"cycle from the store: snapshot+detect {c['snapshot_and_detect_s']:.3f} s; first cycle (opens "
              f"{c['pairs']:.0f} conflicts) {c['first_cycle_s']:.2f} s; steady cycle {c['steady_cycle_s']:.3f} s")
    if a.ingest:
        ing = ingest_over_http(a.ingest, batch=5_000, clients=2)
        res["ingest"] = ing
        print(f"HTTP ingest: {ing['reports']:,.0f} reports in {ing['seconds']:.2f} s = "
              f"{ing['reports_per_s']:,.0f} reports/s")
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (this process): {res['peak_rss_mib']:.0f} MiB")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0 if res.get("identical", True) else 1


if __name__ == "__main__":
    sys.exit(main())
