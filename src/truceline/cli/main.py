"""The ``truceline`` command. Server-side commands (serve, demo, db, party) work on the database;
the rest talk to a running server through ``truceline.client`` (URL and token from options or
``TRUCELINE_URL`` / ``TRUCELINE_TOKEN``). Errors print one line and exit non-zero."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table
from rich.text import Text

from truceline.cli.cards import add_card, cards, day_time, moment
from truceline.client import ApiError, Client
from truceline.domain.repeats import Series, Timed, find_series
from truceline.domain.unstorable import MAX_INT
from truceline.domain.volumes import parse_time

app = typer.Typer(
    help="Truceline: de-escalation zones, activity notification and deconfliction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
party_app = typer.Typer(help="Parties and their tokens (works on the database directly).", no_args_is_help=True)
zones_app = typer.Typer(help="Zones.", no_args_is_help=True)
activities_app = typer.Typer(help="Your party's activities.", no_args_is_help=True)
conflicts_app = typer.Typer(help="Conflicts that concern your party.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(party_app, name="party")
app.add_typer(zones_app, name="zones")
app.add_typer(activities_app, name="activities")
app.add_typer(conflicts_app, name="conflicts")
resp_app = typer.Typer(help="Responsibilities (guarantor, police, monitor) for a zone.", no_args_is_help=True)
audit_app = typer.Typer(
    help="The audit log: verify it, get its signed head, check receipts offline.", no_args_is_help=True
)
keys_app = typer.Typer(help="Your party's Ed25519 signing key.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="Your party's bearer tokens: one per officer, desk or script, each revoked on its own.", no_args_is_help=True
)
app.add_typer(tokens_app, name="tokens")
app.add_typer(resp_app, name="responsibilities")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")

out = Console()
err = Console(stderr=True)

T = TypeVar("T")

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: TRUCELINE_DATABASE_URL or sqlite:///./truceline.db)")
]
UrlOpt = Annotated[str, typer.Option("--url", envvar="TRUCELINE_URL", help="Server URL")]
TokenOpt = Annotated[str | None, typer.Option("--token", envvar="TRUCELINE_TOKEN", help="Bearer token")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table")]
DEFAULT_URL = "http://127.0.0.1:8080"


def fail(message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``, turning every expected failure into one line on stderr."""
    import httpx

    from truceline.domain.errors import TrucelineError

    try:
        return fn()
    except typer.Exit:
        raise  # fail() inside: its line is printed already
    except ApiError as e:
        fail(e.one_line())
    except TrucelineError as e:
        fail(str(e))
    except httpx.TransportError as e:
        where = e.request.url if _has_request(e) else "the server"
        reason = str(e) or type(e).__name__
        fail(f"cannot reach {where}: {reason} (is the server running? --url or TRUCELINE_URL)")
    except OSError as e:
        fail(f"{e.filename}: {(e.strerror or str(e)).lower()}" if e.filename else str(e))
    except Exception as e:
        fail(f"{type(e).__name__}: {e}")


def _has_request(e: Any) -> bool:
    try:
        e.request  # noqa: B018  (httpx raises RuntimeError when the error has no request)
    except RuntimeError:
        return False
    return True


def _settings(db: str | None, **extra: Any) -> Any:
    from pydantic import ValidationError

    from truceline.settings import Settings

    kw: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if db:
        kw["database_url"] = db
    try:
        return Settings(**kw)
    except ValidationError as e:
        # one line: the first setting at fault, as its environment variable, and why
        first = e.errors()[0]
        name = f"TRUCELINE_{first['loc'][0]}".upper() if first["loc"] else "a TRUCELINE_ setting"
        fail(f"{name}: {first['msg']} (got {first.get('input')!r})")


def _client(url: str, token: str | None) -> Client:
    """A client for the server; writes are signed with the key in TRUCELINE_SIGNING_KEY (a PEM file) if set."""
    if not token:
        fail("no token: pass --token or set TRUCELINE_TOKEN")
    key_file = os.environ.get("TRUCELINE_SIGNING_KEY")
    key = _load_private_key(Path(key_file)) if key_file else None
    return Client(url, token, signing_key=key, on_retry=_trying_again)


def _trying_again(e: Exception, wait: float) -> None:
    reason = str(e) or type(e).__name__
    write = _has_request(e) and e.request.method in ("POST", "PATCH")  # type: ignore[attr-defined]
    err.print(f"no answer from the server ({reason}): sending it again in {wait:g} s"
              + (" (with its Idempotency-Key: it is not done twice)" if write else ""),
              markup=False, highlight=False, soft_wrap=True)  # fmt: skip


def _load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        fail(f"{path}: cannot read an Ed25519 private key: {e}")
    if not isinstance(key, Ed25519PrivateKey):
        fail(f"{path}: not an Ed25519 private key")
    return key


