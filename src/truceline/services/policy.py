"""The numbers services work with, built from settings by the app factory (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass, field

from truceline.domain.cells import DEFAULT_RESOLUTION
from truceline.domain.conflicts import Margins
from truceline.domain.geometry import GeometryLimits


@dataclass(frozen=True)
class Policy:
    margins: Margins = field(default_factory=Margins)
    limits: GeometryLimits = field(default_factory=GeometryLimits)
    resolution: int = DEFAULT_RESOLUTION
    max_volumes: int = 100
