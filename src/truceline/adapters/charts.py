"""Charts and maps drawn with matplotlib, offline, as PNG or SVG bytes (no pyplot: no global state, safe
in server threads)."""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from truceline.web import STATIC

#: Natural Earth country borders (1:50m) from the npm ``world-atlas`` package, copied in by ``make assets``.
WORLD_ATLAS = STATIC / "vendor" / "world-atlas" / "countries-50m.json"

STATUS_COLOURS = {"holding": "#2e7d32", "strained": "#f9a825", "broken": "#c62828", "not_in_force": "#bdbdbd"}
TYPE_COLOURS = {
    "Battles": "#b71c1c",
    "Explosions/Remote violence": "#e65100",
    "Violence against civilians": "#6a1b9a",
    "Protests": "#1565c0",
    "Riots": "#00838f",
    "Strategic developments": "#546e7a",
}
ZONE_COLOURS = {
    "de_escalation": "#1e88e5",
    "buffer": "#8e24aa",
    "safe": "#43a047",
    "no_fly": "#e53935",
    "protected_site": "#fb8c00",
    "crossing": "#00897b",
    "restricted": "#6d4c41",
}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _bytes(fig: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


@dataclass(frozen=True)
class DayBar:
    day: date
    status: str
    by_type: dict[str, int]
    fatalities: int
    verified: int


def ceasefire_chart(title: str, days: Sequence[DayBar], fmt: str = "png") -> bytes:
    """Incidents per day stacked by event type, the day's status as a coloured band beneath, and
    verified violations and deaths marked."""
    fig = _figure(10, 4.2)
    ax = fig.add_subplot()
    xs = list(range(len(days)))
    types = [t for t in TYPE_COLOURS if any(d.by_type.get(t) for d in days)]
    bottom = [0] * len(days)
    for t in types:
        hs = [d.by_type.get(t, 0) for d in days]
        ax.bar(xs, hs, bottom=bottom, color=TYPE_COLOURS[t], label=t, width=0.8)
        bottom = [b + h for b, h in zip(bottom, hs, strict=True)]
    top = max([*bottom, 1])
    band = top * 0.08
    for x, d in zip(xs, days, strict=True):
        ax.add_patch(_rect(x - 0.5, -band * 1.6, 1.0, band, STATUS_COLOURS.get(d.status, "#bdbdbd")))
        if d.verified:
            ax.text(x, bottom[x] + top * 0.02, f"{d.verified} verified", ha="center", va="bottom", fontsize=7)
    ax.set_ylim(-band * 1.8, top * 1.25)
    ax.set_xlim(-0.6, len(days) - 0.4)
    step = max(1, len(days) // 12)
    ax.set_xticks(xs[::step], [d.day.strftime("%d %b") for d in days][::step], fontsize=8)
    ax.set_ylabel("incidents")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=11)
    ax.axhline(0, color="#616161", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    deaths = [d.fatalities for d in days]
    if any(deaths):
        ax2 = ax.twinx()
        ax2.plot(xs, deaths, color="#212121", marker="o", markersize=3, linewidth=1, label="deaths (best)")
        ax2.set_ylabel("deaths")
        ax2.set_ylim(bottom=0)
        ax2.spines[["top"]].set_visible(False)
    from matplotlib.patches import Patch

    handles = [Patch(color=STATUS_COLOURS[s], label=s.replace("_", " ")) for s in STATUS_COLOURS]
    legend = ax.legend(loc="upper left", fontsize=7, frameon=False, ncols=2)
    ax.add_artist(legend)
    ax.legend(handles=handles, loc="upper right", fontsize=7, frameon=False, title="day status", title_fontsize=7)
    return _bytes(fig, fmt)


def _rect(x: float, y: float, w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, color=colour, linewidth=0)


@dataclass(frozen=True)
class MapZone:
    name: str
    kind: str
    status: str
    rings: list[list[tuple[float, float]]]  # exterior rings, lon/lat


@dataclass(frozen=True)
class MapPoint:
    label: str
    lon: float
    lat: float
    event_type: str
    status: str


def situation_map(
    title: str,
    zones: Sequence[MapZone],
    points: Sequence[MapPoint],
    borders: Sequence[Sequence[tuple[float, float]]] = (),
    fmt: str = "png",
    bbox: tuple[float, float, float, float] | None = None,
) -> bytes:
    """Zones by kind (solid when in force, dashed otherwise) and the day's incidents by type, on
    country borders when given, in an equirectangular frame corrected for latitude."""
    fig = _figure(8, 6.4)
    ax = fig.add_subplot()
    xs = [x for z in zones for r in z.rings for x, _ in r] + [p.lon for p in points]
    ys = [y for z in zones for r in z.rings for _, y in r] + [p.lat for p in points]
    if bbox is None:
        if not xs:
            xs, ys = [35.5, 42.5], [32.3, 37.3]
        pad = 0.15
        w, e, s, n = min(xs), max(xs), min(ys), max(ys)
        dx, dy = max(e - w, 0.5) * pad, max(n - s, 0.5) * pad
        bbox = (w - dx, s - dy, e + dx, n + dy)
    w, s, e, n = bbox
    for line in _clip(borders, bbox):
        ax.plot([x for x, _ in line], [y for _, y in line], color="#9e9e9e", linewidth=0.7, zorder=1)
    from matplotlib.patches import Polygon

    for z in zones:
        colour = ZONE_COLOURS.get(z.kind, "#455a64")
        in_force = z.status == "in_force"
        for ring in z.rings:
            ax.add_patch(
                Polygon(ring, closed=True, facecolor=colour, alpha=0.18 if in_force else 0.06, edgecolor=colour,
                        linestyle="-" if in_force else "--", linewidth=1.2, zorder=2)
            )  # fmt: skip
        if z.rings:
            cx = sum(x for x, _ in z.rings[0]) / len(z.rings[0])
            cy = sum(y for _, y in z.rings[0]) / len(z.rings[0])
            if w <= cx <= e and s <= cy <= n:
                ax.text(cx, cy, z.name, fontsize=7, ha="center", va="center", color="#263238", zorder=4)
    for p in points:
        ax.scatter([p.lon], [p.lat], s=46, color=TYPE_COLOURS.get(p.event_type, "#212121"),
                   edgecolors="white" if p.status != "verified" else "black", linewidths=1.0, zorder=5)  # fmt: skip
        ax.annotate(p.label, (p.lon, p.lat), xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=6)
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_aspect(1 / max(0.2, math.cos(math.radians((s + n) / 2))))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("longitude °E", fontsize=8)
    ax.set_ylabel("latitude °N", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(color="#eeeeee", linewidth=0.5, zorder=0)
    return _bytes(fig, fmt)


@functools.cache
def borders() -> tuple[tuple[tuple[float, float], ...], ...]:
    """Every border and coastline segment of the world atlas as lon/lat lines (empty when the atlas was
    not installed). TopoJSON arcs are delta-encoded on a quantised grid: sum the deltas, then scale."""
    if not WORLD_ATLAS.is_file():
        return ()
    topo = json.loads(WORLD_ATLAS.read_text(encoding="utf-8"))
    (kx, ky), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    lines = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * kx + tx, y * ky + ty))
        lines.append(tuple(pts))
    return tuple(lines)


def _clip(lines: Sequence[Sequence[tuple[float, float]]], bbox: tuple[float, float, float, float]) -> list[Any]:
    w, s, e, n = bbox
    return [ln for ln in lines if any(w - 1 <= x <= e + 1 and s - 1 <= y <= n + 1 for x, y in ln)]
