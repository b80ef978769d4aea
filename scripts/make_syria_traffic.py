"""Generate the syria-2017 scenario's recorded traffic (``src/truceline/scenarios/syria_2017_traffic.ndjson``).

Six minutes of position reports every 10 s from 10 July 2017 06:00Z: background flights of several
parties spread over the region, plus two encounters the demo should show:
- a US and a Russian aircraft head-on over the Euphrates valley near Deir ez-Zor at FL250, offset
  1 NM (the 2015 air-safety arrangement was about exactly this): a predicted loss of separation;
- a Syrian Arab Air Force jet flying south into the southwest de-escalation zone, in force from
  9 July 2017 and closed to air activity (seeds 000, 003): a predicted incursion.
The background flights are drawn until none of them conflicts with another, so those two are the
encounters. Deterministic (seeded): run it again and the file is the same.

    python scripts/make_syria_traffic.py
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from truceline.domain.tactical import RE, Traffic, detect

START = datetime(2017, 7, 10, 6, 0, tzinfo=UTC)
STEP_S, STEPS = 10, 37
OUT = Path(__file__).resolve().parent.parent / "src/truceline/scenarios/syria_2017_traffic.ndjson"
OPERATORS = [
    ("United States", "USAF"), ("Russian Federation", "RFAF"), ("Syrian Arab Republic", "SYAF"),
    ("Turkey", "TUAF"), ("Jordan", "RJAF"), ("Israel", "IAF"), ("World Food Programme", "WFP"),
]  # fmt: skip


def flight(party: str, callsign: str, lat: float, lon: float, alt: float, gs: float, trk: float) -> dict:
    return {"party": party, "callsign": callsign, "lat": lat, "lon": lon, "alt": alt, "gs": gs, "trk": trk}


def encounters() -> list[dict]:
    lat = 35.2  # over the Euphrates near Deir ez-Zor
    off = math.degrees(1852 / RE)
    half = math.degrees(40_000 / (RE * math.cos(math.radians(lat))))
    return [
        flight("United States", "USAF21", lat, 40.0 - half, 7620.0, 220.0, 90.0),
        flight("Russian Federation", "RFAF07", lat + off, 40.0 + half, 7620.0, 220.0, 270.0),
        flight("Syrian Arab Republic", "SYAF14", 33.62, 36.05, 4500.0, 230.0, 180.0),
    ]


def background(rng: random.Random, n: int) -> list[dict]:
    out = []
    for k in range(n):
        party, prefix = OPERATORS[k % len(OPERATORS)]
        out.append(flight(party, f"{prefix}{100 + k}", rng.uniform(32.4, 37.0), rng.uniform(38.0, 42.0),
                          rng.choice([3000.0, 4500.0, 6000.0, 7500.0, 9000.0, 10500.0]) + rng.uniform(-50, 50),
                          rng.uniform(120.0, 240.0), rng.uniform(0.0, 360.0)))
    return out


def conflicts(flights: list[dict]) -> set[tuple[int, int]]:
    groups = {p: i for i, (p, _) in enumerate(OPERATORS)}
    t = Traffic.of(*(np.array([f[k] for f in flights]) for k in ("lat", "lon", "gs", "trk", "alt")),
                   np.zeros(len(flights)), np.array([groups[f["party"]] for f in flights]))
    return detect(t).keys()


def main() -> None:
    rng = random.Random(2017)
    enc = encounters()
    while True:
        flights = enc + background(rng, 27)
        if conflicts(flights) == {(0, 1)}:
            break
    lines = []
    for step in range(STEPS):
        dt = step * STEP_S
        for f in flights:
            trk = math.radians(f["trk"])
            lat = f["lat"] + math.degrees(f["gs"] * math.cos(trk) * dt / RE)
            lon = f["lon"] + math.degrees(f["gs"] * math.sin(trk) * dt / (RE * math.cos(math.radians(f["lat"]))))
            lines.append({
                "party": f["party"], "track_id": f["callsign"].lower(), "callsign": f["callsign"],
                "time": (START + timedelta(seconds=dt)).isoformat().replace("+00:00", "Z"),
                "lat": round(lat, 6), "lon": round(lon, 6), "altitude_m": round(f["alt"], 1),
                "ground_speed_mps": round(f["gs"], 1), "track_deg": round(f["trk"], 1), "vertical_rate_mps": 0.0,
                "kind": "air",
            })  # fmt: skip
    OUT.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines), encoding="utf-8")
    print(f"wrote {len(lines)} reports of {len(flights)} aircraft to {OUT}")


if __name__ == "__main__":
    main()