def _receipt(c: Client) -> None:
    if c.last_receipt:
        err.print(f"receipt: {c.last_receipt}", markup=False, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _for_people(url: str, token: str | None, fetch: Callable[[Client], T], as_json: bool) -> T | None:
    """Fetch one thing. With --json it is printed as JSON here and None comes back; otherwise it comes
    back for the command to print for people."""
    with _client(url, token) as c:
        data = guarded(lambda: fetch(c))
    if as_json:
        _print_json(data)
        return None
    return data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        fail(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        fail(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")


def _with_defaults(doc: Any, defaults: dict[str, Any]) -> Any:
    """``doc``'s Features, each with the properties in ``defaults`` that it does not give itself."""
    if not defaults or not isinstance(doc, dict):
        return doc
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    for f in features if isinstance(features, list) else []:
        if isinstance(f, dict) and f.get("type") == "Feature":
            props = f.get("properties")
            f["properties"] = {**defaults, **(props if isinstance(props, dict) else {})}
    return doc


# ---- server side ---------------------------------------------------------------------------------


def _uvicorn_options(settings: Any) -> dict[str, Any]:
    from truceline.api.observability import log_config

    return {
        "log_config": log_config(settings.log_format, settings.log_level),
        "access_log": False,  # ours carry the request id (RequestMiddleware)
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
        **({"forwarded_allow_ips": settings.forwarded_allow_ips} if settings.forwarded_allow_ips else {}),
    }


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    db: DbOpt = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (each its own app)")] = 1,
    log_json: Annotated[bool, typer.Option("--log-json", help="Logs as one JSON object per line")] = False,
) -> None:
    """Run the API server. On SIGTERM or Ctrl-C it stops taking connections and lets the requests in
    flight finish (up to TRUCELINE_GRACEFUL_SHUTDOWN_SECONDS)."""
    import shutil
    import tempfile

    import uvicorn

    from truceline.adapters.db import make_engine
    from truceline.adapters.keys import load_or_create
    from truceline.adapters.migrate import upgrade
    from truceline.cli import workers as workers_mod

    extra: dict[str, Any] = {"host": host, "port": port}
    if log_json:
        extra["log_format"] = "json"
    settings = _settings(db, **extra)
    options = _uvicorn_options(settings)
    if workers == 1:
        from truceline.api.app import create_app

        application = guarded(lambda: create_app(settings))
        workers_mod.serve(uvicorn.Config(application, host=settings.host, port=settings.port, **options))
        return
    # Several processes: migrate and make the audit key once, here, then each worker builds its own app
    # from the same settings (passed down as environment variables) without migrating again.
    engine = make_engine(settings.database_url)
    guarded(lambda: upgrade(engine))
    engine.dispose()
    guarded(lambda: load_or_create(settings.audit_key_file))
    os.environ.update(
        TRUCELINE_DATABASE_URL=settings.database_url,
        TRUCELINE_MIGRATE_ON_START="false",
        TRUCELINE_AUDIT_KEY_FILE=str(settings.audit_key_file.resolve()),
        TRUCELINE_LOG_FORMAT=settings.log_format,
    )
    # counters and histograms shared by the workers, so any of them answers /metrics for all
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="truceline-metrics-")
    try:
        factory = "truceline.api.app:create_app"
        if not workers_mod.CAN_SHARE_PORT:
            uvicorn.run(factory, factory=True, host=settings.host, port=settings.port, workers=workers, **options)
            return
        config = uvicorn.Config(factory, factory=True, host=settings.host, port=settings.port, **options)
        try:
            status = workers_mod.run(config, workers, grace_s=settings.graceful_shutdown_seconds)
        except OSError as e:
            fail(f"cannot listen on {settings.host}:{settings.port}: {e.strerror or e}")
        if status:
            raise typer.Exit(status)
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    db: Annotated[str, typer.Option("--db", help="Database URL")] = "sqlite:///./truceline-demo.db",
    tokens_file: Annotated[Path | None, typer.Option(help="Write {party name: token} as JSON here")] = None,
    scenario: Annotated[str, typer.Option(help="Scenario to load")] = "syria-2017",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the scenario and exit")] = False,
    no_traffic: Annotated[bool, typer.Option("--no-traffic", help="Do not replay the scenario's live traffic")] = False,
) -> None:
    """Load the demo scenario (idempotent) and serve it; prints the docs URL and a token per party."""
    import uvicorn

    from truceline.api.app import create_app
    from truceline.services import scenario as scenarios

    data = guarded(lambda: scenarios.read(scenario))
    settings = _settings(db, host=host, port=port)
    if settings.web_opens_at is None:  # the map opens on the scenario's day unless the environment says
        settings.web_opens_at = data.get("map_opens_at")
    application = guarded(lambda: create_app(settings))
    ctx = application.state.ctx
    loaded = guarded(lambda: scenarios.load(ctx.writer_at, ctx.policy, data))
    ctx.demo_tokens.update(loaded.tokens)
    if tokens_file is not None:
        tokens_file.write_text(json.dumps(loaded.tokens, indent=2) + "\n", encoding="utf-8")
    base = f"http://{host}:{port}"
    # Plain lines, never a table: a token cut to fit the terminal would be useless.
    out.print(f"Scenario {loaded.name}: one token per party", style="bold")
    width = max(len(n) for n in loaded.tokens)
    for name, token in loaded.tokens.items():
        out.print(f"  {name:<{width}}  {token}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"Truceline demo on {base}  web map: {base}/  API docs: {base}/docs  database: {db}")
    out.print(f"Try: TRUCELINE_TOKEN=<a token above> truceline conflicts list --url {base}")
    records = scenarios.traffic(data)
    if not no_serve:
        if records and not no_traffic:
            import threading

            out.print(f"Replaying {len(records)} recorded track reports live, in a loop (see `truceline alerts`)")
            threading.Thread(
                target=scenarios.replay,
                args=(lambda: ctx.uow(write=True), ctx.tracks, records),
                kwargs={"clock": ctx.clock, "loop": True},
                daemon=True,
                name="traffic-replay",
            ).start()
        from truceline.cli.workers import serve as serve_app

        serve_app(uvicorn.Config(application, host=host, port=port, **_uvicorn_options(settings)))


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create or migrate the schema to the latest revision."""
    from truceline.adapters.db import make_engine
    from truceline.adapters.migrate import current, upgrade

    settings = _settings(db)
    engine = make_engine(settings.database_url)
    guarded(lambda: upgrade(engine))
    out.print(f"database at revision {current(engine)}")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (gzip of JSON lines)")], db: DbOpt = None
) -> None:
    """Back up the whole store, from one consistent snapshot, while the server keeps running."""
    from truceline.adapters.backup import backup
    from truceline.adapters.db import make_engine

    engine = make_engine(_settings(db).database_url)
    counts = guarded(lambda: backup(engine, file))
    out.print(f"backed up {sum(counts.values())} rows from {len(counts)} tables to {file}")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `truceline db backup`")], db: DbOpt = None
) -> None:
    """Restore a backup into a new, empty database (SQLite or PostgreSQL, whichever it came from)."""
    from truceline.adapters.backup import restore
    from truceline.adapters.db import make_engine

    engine = make_engine(_settings(db).database_url)
    counts = guarded(lambda: restore(engine, file))
    out.print(f"restored {sum(counts.values())} rows into {len(counts)} tables; check: truceline audit verify")


def _uow_factory(db: str | None) -> Callable[[], Any]:
    from truceline.adapters.db import make_engine
    from truceline.adapters.migrate import upgrade
    from truceline.adapters.unit_of_work import SqlUnitOfWork

    engine = make_engine(_settings(db).database_url)
    guarded(lambda: upgrade(engine))
    return lambda: SqlUnitOfWork(engine, write=True)


@party_app.command("add")
def party_add(
    name: str,
    role: Annotated[str, typer.Option(help="officer, monitor, observer or admin")] = "officer",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a party and print its token (shown once)."""
    from truceline.services import parties

    uow = _uow_factory(db)
    party, token = guarded(lambda: parties.add(uow(), name=name, role=role))
    if as_json:
        _print_json({"id": party.id, "name": party.name, "role": party.role.value, "token": token})
    else:
        out.print(f"party {party.name!r} ({party.role.value}) id {party.id}")
        out.print(f"token (shown once): {token}")


@party_app.command("list")
def party_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List parties (never their tokens)."""
    from truceline.services import parties

    uow = _uow_factory(db)
    items = guarded(lambda: parties.list_parties(uow()))
    rows = [{"id": p.id, "name": p.name, "role": p.role.value} for p in items]
    if as_json:
        _print_json(rows)
        return
    table = Table("name", "role", Column("id", no_wrap=True, min_width=36))
    for r in rows:
        table.add_row(Text(r["name"]), r["role"], r["id"])
    out.print(table)


@party_app.command("rotate")
def party_rotate(name: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke every token of a party and print one new one (shown once): for a token lost or leaked."""
    from truceline.services import parties

    uow = _uow_factory(db)
    token = guarded(lambda: parties.rotate_token(uow(), name=name))
    if as_json:
        _print_json({"name": name, "token": token})
    else:
        out.print(f"every earlier token of {name!r} is revoked")
        out.print(f"token (shown once): {token}")


# ---- client side ---------------------------------------------------------------------------------


FromTimeOpt = Annotated[
    str | None, typer.Option("--from", help="only what happens after this RFC 3339 time, e.g. 2017-07-10T06:00:00Z")
]
ToTimeOpt = Annotated[str | None, typer.Option("--to", help="only what happens before this RFC 3339 time")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default: standard output)")]


def download(url: str, token: str | None, path: str, output: Path | None, **params: Any) -> None:
    """Stream the file the server makes at ``path`` into ``output`` (standard output when None),
    with progress on a terminal."""
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    sink = output.open("wb") if output else sys.stdout.buffer
    written = 0
    progress = Progress(
        TextColumn("exporting"),
        TextColumn("{task.fields[mb]} MB"),
        TimeElapsedColumn(),
        console=err,
        disable=output is None or not err.is_terminal,
    )
    try:
        with _client(url, token) as c, progress:
            task = progress.add_task("export", mb="0.0")

            def run() -> None:
                nonlocal written
                for chunk in c.download(path, **params):
                    sink.write(chunk)
                    written += len(chunk)
                    progress.update(task, mb=f"{written / 1e6:.1f}")

            guarded(run)
    finally:
        if output:
            sink.close()
    if output:
        err.print(f"wrote {output} ({written / 1e6:.1f} MB)", markup=False, highlight=False, soft_wrap=True)


def _zone_table(zones: list[dict[str, Any]]) -> Table:
    table = cards("status", "zone")
    for z in zones:
        until = moment(z.get("effective_until")) or "open-ended"
        forbids = ", ".join(z["forbidden_kinds"]) or "nothing"
        add_card(
            table,
            z["status"],
            z["name"],
            [
                f"{z['kind']} · revision {z['revision']}",
                f"from {moment(z['effective_from'])} to {until}",
                f"forbids {forbids}",
            ],
            z["id"],
        )
    return table


def _zone_rules(z: dict[str, Any]) -> list[str]:
    """What the zone covers and how its rules apply, beyond the card: its shape, band, stand-off,
    separation minima, hours and signatories."""
    from truceline.domain.schedule import parse_schedule
    from truceline.domain.zones import describe_band

    g = z["geometry"]
    if g["type"] == "Point":
        lon, lat = g["coordinates"][:2]
        shape = f"circle of {z['radius_m']:,.0f} m around {lat:.4f}, {lon:.4f}"
    else:
        rings = g["coordinates"] if g["type"] == "Polygon" else [r for p in g["coordinates"] for r in p]
        shape = f"{g['type'].lower()} of {sum(len(r) - 1 for r in rings)} vertices"
    band = describe_band(z["altitude_lower"]["value"], z["altitude_upper"]["value"])  # a zone is read in metres
    hours = parse_schedule(z["schedule"])
    minima = [f"{z[k]:,.0f} m {w}" for k, w in (("separation_m", "apart"), ("vertical_separation_m", "vertically"))
              if z.get(k) is not None]  # fmt: skip
    return [
        f"area: {shape}",
        f"altitude: {band}" + (f", and {z['standoff_m']:,.0f} m beyond its edge" if z["standoff_m"] else ""),
        f"hours: {hours.describe()}" if hours else "hours: all the time it is in effect",
        *([f"live tracks inside: at least {' and '.join(minima)}"] if minima else []),
        "signatories: " + ", ".join(p["name"] or p["id"] for p in z["signatories"]),
    ]


@zones_app.command("list")
def zones_list(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    kind: Annotated[str | None, typer.Option(help="Filter by kind")] = None,
    status: Annotated[str | None, typer.Option(help="Filter by status")] = None,
    bbox: Annotated[str | None, typer.Option(help="min_lon,min_lat,max_lon,max_lat")] = None,
) -> None:
    """List zones."""
    with _client(url, token) as c:
        zones = guarded(lambda: c.zones(kind=kind, status=status, bbox=bbox))
    _print_json(zones) if as_json else out.print(_zone_table(zones))


@zones_app.command("awaiting")
def zones_awaiting(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Zones still being negotiated whose current revision awaits your party's signature, in principle
    or final."""
    with _client(url, token) as c:
        rows = guarded(c.awaiting_signature)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("Nothing awaits your signature.")
        return
    table = cards("yours to sign", "zone")
    for r in rows:
        add_card(table, r["signature"].replace("_", " "), r["name"],
                 [f"{r['status']} · revision {r['revision']}"], r["id"])  # fmt: skip
    out.print(table)


@zones_app.command("show")
def zones_show(zone_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Show one zone."""
    z = _for_people(url, token, lambda c: c.zone(zone_id_of(c, zone_id)), as_json)
    if z is None:
        return
    out.print(_zone_table([z]))
    for line in _zone_rules(z):
        out.print(f"  {line}", markup=False)
    for r in z["responsible"]:
        out.print(f"  {r['role']}: {r['party_name']}")
    if z.get("description"):
        out.print(z["description"], markup=False)


@zones_app.command("add")
def zones_add(file: Path, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Create zones from a GeoJSON Feature or FeatureCollection (properties hold the zone's fields)."""
    from truceline.adapters.geojson_io import zone_bodies

    bodies = guarded(lambda: zone_bodies(_read_json(file)))
    created = []
    with _client(url, token) as c:
        for b in bodies:
            created.append(guarded(partial(c.create_zone, b))["zone"])
    _print_json(created) if as_json else out.print(_zone_table(created))


@zones_app.command("export")
def zones_export(
    output: OutOpt = None,
    kind: Annotated[str | None, typer.Option(help="Filter by kind")] = None,
    status: Annotated[str | None, typer.Option(help="Filter by status")] = None,
    bbox: Annotated[str | None, typer.Option(help="min_lon,min_lat,max_lon,max_lat")] = None,
    format: Annotated[str, typer.Option(help="geojson, or kml for Google Earth and phones' map apps")] = "geojson",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Write zones as GeoJSON (a Feature per zone). Edit a boundary in a GIS, then send it back with
    `zones revise ID --file` (the exported revision is the one you change), or `zones add` elsewhere.
    With `--format kml`, as KML for the maps a field office has offline (it does not read back in)."""
    download(url, token, "/v1/zones/export", output, kind=kind, status=status, bbox=bbox, format=format)


def _print_conflicts(conflicts: list[dict[str, Any]]) -> None:
    """One block per conflict: the reason is the point, so it is never cut."""
    if not conflicts:
        out.print("no conflicts")
    for c in conflicts:
        sides = [f"{a['owner']['name']} ({a['kind']}{': ' + a['title'] if a.get('title') else ''})"
                 for a in c["activities"]]  # fmt: skip
        # a live track's conflict (separation, incursion) is between tracks, named by their callsigns
        sides += [f"{t['owner']['name']} ({t['kind']} track {t['callsign']})" for t in c.get("tracks", [])]
        between = ", ".join(sides)
        if c.get("zone"):
            between += f"  ×  zone {c['zone']['name']}"
        coordinated = " [cyan]coordinated[/]" if c.get("coordinated") else ""
        out.print(
            f"[bold]{c['rule']}[/bold] [{'red' if c['status'] == 'open' else 'green'}]{c['status']}[/]{coordinated}"
            f"  id {c['id']}",
            highlight=False,
        )
        out.print(f"  {between}", markup=False, highlight=False)
        out.print(f"  {c['reason']}", markup=False, highlight=False)
        if c.get("closed_reason"):
            out.print(f"  closed: {c['closed_reason']}", markup=False, highlight=False)
        agreements = c.get("agreements", [])
        for a in agreements:
            lapsed = "" if a["current"] else " (given before the conflict changed: asked again)"
            out.print(f"  agreed by {a['party']['name']}{lapsed}: {a['statement']}", markup=False, highlight=False)
        if agreements and c["status"] == "open" and not c.get("coordinated"):
            agreed = {a["party"]["id"] for a in agreements if a["current"]}
            waiting = [p["name"] or p["id"] for p in c["parties"] if p["id"] not in agreed]
            out.print(f"  waiting for the agreement of: {', '.join(waiting)}", markup=False, highlight=False)


def _print_checks(bodies: list[dict[str, Any]], checks: list[dict[str, Any]]) -> None:
    """Each plan checked against the zones: what a notification would open now, then what it would
    break once a zone not yet in force is."""
    for body, got in zip(bodies, checks, strict=True):
        now, later = got["conflicts"], got["once_in_force"]
        out.print(f"checked {body['kind']} '{body['title']}' (not notified): {len(now)} zone conflict(s) now, "
                  f"{len(later)} once a zone is in force", markup=False, highlight=False)  # fmt: skip
        for f in [*now, *later]:
            z = f["zone"]
            when = "[red]now[/]" if f["in_force"] else f"[yellow]once in force[/] ({f['status'].replace('_', ' ')})"
            out.print(f"[bold]zone_rule[/bold] {when}  × zone {escape(z['name'] or z['id'])}", highlight=False)
            out.print(f"  {f['reason']}", markup=False, highlight=False)
            concerns = ", ".join(p["name"] or p["id"] for p in f["parties"])
            out.print(f"  a notification would concern: {concerns}", markup=False, highlight=False)
    if checks:
        out.print(checks[0]["not_checked"], markup=False, highlight=False)


@app.command()
def me(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Who your token speaks for: the party, its role, and which of its tokens it is."""
    with _client(url, token) as c:
        who = guarded(c.me)
    if as_json:
        _print_json(who)
        return
    out.print(f"{who['name']} ({who['role']}), token '{who['token']['label']}'", markup=False, highlight=False)
    out.print(f"party id {who['id']}", markup=False, highlight=False)
    out.print(f"token id {who['token']['id']}", markup=False, highlight=False)
    if who.get("public_key"):
        out.print("writes must be signed with the party's registered key", markup=False, highlight=False)


@app.command()
def notify(
    file: Path,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Do not notify: check the plans against the zones (in force, and those that may come into "
            "force) and print what they would break. Nothing is stored, nobody is told.",
        ),
    ] = False,
    kind: Annotated[str | None, typer.Option(help="the kind of every plan in the file that does not say")] = None,
    title: Annotated[str | None, typer.Option(help="the title of every plan that has none")] = None,
    start: Annotated[str | None, typer.Option(help="its start (RFC 3339), where the file gives none")] = None,
    end: Annotated[str | None, typer.Option(help="its end (RFC 3339), where the file gives none")] = None,
    half_width_m: Annotated[
        float | None, typer.Option(help="a route's half width in metres (its corridor), where none is given")
    ] = None,
    lower_m: Annotated[float | None, typer.Option(help="lowest altitude, m (default 0)")] = None,
    upper_m: Annotated[float | None, typer.Option(help="highest altitude, m (default 1,000)")] = None,
) -> None:
    """Notify activities from a GeoJSON Feature or FeatureCollection, or the tracks and routes of a
    GPS's GPX file (each a corridor); prints the conflicts found. The options give what the file does
    not say (a GPX file never says a plan's kind or window)."""
    from truceline.adapters.geojson_io import activity_bodies
    from truceline.adapters.gpx_io import gpx_features

    given = {"kind": kind, "title": title, "time_start": start, "time_end": end, "half_width_m": half_width_m,
             "altitude_lower_m": lower_m, "altitude_upper_m": upper_m}  # fmt: skip

    def read() -> Any:
        doc = gpx_features(_read_text(file)) if file.suffix.lower() == ".gpx" else _read_json(file)
        return _with_defaults(doc, {k: v for k, v in given.items() if v is not None})

    bodies = guarded(lambda: activity_bodies(read()))
    results = []
    with _client(url, token) as c:
        for b in bodies:
            results.append(guarded(partial(c.check if check else c.notify, b)))
        if not check:
            _receipt(c)
    if as_json:
        _print_json(results)
        return
    if check:
        _print_checks(bodies, results)
        return
    for r in results:
        a = r["activity"]
        out.print(f"notified {a['kind']} '{a['title']}' id {a['id']}: {len(r['conflicts'])} conflict(s)", markup=False)
        if r["conflicts"]:
            _print_conflicts(r["conflicts"])


@activities_app.command("list")
def activities_list(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    status: Annotated[str | None, typer.Option(help="active or cancelled")] = None,
    time_from: FromTimeOpt = None,
    time_to: ToTimeOpt = None,
) -> None:
    """List your party's activities."""
    with _client(url, token) as c:
        items = guarded(lambda: c.activities(status=status, time_start=time_from, time_end=time_to))
    if as_json:
        _print_json(items)
        return
    table = cards("status", "activity")
    for a in items:
        n = len(a["volumes"])
        when = f"from {moment(a['time_start'])} to {moment(a['time_end'])}"
        series = _series(a["volumes"])
        volumes = f"{n} volume{'s' if n != 1 else ''}" + (f" ({series.describe()})" if series else "")
        add_card(table, a["status"], f"{a['kind']}: {a['title']}", [when, volumes], a["id"])
    out.print(table)


def _band(shape: dict[str, Any]) -> str:
    """A volume's or a conflict region's altitude band, "0–2500 m"."""
    lo, hi = shape["altitude_lower"], shape["altitude_upper"]
    return f"{lo['value']:g}–{hi['value']:g} {hi['units'].lower()}"


def _outline(volume: dict[str, Any]) -> str:
    if "outline_circle" in volume:
        c = volume["outline_circle"]
        return f"circle of {c['radius']['value']:g} m around {c['center']['lat']:.4f}, {c['center']['lng']:.4f}"
    if "outline_corridor" in volume:
        corridor = volume["outline_corridor"]
        return f"corridor {corridor['half_width_m']:g} m either side of {len(corridor['line']['coordinates'])} points"
    return f"polygon of {len(volume['outline_polygon']['vertices'])} vertices"


def _print_activity(result: dict[str, Any], verb: str) -> None:
    a = result["activity"]
    out.print(f"{verb} {a['kind']} '{a['title']}' id {a['id']} version {a['version']} ({a['status']}): "
              f"{len(result['conflicts'])} open conflict(s)", markup=False, highlight=False)  # fmt: skip
    volumes = a["volumes"]
    series = _series(volumes)
    if series is not None:
        # a patrol every day for a month is one line a volume of its first occurrence, not thirty
        last = volumes[-series.per_occurrence:]
        out.print(f"  {series.describe()}, from {moment(volumes[0]['time_start']['value'])} "
                  f"to {moment(last[-1]['time_end']['value'])}; the first time:", markup=False)  # fmt: skip
        volumes = volumes[: series.per_occurrence]
    for i, v in enumerate(volumes):
        window = f"{moment(v['time_start']['value'])} → {moment(v['time_end']['value'])}"
        out.print(f"  volume {i}: {_outline(v['volume'])}, {_band(v['volume'])}, {window}", markup=False)
    if result["conflicts"]:
        _print_conflicts(result["conflicts"])


def _series(volumes: list[dict[str, Any]]) -> Series | None:
    """The repeat an activity's volumes make, if they make one (``domain.repeats.find_series``)."""

    def timed(v: dict[str, Any]) -> Timed:
        end = v["time_end"]["value"] if v.get("time_end") else None
        return (parse_time(v["time_start"]["value"], ""), parse_time(end, "") if end else None,
                json.dumps(v["volume"], sort_keys=True))  # fmt: skip

    return find_series([timed(v) for v in volumes])


ActivityArg = Annotated[str, typer.Argument(help="activity id, or its title (or the start of it)")]


@activities_app.command("show")
def activities_show(
    activity_id: ActivityArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """One of your activities: its volumes and its open conflicts."""
    result = _for_people(url, token, lambda c: c.activity(activity_id_of(c, activity_id)), as_json)
    if result is not None:
        _print_activity(result, "activity")


@activities_app.command("update")
def activities_update(
    activity_id: ActivityArg,
    file: Annotated[Path, typer.Option("--file", help="GeoJSON: the activity's new volumes and fields")],
    version: Annotated[int | None, typer.Option(help="the version you are replacing")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace one of your activities (a new version; its conflicts are checked again). The file is
    that activity's Features, or an `activities export` holding it; then the version it was exported
    at is the one replaced, and if it changed since, nothing changes and you are told."""
    from truceline.adapters.geojson_io import activity_change

    doc = guarded(lambda: _read_json(file))
    with _client(url, token) as c:
        aid = activity_id_of(c, activity_id, "active")
        body = guarded(lambda: activity_change(doc, aid))
        if version is not None:
            body["version"] = version
        result = guarded(lambda: c.update_activity(aid, body))
        _receipt(c)
    _print_json(result) if as_json else _print_activity(result, "updated")


@activities_app.command("export")
def activities_export(
    output: OutOpt = None,
    status: Annotated[str, typer.Option(help="active, cancelled or all")] = "active",
    time_from: FromTimeOpt = None,
    time_to: ToTimeOpt = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Write your activities as GeoJSON (a Feature per volume); `notify` reads such a file back."""
    status_ = None if status == "all" else status
    download(url, token, "/v1/activities/export", output, status=status_, time_start=time_from, time_end=time_to)


@activities_app.command("cancel")
def activities_cancel(activity_id: ActivityArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Cancel one of your activities (its conflicts close)."""
    with _client(url, token) as c:
        aid = activity_id_of(c, activity_id, "active")
        guarded(lambda: c.cancel(aid))
    out.print(f"cancelled {aid}")


@conflicts_app.command("list")
def conflicts_list(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    status: Annotated[str, typer.Option(help="open, closed or all")] = "open",
    time_from: FromTimeOpt = None,
    time_to: ToTimeOpt = None,
    coordinated: Annotated[
        bool | None,
        typer.Option("--coordinated/--to-handle", help="only those every party agrees to, or only the others"),
    ] = None,
) -> None:
    """List the conflicts that concern your party, by when they happen."""
    with _client(url, token) as c:
        items = guarded(
            lambda: c.conflicts(status=status, time_start=time_from, time_end=time_to, coordinated=coordinated)
        )
    _print_json(items) if as_json else _print_conflicts(items)


@conflicts_app.command("show")
def conflicts_show(
    conflict_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """One conflict that concerns you: why, between whom, where and when it happens, and what was said
    about it on the hotline."""
    if as_json:
        _for_people(url, token, lambda c: c.conflict(conflict_id), as_json)
        return
    found = _for_people(url, token, lambda c: (c.conflict(conflict_id), c.conflict_messages(conflict_id)), False)
    assert found is not None
    conflict, messages = found
    _print_conflicts([conflict])
    for r in conflict["regions"]:
        when = f"{moment(r['time_start'])} → {moment(r['time_end']) or '…'}"
        out.print(f"  where: {r['geometry']['type']}, {_band(r)}, {when}", markup=False)
    for m in messages:  # settled in its thread: `truceline threads show` reads the rest
        who = m["sender"]["name"] or "Truceline"
        out.print(f"  hotline {moment(m['sent'])}: {m['msgType']} from {who}: {m['headline']}", markup=False,
                  soft_wrap=True)  # fmt: skip
    if messages:
        out.print(f"  thread: {messages[-1]['thread_id']}", markup=False)


@conflicts_app.command("agree")
def conflicts_agree(
    conflict_id: str,
    statement: Annotated[str, typer.Option("--statement", "-m", help="how it is handled (settled over the hotline)")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Agree to a conflict for your party, saying how it is handled. When every party it concerns
    agrees, it is coordinated (still open and listed). The others are told in its hotline thread."""
    conflict = _for_people(url, token, lambda c: c.agree_to_conflict(conflict_id, statement), as_json)
    if conflict is not None:
        _print_conflicts([conflict])


@conflicts_app.command("withdraw")
def conflicts_withdraw(
    conflict_id: str,
    statement: Annotated[str, typer.Option("--statement", "-m", help="why (optional)")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw your party's agreement to a conflict (the others are told)."""
    conflict = _for_people(url, token, lambda c: c.withdraw_agreement(conflict_id, statement), as_json)
    if conflict is not None:
        _print_conflicts([conflict])


@conflicts_app.command("export")
def conflicts_export(
    output: OutOpt = None,
    status: Annotated[str, typer.Option(help="open, closed or all")] = "open",
    time_from: FromTimeOpt = None,
    time_to: ToTimeOpt = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Write the conflicts that concern you as GeoJSON (a Feature per region where one happens)."""
    download(url, token, "/v1/conflicts/export", output, status=status, time_start=time_from, time_end=time_to)


# ---- negotiation ---------------------------------------------------------------------------------

ZoneArg = Annotated[str, typer.Argument(help="zone id, or its name (or the start of it)")]
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def zone_id_of(c: Client, ref: str) -> str:
    """A zone's id from its id, or from its name: whole, its start, or a part of it that names one
    zone only (case-insensitive). Unknown or ambiguous: one line saying so, with the choices."""
    return _id_by_words(ref, "zone", "name", lambda key: c.zones(name=key), "truceline zones list")


def activity_id_of(c: Client, ref: str, status: str | None = None) -> str:
    """One of your activities' ids from its id, or from its title as ``zone_id_of`` reads a name;
    ``status``: only among those (``active`` to change or cancel one)."""
    return _id_by_words(ref, "activity", "title", lambda key: c.activities(title=key, status=status),
                        "truceline activities list")  # fmt: skip


def thread_id_of(c: Client, ref: str) -> str:
    """One of your party's threads' ids from its id, or from its subject as ``zone_id_of`` reads a
    name (a conflict's thread is "Deconfliction: " and its parties' names)."""
    return _id_by_words(ref, "thread", "subject", lambda key: c.threads(), "truceline threads list")


def _id_by_words(ref: str, what: str, field: str, holding: Callable[[str], list[dict[str, Any]]], see: str) -> str:
    from truceline.domain.text import folded_text

    if _UUID.fullmatch(ref):
        return ref
    key = folded_text(ref)
    if not key:
        fail(f"the {what} is empty: give its id or its {field}")
    items = guarded(lambda: holding(key))  # those whose name or title holds it; then the best fit
    for pick in (
        lambda words: words == key,
        lambda words: words.startswith(key),
        lambda words: key in words,
    ):
        found = [x for x in items if pick(folded_text(x[field]))]
        if len(found) == 1:
            return str(found[0]["id"])
        if found:
            choices = "; ".join(f"{x[field]} ({x['id']})" for x in found[:4]) + ("; …" if len(found) > 4 else "")
            plural = "activities" if what == "activity" else f"{what}s"
            fail(f"{ref!r} names {len(found)} {plural}: {choices}. Give more of the {field}, or the id")
    fail(f"no {what} {dict(name='named', title='titled').get(field, 'about')} {ref!r}; see `{see}`")


@zones_app.command("propose")
def zones_propose(
    file: Path,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    signatory: Annotated[list[str] | None, typer.Option(help="a signatory (repeat); default: you")] = None,
    rationale: Annotated[str, typer.Option(help="why this zone")] = "",
) -> None:
    """Propose zones from a GeoJSON Feature or FeatureCollection, with their signatories."""
    from truceline.adapters.geojson_io import zone_bodies

    bodies = guarded(lambda: zone_bodies(_read_json(file)))
    created = []
    with _client(url, token) as c:
        for b in bodies:
            if signatory:
                b["signatories"] = signatory
            if rationale:
                b["rationale"] = rationale
            created.append(guarded(partial(c.create_zone, b))["zone"])
        _receipt(c)
    _print_json(created) if as_json else out.print(_zone_table(created))


@zones_app.command("revise")
def zones_revise(
    zone_id: ZoneArg,
    rationale: Annotated[str, typer.Option(help="why this revision")],
    file: Annotated[Path | None, typer.Option(help="a GeoJSON Feature: new boundary and fields")] = None,
    revision: Annotated[int | None, typer.Option(help="the revision you are changing")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a new revision of a zone (earlier sign-offs no longer count). The file holds one Feature,
    or is a `zones export` holding the zone; then the revision it was exported at is the one changed:
    if someone revised the zone since, nothing changes and you are told."""
    from truceline.adapters.geojson_io import exported_revision, feature_of_zone, zone_bodies

    body: dict[str, Any] = {"rationale": rationale}
    doc = guarded(lambda: _read_json(file)) if file is not None else None
    with _client(url, token) as c:
        zid = zone_id_of(c, zone_id)
        if doc is not None:
            feature = guarded(lambda: feature_of_zone(doc, zid))
            (fields,) = guarded(lambda: zone_bodies(feature))
            # signatories and responsibilities change through their own commands, not a revision
            body.update({k: v for k, v in fields.items() if v is not None and k not in ("signatories", "responsible")})
            if revision is None:  # a file from `zones export` says which revision it was drawn on
                revision = exported_revision(feature)
        if revision is not None:
            body["revision"] = revision
        z = guarded(lambda: c.update_zone(zid, body))["zone"]
        _receipt(c)
    _print_json(z) if as_json else out.print(_zone_table([z]))


@zones_app.command("sign")
def zones_sign(
    zone_id: ZoneArg,
    revision: Annotated[int, typer.Option(help="the revision you sign")],
    strength: Annotated[str, typer.Option(help="in_principle or final")] = "in_principle",
    statement: Annotated[str, typer.Option(help="a statement")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a zone's current revision, in principle or final."""
    with _client(url, token) as c:
        zid = zone_id_of(c, zone_id)
        r = guarded(lambda: c.sign_zone(zid, {"revision": revision, "strength": strength, "statement": statement}))
        _receipt(c)
    _print_json(r) if as_json else out.print(f"signed revision {revision} ({strength}); zone is {r['zone']['status']}")


@zones_app.command("object")
def zones_object(
    zone_id: ZoneArg,
    revision: Annotated[int, typer.Option(help="the revision you refuse")],
    statement: Annotated[str, typer.Option(help="why")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Object to a zone's current revision, with a statement."""
    with _client(url, token) as c:
        r = guarded(lambda: c.object_to_zone(zone_id_of(c, zone_id), {"revision": revision, "statement": statement}))
        _receipt(c)
    _print_json(r) if as_json else out.print(f"objected to revision {revision}; zone is {r['zone']['status']}")


@zones_app.command("status")
def zones_status(
    zone_id: ZoneArg,
    status: Annotated[str, typer.Argument(help="suspended, in_force, lapsed, withdrawn")],
    rationale: Annotated[str, typer.Option(help="why (kept in the audit log)")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Suspend, resume (in_force), lapse or withdraw a zone."""
    with _client(url, token) as c:
        r = guarded(lambda: c.update_zone_status(zone_id_of(c, zone_id), status, rationale))
        _receipt(c)
    out.print(f"zone is {r['zone']['status']}")


@zones_app.command("diff")
def zones_diff(
    zone_id: ZoneArg, a: int, b: int, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """What changed between two revisions: area added and removed (km², GeoJSON with --json), rules."""
    with _client(url, token) as c:
        d = guarded(lambda: c.diff(zone_id_of(c, zone_id), a, b))
    if as_json:
        _print_json(d)
        return
    out.print(f"revision {a} → {b}: +{d['added_km2']:,.1f} km² added, -{d['removed_km2']:,.1f} km² removed")
    for ch in d["rule_changes"]:
        if ch["field"] != "boundary":
            out.print(f"  {ch['field']}: {ch['from']!r} → {ch['to']!r}", markup=False, highlight=False)


@zones_app.command("negotiation")
def zones_negotiation(
    zone_id: ZoneArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """A zone's negotiation: revisions, sign-offs, who has yet to sign, documents, open responsibilities."""
    n = _for_people(url, token, lambda c: c.negotiation(zone_id_of(c, zone_id)), as_json)
    if n is None:
        return
    z = n["zone"]
    out.print(f"[bold]{z['name']}[/bold]: {z['status']}, revision {z['revision']}")
    for r in n["revisions"]:
        made = moment(r["created_at"])
        out.print(f"  revision {r['revision']} ({made}): {r['rationale']}", markup=False, highlight=False)
    for p in n["positions"]:
        out.print(
            f"  {moment(p['at'])} {p['party']['name']}: {p['position']} on revision {p['revision']} {p['statement']}",
            markup=False,
            highlight=False,
        )
    out.print(f"  yet to sign in principle: {_names(n['awaiting_in_principle'])}; final: {_names(n['awaiting_final'])}")
    out.print(f"  documents to finalise: {n['documents_to_finalise']} of {len(n['documents'])}")
    for r in z["responsible"]:
        out.print(f"  {r['role']}: {r['party_name']} ({r['status']}) {r['statement']}", markup=False, highlight=False)


def _names(refs: list[dict[str, Any]]) -> str:
    return ", ".join(x["name"] or x["id"] for x in refs) or "nobody"


@resp_app.command("list")
def resp_list(zone_id: ZoneArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """A zone's responsibilities and their answers."""
    with _client(url, token) as c:
        z = guarded(lambda: c.zone(zone_id_of(c, zone_id)))
    if as_json:
        _print_json(z["responsible"])
        return
    table = cards("status", "responsibility")
    for r in z["responsible"]:
        add_card(table, r["status"], f"{r['role']}: {r['party_name'] or r['party_id']}",
                 [f"“{r['statement']}”" if r["statement"] else None], r["id"])  # fmt: skip
    out.print(table)


@resp_app.command("request")
def resp_request(zone_id: ZoneArg, party: str, role: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Ask a party to be guarantor, police or monitor of a zone."""
    with _client(url, token) as c:
        r = guarded(lambda: c.request_responsibility(zone_id_of(c, zone_id), party, role))
        _receipt(c)
    out.print(f"asked {r['party_name']} to be {r['role']}: {r['status']} (id {r['id']})")


def _answer(zone_id: str, rid: str, accept: bool, statement: str, url: str, token: str | None) -> None:
    with _client(url, token) as c:
        r = guarded(lambda: c.answer_responsibility(zone_id_of(c, zone_id), rid, accept, statement))
        _receipt(c)
    out.print(f"{r['role']}: {r['status']}")


@resp_app.command("accept")
def resp_accept(
    zone_id: ZoneArg, responsibility_id: str, statement: str = "", url: UrlOpt = DEFAULT_URL, token: TokenOpt = None
) -> None:
    """Accept a responsibility your party was asked to take."""
    _answer(zone_id, responsibility_id, True, statement, url, token)


@resp_app.command("decline")
def resp_decline(
    zone_id: ZoneArg,
    responsibility_id: str,
    statement: Annotated[str, typer.Option(help="why")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Decline a responsibility, with a statement (it is kept)."""
    _answer(zone_id, responsibility_id, False, statement, url, token)


# ---- audit and keys ------------------------------------------------------------------------------


def party_ids(c: Client, names: list[str], known: list[dict[str, Any]] | None = None) -> list[str]:
    """Resolve party names (case-insensitive) or ids to ids; one line naming the unknown one.
    ``known``: the parties, if already read."""
    known = guarded(c.parties) if known is None else known
    by_name = {p["name"].casefold(): p["id"] for p in known}
    ids = {p["id"] for p in known}
    out_ids = []
    for n in names:
        pid = n if n in ids else by_name.get(n.casefold())
        if pid is None:
            fail(f"no party named {n!r}; see `truceline party list` or GET /v1/parties")
        out_ids.append(pid)
    return out_ids


def _gist(e: dict[str, Any], names: dict[str, str]) -> str:
    """A few words a person recognises an entry by (a title, a headline, a move, an escalation's
    step), when its payload is shown."""
    p = e.get("payload")
    p = p.get("change", p) if isinstance(p, dict) else p  # a signed request's change
    if not isinstance(p, dict):
        return ""
    if isinstance(p.get("from"), str) and isinstance(p.get("to"), str):
        return f"{p['from']} → {p['to']}"
    if isinstance(p.get("step"), int) and isinstance(p.get("party_id"), str):  # an overdue copy escalated
        told = ", ".join(names.get(i, i) for i in p.get("informed") or []) or "nobody new"
        return f"{names.get(p['party_id'], p['party_id'])}'s copy overdue: step {p['step']}, told {told}"
    words = next((p[k] for k in ("title", "headline", "subject", "rationale", "statement", "reason", "name", "label")
                  if isinstance(p.get(k), str) and p[k]), "")  # fmt: skip
    return str(words) if len(words) <= 80 else f"{words[:79]}…"


@audit_app.command("list")
def audit_list(
    entity: Annotated[str | None, typer.Option(help="a zone, activity, conflict, message … id: its history")] = None,
    party: Annotated[str | None, typer.Option(help="changes this party made (a name or id)")] = None,
    action: Annotated[str | None, typer.Option(help="an action; ending in '.', every one it begins (zone.)")] = None,
    token_id: Annotated[
        str | None, typer.Option("--token-id", help="changes made with this token of your party (tokens list)")
    ] = None,
    last: Annotated[int, typer.Option(min=1, max=5000, help="how many, the newest")] = 50,
    before: Annotated[int | None, typer.Option(min=1, help="the newest before this entry (page back)")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log entries your party may read, the newest last: who made each change (and with
    which of your tokens), the action and what it was about."""
    with _client(url, token) as c:
        known = guarded(c.parties)
        who = party_ids(c, [party], known)[0] if party else None
        names = {p["id"]: p["name"] for p in known}
        rows = guarded(
            lambda: c.audit_entries(
                before=before or MAX_INT, limit=last, party_id=who, entity_id=entity, action=action, token_id=token_id
            )
        )
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No entries.")
        return
    # Lines per entry (the action, the id of what it was about, a few words), so that whole ids fit
    # on an 80-column terminal (to look them up by). The action names the kind of thing.
    table = Table(
        "seq",
        Column("at (UTC)", no_wrap=True, min_width=10),
        Column("by", max_width=18),
        Column("action, about", min_width=36),
    )
    for e in rows:
        by = names.get(e["party_id"], e["party_id"]) if e["party_id"] else "service"
        if e["token"]:
            by += f"\n({e['token']['label']})"
        about = f"{e['action']}\n{e['entity_id']}" + (f"\n{gist}" if (gist := _gist(e, names)) else "")
        # Text, not markup: names, labels and titles are the parties' own words and may hold brackets.
        table.add_row(str(e["seq"]), day_time(e["at"]), Text(by), Text(about), end_section=True)
    out.print(table)


@audit_app.command("verify")
def audit_verify(db: DbOpt = None) -> None:
    """Check the whole audit chain in the database, and every signed head against it. Exit 1 and name
    the first bad entry if anything was modified, deleted, reordered or inserted."""
    from truceline.adapters.db import make_engine
    from truceline.adapters.unit_of_work import SqlUnitOfWork
    from truceline.services import audit

    engine = make_engine(_settings(db).database_url)
    v = guarded(lambda: audit.verify(SqlUnitOfWork(engine)))
    if v.problem is not None:
        fail(f"audit log broken at entry {v.problem.seq}: {v.problem.problem}")
    out.print(f"audit log intact: {v.entries} entries, {v.signed_heads} signed heads verified")


@audit_app.command("head")
def audit_head(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="save the signed head here")] = None,
) -> None:
    """The audit chain's head, signed by the service."""
    with _client(url, token) as c:
        h = guarded(c.audit_head)
    if out_file:
        out_file.write_text(json.dumps(h, indent=2) + "\n", encoding="utf-8")
    _print_json(h)


def _parse_receipt(text: str) -> tuple[int, str]:
    parts = dict(p.strip().split("=", 1) for p in text.split(";") if "=" in p)
    try:
        return int(parts["seq"]), parts["hash"].strip()
    except (KeyError, ValueError):
        fail("a receipt looks like 'seq=42; hash=<64 hex>' (the Truceline-Receipt header)")


@audit_app.command("proof")
def audit_proof(
    receipt: Annotated[str, typer.Option(help="the receipt: 'seq=N; hash=H'")],
    out_file: Annotated[Path, typer.Option("--out", help="write the proof here")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Fetch what proves a receipt: the signed head and the chain from the receipt to it."""
    seq, _ = _parse_receipt(receipt)
    with _client(url, token) as c:
        head = guarded(c.audit_head)
        chain = guarded(lambda: c.audit_chain(seq, head["seq"]))
    out_file.write_text(json.dumps({"head": head, "chain": chain}, indent=2) + "\n", encoding="utf-8")
    out.print(f"proof for entry {seq} up to signed head {head['seq']} written to {out_file}")


@audit_app.command("check-receipt")
def audit_check_receipt(
    receipt: Annotated[str, typer.Option(help="the receipt: 'seq=N; hash=H'")],
    proof: Annotated[Path, typer.Option(help="a file from `truceline audit proof`")],
    public_key: Annotated[str | None, typer.Option(help="the service's public key you trust (base64)")] = None,
) -> None:
    """Offline: check that a receipt is in the chain the service signed. Needs no server."""
    from truceline.domain.audit import Link, head_message, verify_links, verify_signature

    seq, h = _parse_receipt(receipt)
    data = _read_json(proof)
    try:
        head = data["head"]
        links = [Link(int(x["seq"]), x["body_digest"], x["prev_hash"], x["hash"]) for x in data["chain"]]
    except (KeyError, TypeError, ValueError):
        fail(f"{proof}: not a proof file (from `truceline audit proof`)")
    key = public_key or head["public_key"]
    if public_key and public_key != head["public_key"]:
        fail("the head was signed with another key than the one you trust")
    if not verify_signature(key, head_message(int(head["seq"]), head["hash"]), head["signature"]):
        fail("the head's signature does not verify")
    problem = verify_links(links, receipt_seq=seq, receipt_hash=h, head_seq=int(head["seq"]), head_hash=head["hash"])
    if problem:
        fail(f"receipt not proven: {problem}")
    trust = "" if public_key else " (key taken from the head: pass --public-key to pin the one you trust)"
    out.print(f"receipt {seq} is in the chain signed at head {head['seq']} on {moment(head['signed_at'])}{trust}")


@keys_app.command("generate")
def keys_generate(
    out_file: Annotated[Path, typer.Option("--out", help="where to write the private key (PEM)")],
) -> None:
    """Make an Ed25519 key pair; prints the public key to register."""
    from truceline.adapters.keys import generate_pem
    from truceline.domain.audit import public_key_b64

    if out_file.exists():
        fail(f"{out_file} exists: not overwriting a key")
    pem, key = generate_pem()
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    out.print(public_key_b64(key))


@keys_app.command("register")
def keys_register(key_file: Path, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Register your key's public half: from then on every write of your party must be signed
    (set TRUCELINE_SIGNING_KEY to the key file)."""
    from truceline.domain.audit import public_key_b64

    key = _load_private_key(key_file)
    with Client(url, token, signing_key=key, on_retry=_trying_again) as c:
        p = guarded(lambda: c.register_key(public_key_b64(key)))
    out.print(f"registered {p['public_key']} for {p['name']}")


PartyOpt = Annotated[str, typer.Option("--party", help="a party id (admins: another party's tokens)")]


@tokens_app.command("list")
def tokens_list(
    party: PartyOpt = "me", url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """The party's tokens: label, state, when issued, expiring or revoked, and when and from where each
    was last used (never the tokens). A use after a token's revocation is someone still trying it."""
    with _client(url, token) as c:
        items = guarded(lambda: c.tokens(party))
        mine = guarded(c.me)["token"]["id"]
    if as_json:
        _print_json(items)
        return
    out.print(tokens_table(items, mine))


def tokens_table(items: list[dict[str, Any]], mine: str) -> Table:
    """A token per row: its label over its whole id (to revoke by), then its state, issue and last use
    in lines, so that times stay whole on an 80-column terminal."""
    table = Table(Column("token", min_width=36), "state and use")
    for t in items:
        state = {"revoked": f"revoked {moment(t['revoked_at'])}", "expired": f"expired {moment(t['expires_at'])}"}.get(
            t["state"], f"active until {moment(t['expires_at'])}" if t["expires_at"] else "active"
        )
        lines = [f"{state} (this one)" if t["id"] == mine else state, f"issued {moment(t['created_at'])}"]
        if t["last_used_at"] is None:
            lines.append("never used")
        else:
            lines.append(f"last used {moment(t['last_used_at'])} from {t['last_used_from'] or 'an unknown address'}")
            if t["tried_after_revocation"]:
                lines.append("TRIED AFTER ITS REVOCATION")
        table.add_row(Text(f"{t['label']}\n{t['id']}"), Text("\n".join(lines)))
    return table


@tokens_app.command("issue")
def tokens_issue(
    label: Annotated[str, typer.Argument(help="who or what holds it: an officer, a desk, a script")],
    expires: Annotated[str | None, typer.Option(help="RFC 3339 time after which it opens nothing")] = None,
    party: PartyOpt = "me",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue a named token (printed once: hand it over now)."""
    with _client(url, token) as c:
        made = guarded(lambda: c.issue_token(label, expires, party))
        _receipt(c)
    if as_json:
        _print_json(made)
        return
    until = f", until {moment(made['expires_at'])}" if made["expires_at"] else ""
    out.print(f"token {made['label']!r} (id {made['id']}{until})", markup=False)
    out.print(f"token (shown once): {made['token']}", markup=False)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: str, party: PartyOpt = "me", url: UrlOpt = DEFAULT_URL, token: TokenOpt = None
) -> None:
    """Revoke one token now; the others keep working."""
    with _client(url, token) as c:
        gone = guarded(lambda: c.revoke_token(token_id, party))
        _receipt(c)
    out.print(f"revoked {gone['label']!r} at {moment(gone['revoked_at'])}", markup=False)


def main() -> None:
    from truceline.cli import audit_copy, documents, hotline, incidents, tracks  # noqa: F401 - they register their commands

    app()


if __name__ == "__main__":
    main()
