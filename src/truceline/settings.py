"""Typed settings, read from the environment (``TRUCELINE_*``) by the app factory, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from truceline.domain.conflicts import Margins
from truceline.domain.geometry import GeometryLimits
from truceline.services.policy import Policy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUCELINE_", extra="ignore")

    database_url: str = "sqlite:///./truceline.db"
    host: str = "127.0.0.1"
    port: int = 8080
    overlap_horizontal_m: float = Field(1_000.0, ge=0, le=100_000)
    overlap_vertical_m: float = Field(150.0, ge=0, le=10_000)
    max_vertices: int = Field(10_000, ge=4, le=1_000_000)
    max_area_km2: float = Field(250_000.0, gt=0)
    max_volumes: int = Field(100, ge=1, le=10_000)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    cell_resolution: int = Field(6, ge=3, le=9)
    migrate_on_start: bool = True
    audit_key_file: Path = Path("./truceline-audit.key")
    audit_head_seconds: float = Field(60.0, gt=0, le=60.0)
    zone_clock_seconds: float = Field(5.0, gt=0)

    def policy(self) -> Policy:
        return Policy(
            margins=Margins(self.overlap_horizontal_m, self.overlap_vertical_m),
            limits=GeometryLimits(self.max_vertices, self.max_area_km2),
            resolution=self.cell_resolution,
            max_volumes=self.max_volumes,
        )
