"""Incident import/export benchmark: a million ACLED rows in and out, with memory watched.

Writes N made-up rows with ACLED's exact 31-column header (ACLED's terms forbid redistributing its
rows) spread over Syria and 2017, with zones in force so rows get linked. Then it times, through the
service path a user's ``truceline incidents import``/``export`` runs (CSV parsing, validation, zone
linking, batched transactions, the audit log):

- import of the file into a fresh store;
- a second import of the same file (everything already stored: nothing added);
- export of every record as ACLED CSV.

It samples the process's resident memory every 50 ms during each phase and prints the figures,
and writes them as JSON. Goals: 1,000,000 rows imported in ≤ 60 s and exported in ≤ 30 s, memory
≤ 500 MB.

    python bench/incidents.py --rows 1000000 --json bench/results/incidents-1m.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from truceline.adapters.db import WalCheckpointer, make_engine
from truceline.adapters.incident_store import IncidentFilter
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.incident_formats import ACLED_COLUMNS
from truceline.domain.incidents import EVENT_TYPES
from truceline.services import incidents, parties, zones
from truceline.services.policy import Policy

REGION = (35.7, 32.3, 42.3, 37.2)
TYPES = [(t, s) for t, subs in EVENT_TYPES.items() for s in subs]
ACTORS = [("Military Forces of Syria (2000-)", 1), ("Southern Front", 2), ("Civilians (Syria)", 7),
          ("Military Forces of Russia (2000-)", 8), ("Hezbollah", 3), ("Protesters (Syria)", 6)]  # fmt: skip


def write_rows(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    start = date(2017, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ACLED_COLUMNS)
        for k in range(n):
            event_type, sub = TYPES[k % len(TYPES)]
            a1, i1 = ACTORS[k % 5]
            a2, i2 = ACTORS[(k * 7 + 3) % 6] if k % 3 else ("", 0)
            d = start + timedelta(days=rng.randrange(365))
            w.writerow((
                f"SYR{k + 1}", d.isoformat(), d.year, 1 + k % 3, "", event_type, sub, a1, "", i1, a2, "",
                i2 or "", "", "", 760, "Middle East", "Syria", "Dar'a", "Izra", "", f"Place {k % 5000}",
                f"{rng.uniform(REGION[1], REGION[3]):.4f}", f"{rng.uniform(REGION[0], REGION[2]):.4f}", 1 + k % 3,
                "SOHR; Local media", "Local-National", f"Made-up event {k} for benchmarking.", k % 5, "",
                1_600_000_000 + k,
            ))  # fmt: skip


class Memory:
    """Peak resident set size while a phase runs, sampled from /proc every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(0.05)

    def __enter__(self) -> Memory:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def make_zones(engine: Any, policy: Policy, owner: Any, count: int, rng: random.Random) -> None:
    """De-escalation zones in force since 1 January 2017 (so rows inside them are linked)."""
    clock = lambda: datetime(2017, 1, 1, tzinfo=UTC)  # noqa: E731 - a fixed clock for the history
    for i in range(count):
        lon, lat = rng.uniform(REGION[0], REGION[2]), rng.uniform(REGION[1], REGION[3])
        d = rng.uniform(0.1, 0.4)
        ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
        body = {
            "name": f"zone {i}",
            "kind": "de_escalation",
            "forbidden_kinds": ["fires"],
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "effective_from": "2017-01-01T00:00:00Z",
        }
        z = zones.create(SqlUnitOfWork(engine, write=True, clock=clock), policy, owner, body).zone
        zones.take_position(SqlUnitOfWork(engine, write=True, clock=clock), policy, owner, z.id,
                            {"revision": 1, "strength": "final"})  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--zones", type=int, default=50)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in a temp dir)")
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="truceline-incidents-"))
    db = args.db or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(db)
    upgrade(engine)
    policy = Policy()
    officer, _ = parties.add(SqlUnitOfWork(engine, write=True), name="bench officer", role="officer")
    monitor, _ = parties.add(SqlUnitOfWork(engine, write=True), name="bench monitor", role="monitor")
    make_zones(engine, policy, officer, args.zones, random.Random(args.seed))

    src = tmp / "acled.csv"
    t0 = time.perf_counter()
    write_rows(src, args.rows, args.seed)
    print(f"wrote {args.rows:,} rows ({src.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)  # fmt: skip

    checkpointer = WalCheckpointer(engine).start()

    def run_import() -> tuple[incidents.ImportReport, float, int]:
        with Memory() as mem, src.open(encoding="utf-8", newline="") as f:
            t = time.perf_counter()
            rep = incidents.import_csv(lambda: SqlUnitOfWork(engine, write=True), policy.monitoring, monitor, f,
                                       "acled")  # fmt: skip
            return rep, time.perf_counter() - t, mem.peak

    first, import_s, import_peak = run_import()
    print(f"import: {first.inserted:,} stored, {first.linked:,} zone links, {first.rejected} refused, "
          f"{import_s:.1f} s ({args.rows / import_s:,.0f} rows/s), peak RSS {import_peak / 2**20:.0f} MiB",
          file=sys.stderr)  # fmt: skip
    second, reimport_s, reimport_peak = run_import()
    print(f"re-import: {second.inserted} stored, {second.unchanged:,} unchanged, {reimport_s:.1f} s", file=sys.stderr)

    out = tmp / "export.csv"
    with Memory() as mem, out.open("w", encoding="utf-8", newline="") as f:
        t = time.perf_counter()
        for chunk in incidents.export_csv(SqlUnitOfWork(engine), monitor, IncidentFilter()):
            f.write(chunk)
        export_s = time.perf_counter() - t
    export_peak = mem.peak
    with out.open(encoding="utf-8") as f:
        exported = sum(1 for _ in csv.reader(f)) - 1
    print(f"export: {exported:,} rows, {export_s:.1f} s ({exported / export_s:,.0f} rows/s), "
          f"peak RSS {export_peak / 2**20:.0f} MiB", file=sys.stderr)  # fmt: skip
    checkpointer.stop()

    result = {
        "benchmark": "incidents.import_export",
        "database": engine.dialect.name,
        "rows": args.rows,
        "zones": args.zones,
        "import_seconds": round(import_s, 2),
        "import_rows_per_second": round(args.rows / import_s),
        "import_peak_rss_mib": round(import_peak / 2**20),
        "inserted": first.inserted,
        "zone_links": first.linked,
        "reimport_seconds": round(reimport_s, 2),
        "reimport_inserted": second.inserted,
        "reimport_peak_rss_mib": round(reimport_peak / 2**20),
        "export_seconds": round(export_s, 2),
        "export_rows": exported,
        "export_peak_rss_mib": round(export_peak / 2**20),
        "goals": {"import_seconds": 60, "export_seconds": 30, "peak_rss_mib": 500},
        "cpu_count": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)  # the generated files and, without --db, the store
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
