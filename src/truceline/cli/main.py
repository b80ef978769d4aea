"""The ``truceline`` command. Server-side commands (serve, demo, db, party) work on the database;
the rest talk to a running server through ``truceline.client`` (URL and token from options or
``TRUCELINE_URL`` / ``TRUCELINE_TOKEN``). Errors print one line and exit non-zero."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from truceline.client import ApiError, Client

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
    from truceline.domain.errors import TrucelineError

    try:
        return fn()
    except ApiError as e:
        fail(e.one_line())
    except TrucelineError as e:
        fail(str(e))
    except OSError as e:
        fail(str(e))
    except Exception as e:  # httpx transport errors and the like
        name = type(e).__name__
        fail(f"{name}: {e}")


def _settings(db: str | None, **extra: Any) -> Any:
    from truceline.settings import Settings

    kw: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if db:
        kw["database_url"] = db
    return Settings(**kw)


def _client(url: str, token: str | None) -> Client:
    if not token:
        fail("no token: pass --token or set TRUCELINE_TOKEN")
    return Client(url, token)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        fail(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")


# ---- server side ---------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    db: DbOpt = None,
) -> None:
    """Run the API server."""
    import uvicorn

    from truceline.api.app import create_app

    settings = _settings(db, host=host, port=port)
    application = guarded(lambda: create_app(settings))
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    db: Annotated[str, typer.Option("--db", help="Database URL")] = "sqlite:///./truceline-demo.db",
    tokens_file: Annotated[Path | None, typer.Option(help="Write {party name: token} as JSON here")] = None,
    scenario: Annotated[str, typer.Option(help="Scenario to load")] = "syria-2017",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the scenario and exit")] = False,
) -> None:
    """Load the demo scenario (idempotent) and serve it; prints the docs URL and a token per party."""
    import uvicorn

    from truceline.adapters.unit_of_work import SqlUnitOfWork
    from truceline.api.app import create_app
    from truceline.services import scenario as scenarios

    settings = _settings(db, host=host, port=port)
    application = guarded(lambda: create_app(settings))
    ctx = application.state.ctx
    loaded = guarded(
        lambda: scenarios.load(lambda: SqlUnitOfWork(ctx.engine, write=True), ctx.policy, scenarios.read(scenario))
    )
    if tokens_file is not None:
        tokens_file.write_text(json.dumps(loaded.tokens, indent=2) + "\n", encoding="utf-8")
    base = f"http://{host}:{port}"
    # Plain lines, never a table: a token cut to fit the terminal would be useless.
    out.print(f"Scenario {loaded.name}: one token per party", style="bold")
    width = max(len(n) for n in loaded.tokens)
    for name, token in loaded.tokens.items():
        out.print(f"  {name:<{width}}  {token}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"Truceline demo on {base}  API docs: {base}/docs  database: {db}")
    out.print(f"Try: TRUCELINE_TOKEN=<a token above> truceline conflicts list --url {base}")
    if not no_serve:
        uvicorn.run(application, host=host, port=port, log_level="info")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create or migrate the schema to the latest revision."""
    from truceline.adapters.db import make_engine
    from truceline.adapters.migrate import current, upgrade

    settings = _settings(db)
    engine = make_engine(settings.database_url)
    guarded(lambda: upgrade(engine))
    out.print(f"database at revision {current(engine)}")


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
    table = Table("name", "role", "id")
    for r in rows:
        table.add_row(r["name"], r["role"], r["id"])
    out.print(table)


# ---- client side ---------------------------------------------------------------------------------


def _zone_table(zones: list[dict[str, Any]]) -> Table:
    table = Table("name", "kind", "status", "rev", "effective", "forbids", "id")
    for z in zones:
        until = z.get("effective_until") or "…"
        table.add_row(
            z["name"],
            z["kind"],
            z["status"],
            str(z["revision"]),
            f"{z['effective_from']} → {until}",
            ", ".join(z["forbidden_kinds"]),
            z["id"],
        )
    return table


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


@zones_app.command("show")
def zones_show(zone_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Show one zone."""
    with _client(url, token) as c:
        z = guarded(lambda: c.zone(zone_id))
    if as_json:
        _print_json(z)
        return
    out.print(_zone_table([z]))
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


def _print_conflicts(conflicts: list[dict[str, Any]]) -> None:
    """One block per conflict: the reason is the point, so it is never cut."""
    if not conflicts:
        out.print("no conflicts")
    for c in conflicts:
        between = ", ".join(
            f"{a['owner']['name']} ({a['kind']}{': ' + a['title'] if a.get('title') else ''})" for a in c["activities"]
        )
        if c.get("zone"):
            between += f"  ×  zone {c['zone']['name']}"
        out.print(
            f"[bold]{c['rule']}[/bold] [{'red' if c['status'] == 'open' else 'green'}]{c['status']}[/]  id {c['id']}",
            highlight=False,
        )
        out.print(f"  {between}", markup=False, highlight=False)
        out.print(f"  {c['reason']}", markup=False, highlight=False)
        if c.get("closed_reason"):
            out.print(f"  closed: {c['closed_reason']}", markup=False, highlight=False)


@app.command()
def notify(file: Path, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Notify activities from a GeoJSON Feature or FeatureCollection; prints the conflicts found."""
    from truceline.adapters.geojson_io import activity_bodies

    bodies = guarded(lambda: activity_bodies(_read_json(file)))
    results = []
    with _client(url, token) as c:
        for b in bodies:
            results.append(guarded(partial(c.notify, b)))
    if as_json:
        _print_json(results)
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
) -> None:
    """List your party's activities."""
    with _client(url, token) as c:
        items = guarded(lambda: c.activities(status=status))
    if as_json:
        _print_json(items)
        return
    table = Table("kind", "title", "status", "start", "end", "volumes", "id")
    for a in items:
        table.add_row(
            a["kind"], a["title"], a["status"], a["time_start"], a["time_end"], str(len(a["volumes"])), a["id"]
        )
    out.print(table)


@activities_app.command("cancel")
def activities_cancel(activity_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Cancel one of your activities (its conflicts close)."""
    with _client(url, token) as c:
        guarded(lambda: c.cancel(activity_id))
    out.print(f"cancelled {activity_id}")


@conflicts_app.command("list")
def conflicts_list(
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    status: Annotated[str, typer.Option(help="open, closed or all")] = "open",
) -> None:
    """List the conflicts that concern your party."""
    with _client(url, token) as c:
        items = guarded(lambda: c.conflicts(status=status))
    _print_json(items) if as_json else _print_conflicts(items)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
