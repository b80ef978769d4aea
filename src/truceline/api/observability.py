"""What operators watch: a request id on every request and log line, logs as text or one JSON object
per line, and Prometheus metrics (request latency, notifications, conflicts, ingest, the hotline).

With several worker processes (``serve --workers N``) the counters and histograms live in
``PROMETHEUS_MULTIPROC_DIR`` and any worker answers ``/metrics`` for all of them; the figures read
from the store (open conflicts, messages by state) are the same whichever process answers."""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID: ContextVar[str | None] = ContextVar("truceline_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("truceline.access")

#: not timed: the scrape itself, and live streams (their "latency" is how long a client stayed)
_UNTIMED = frozenset({"/metrics", "/v1/events"})
_FIELDS = ("method", "path", "route", "status", "duration_ms", "client", "party", "token")
#: where the authentication puts the party and the token (a ``Credential``) in the request's scope
CALLER_KEY = "truceline.caller"
CREDENTIAL_KEY = "truceline.credential"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (RFC 3339 UTC), level, logger, message, process id, the request id
    when the line was written while serving a request, and an access line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        doc: dict[str, Any] = {
            "time": at,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker, with several (``serve --workers N``)
        }
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        if rid:
            doc["request_id"] = rid
        for k in _FIELDS:
            if hasattr(record, k):
                doc[k] = getattr(record, k)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        return f"{line} [request {rid}]" if rid else line


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn applies it in every worker). Access lines
    come from ``RequestMiddleware``, with the request id, so uvicorn's own are switched off."""
    formatter = f"{__name__}.{'JsonFormatter' if fmt == 'json' else 'TextFormatter'}"
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": formatter}},
        "handlers": {"main": handler},
        "loggers": {
            "truceline": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


# ---- metrics -------------------------------------------------------------------------------------

#: request latency buckets, seconds: the API's goals sit between 3 ms and 100 ms
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.2, 0.4, 1.0, 2.5, 5.0, 10.0)


class StoreCollector(Collector):
    """Gauges read from the store when scraped: open conflicts by rule, hotline receipts by state."""

    def __init__(self, read: Callable[[], tuple[dict[str, int], dict[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        conflicts, receipts = self.read()
        g = GaugeMetricFamily("truceline_conflicts_open", "Open conflicts, by rule", labels=["rule"])
        for rule, n in sorted(conflicts.items()):
            g.add_metric([rule], n)
        yield g
        m = GaugeMetricFamily(
            "truceline_hotline_receipts",
            "Hotline messages per addressee, by state (awaiting: open; overdue: past the deadline)",
            labels=["state"],
        )
        for state, n in sorted(receipts.items()):
            m.add_metric([state], n)
        yield m


class Metrics:
    def __init__(self, store: Callable[[], tuple[dict[str, int], dict[str, int]]]) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Histogram(
            "truceline_http_request_duration_seconds",
            "HTTP request latency, by method, route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.notified = Counter("truceline_activities_notified", "Activities notified or changed", registry=r)
        self.conflicts = Counter(
            "truceline_conflicts_found", "Conflicts found by notifications and changes, by rule", ["rule"], registry=r
        )
        self.track_reports = Counter("truceline_track_reports_ingested", "Track reports accepted", registry=r)
        self.incidents = Counter("truceline_incidents_ingested", "Incident records reported or imported", registry=r)
        self.store = StoreCollector(store)
        if not self.multiprocess:
            r.register(self.store)

    def found(self, rules: Iterable[str]) -> None:
        self.notified.inc()
        for rule in rules:
            self.conflicts.labels(rule).inc()

    def exposition(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        merged.register(self.store)
        return generate_latest(merged)


# ---- the middleware ------------------------------------------------------------------------------


class RequestMiddleware:
    """Pure ASGI (no per-request task): takes or makes the request id, echoes it in the response,
    times the request into the histogram and writes one access line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template not in _UNTIMED:
                self.metrics.requests.labels(scope["method"], template, str(status)).observe(elapsed)
            client = scope.get("client")
            caller, credential = scope.get(CALLER_KEY), scope.get(CREDENTIAL_KEY)
            access_log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": client[0] if client else None,
                    "party": caller.name if caller else None,
                    "token": credential.label if credential else None,
                },
            )
            REQUEST_ID.reset(token)
