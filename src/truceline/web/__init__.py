"""What the server serves to browsers and renders for people: static files (front-end packages from
npm, copied in by ``make assets``) and report templates."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
