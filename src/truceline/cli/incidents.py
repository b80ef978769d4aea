"""Ceasefire monitoring from the command line: incidents (list, show, report, verification steps,
duplicates), ACLED/UCDP import and export with progress, a zone's ceasefire timeline, the daily sitrep."""

from __future__ import annotations

import csv
import hashlib
import io
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from truceline.cli.cards import add_card, cards, moment
from truceline.cli.main import (
    DEFAULT_URL,
    JsonOpt,
    OutOpt,
    TokenOpt,
    UrlOpt,
    _client,
    _for_people,
    _print_json,
    _read_json,
    _receipt,
    app,
    download,
    err,
    fail,
    guarded,
    out,
    zone_id_of,
)

incidents_app = typer.Typer(
    help="Incidents: report, verify, merge duplicates, import and export.", no_args_is_help=True
)
app.add_typer(incidents_app, name="incidents")

STATUS_STYLE = {"verified": "bold red", "disputed": "yellow", "rejected": "dim", "under_review": "cyan"}
DAY_STYLE = {"broken": "bold red", "strained": "yellow", "holding": "green", "not_in_force": "dim"}
FromOpt = Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")]


def _where(i: dict[str, Any]) -> str:
    loc = i["location"]
    return loc["name"] or f"{loc['latitude']:.3f}, {loc['longitude']:.3f}"


def _table(items: list[dict[str, Any]]) -> Table:
    # One column tells the incident in lines (what, where, who, deaths, zones, id), wide enough for a
    # whole id: on an 80-column terminal eight narrow columns squeezed every word to a letter or two.
    t = Table(
        Column("date", no_wrap=True, min_width=10),
        Column("incident", min_width=40),
        Column("status", no_wrap=True, min_width=8),
    )
    for i in items:
        actors = " / ".join(a["name"] for a in (i["actor1"], i["actor2"]) if a)
        zones = ", ".join(z["zone_name"] or z["zone_id"] for z in i["possible_violation_of"])
        status = i["status"]
        lines = [
            f"{i['event_type']}: {i['sub_event_type']}",
            f"{_where(i)} · {actors}" if actors else _where(i),
            f"deaths: {i['fatalities']['best']}" + (f" · may violate: {zones}" if zones else ""),
            f"id {i['id']}",
        ]
        # Text, not markup: names and places come from reports and may hold brackets.
        shown = Text(status.replace("_", " "), style=STATUS_STYLE.get(status, ""))
        t.add_row(i["event_date"], Text("\n".join(lines)), shown, end_section=True)
    return t


@incidents_app.command("list")
def incidents_list(
    status: Annotated[str | None, typer.Option(help="reported, under_review, verified, disputed, rejected")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="an ACLED event type")] = None,
    zone: Annotated[str | None, typer.Option(help="possible violations of this zone")] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    limit: int = 200,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Incidents, newest first."""
    with _client(url, token) as c:
        items = guarded(
            lambda: c.incidents(status=status, event_type=event_type, zone=zone and zone_id_of(c, zone), from_=from_,
                                to=to, limit=limit)
        )
    if as_json:
        _print_json(items)
    else:
        out.print(_table(items))


@incidents_app.command("show")
def incidents_show(
    incident_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """One incident with its sources, zones, verification steps and merged duplicates."""
    i = _for_people(url, token, lambda c: c.incident(incident_id), as_json)
    if i is None:
        return
    out.print(_table([i]))
    for s in i["sources"]:
        out.print(
            f"source: {s['name']}"
            + (f" ({s['scale']})" if s.get("scale") else "")
            + (f" — {s['notes']}" if s.get("notes") else ""),
            markup=False,
        )
    if i["alleged"]:
        out.print("alleged: " + ", ".join(p["name"] or p["id"] for p in i["alleged"]), markup=False)
    for s in i["steps"]:
        who = (s["party"] or {}).get("name") or "-"
        out.print(f"{moment(s['at'])}  {who}: {s['step']} {s['from']} → {s['to']}  {s['statement']}", markup=False)
    for m in i["merged"]:
        out.print(f"merged: {m['id']} ({', '.join(s['name'] for s in m['sources'])})", markup=False)
    for e in i.get("evidence", []):
        who = (e["added_by"] or {}).get("name") or "-"
        out.print(f"evidence {e['id']}: {e['resourceDesc']} ({e['mimeType']}, {_size(e['size'])}), "
                  f"{who}, {moment(e['added_at'])}, sha256 {e['sha256']}", markup=False, highlight=False)  # fmt: skip


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 10_000 else f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} kB"


evidence_app = typer.Typer(help="Evidence attached to an incident: a photograph, a report.", no_args_is_help=True)
incidents_app.add_typer(evidence_app, name="evidence")


@evidence_app.command("add")
def evidence_add(
    incident_id: str,
    file: Path,
    description: Annotated[str, typer.Option("--desc", "-d", help="what it is: a photograph of the crater, ...")],
    mime_type: Annotated[
        str | None, typer.Option("--type", help="its media type (default: from the file's name)")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach a file to an incident; prints its SHA-256, which the audit log keeps."""
    try:
        content = file.read_bytes()
    except OSError as problem:
        fail(f"{file}: {problem.strerror or problem}")
    kind = mime_type or mimetypes.guess_type(file.name, strict=False)[0] or "application/octet-stream"
    with _client(url, token) as c:
        got = guarded(lambda: c.add_evidence(incident_id, description, kind, content))
        _receipt(c)
    if as_json:
        _print_json(got["evidence"])
        return
    e = got["evidence"]
    out.print(f"attached evidence {e['id']} to incident {incident_id}: {e['resourceDesc']} ({e['mimeType']}, "
              f"{_size(e['size'])}), sha256 {e['sha256']}", markup=False, highlight=False)  # fmt: skip


@evidence_app.command("get")
def evidence_get(
    incident_id: str,
    evidence_id: str,
    to: Annotated[Path, typer.Option("--out", "-o", help="the file to write")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Fetch evidence into a file, checked against the SHA-256 the service recorded for it."""
    with _client(url, token) as c:
        i = guarded(lambda: c.incident(incident_id))
        e = next((x for x in i.get("evidence", []) if x["id"] == evidence_id), None)
        if e is None:
            fail(f"incident {incident_id} has no evidence {evidence_id}")
        content = guarded(lambda: c.evidence_content(e["uri"]))
    if hashlib.sha256(content).hexdigest() != e["sha256"]:
        fail(f"evidence {evidence_id}: what came does not match its recorded SHA-256; nothing written")
    to.write_bytes(content)
    out.print(f"wrote {to} ({_size(len(content))}), sha256 {e['sha256']} matches", markup=False, highlight=False)


@incidents_app.command("report")
def incidents_report(file: Path, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Report an incident from a JSON file (see POST /v1/incidents in /docs for the fields)."""
    body = _read_json(file)
    with _client(url, token) as c:
        i = guarded(lambda: c.report_incident(body))
        _receipt(c)
    if as_json:
        _print_json(i)
    else:
        out.print(_table([i]))


@incidents_app.command("step")
def incidents_step(
    incident_id: str,
    step: Annotated[str, typer.Argument(help="review, verify, reject or dispute")],
    statement: Annotated[str, typer.Option("--statement", "-m", help="why (required to verify, reject, dispute)")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """A verification step: monitors review, verify and reject; an alleged party disputes."""
    with _client(url, token) as c:
        i = guarded(lambda: c.incident_step(incident_id, step, statement))
        _receipt(c)
    out.print(f"{incident_id}: {i['status']}", markup=False)


@incidents_app.command("duplicates")
def incidents_duplicates(
    incident_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """Records that may be the same event, with the reasons."""
    with _client(url, token) as c:
        found = guarded(lambda: c.duplicates(incident_id))
    if as_json:
        _print_json(found)
        return
    t = cards("score", "may be the same event")
    for d in found:
        i = d["incident"]
        add_card(t, f"{d['score']:.2f}", f"{i['event_date']} · {_where(i)}", d["reasons"], i["id"])
    out.print(t)


@incidents_app.command("merge")
def incidents_merge(
    incident_id: str,
    duplicates: list[str],
    statement: Annotated[str, typer.Option("--statement", "-m")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Merge duplicates into an incident (every source and report is kept)."""
    with _client(url, token) as c:
        i = guarded(lambda: c.merge(incident_id, duplicates, statement))
        _receipt(c)
    out.print(f"{incident_id}: {len(i['merged'])} merged, {len(i['sources'])} sources", markup=False)


@incidents_app.command("unmerge")
def incidents_unmerge(
    incident_id: str,
    duplicate: str,
    statement: Annotated[str, typer.Option("--statement", "-m")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Undo a merge: the duplicate stands alone again."""
    with _client(url, token) as c:
        guarded(lambda: c.unmerge(incident_id, duplicate, statement))
        _receipt(c)
    out.print(f"{duplicate}: separated from {incident_id}", markup=False)


def _chunks(path: Path, rows: int) -> Any:
    """(header, [(file line, record)], bytes read so far) for each chunk of ``rows`` records."""
    f = path.open("rb")
    text = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        fail(f"{path}: the file is empty")
    except csv.Error as e:
        fail(f"{path}: not a CSV file: {e}")
    chunk: list[tuple[int, list[str]]] = []
    line = reader.line_num + 1
    try:
        for rec in reader:
            chunk.append((line, rec))
            line = reader.line_num + 1
            if len(chunk) >= rows:
                yield header, chunk, f.tell()
                chunk = []
    except csv.Error as e:
        fail(f"{path}:{line}: unreadable CSV: {e}")
    if chunk:
        yield header, chunk, f.tell()
    f.close()


@incidents_app.command("import")
def incidents_import(
    file: Path,
    fmt: Annotated[str, typer.Option("--format", help="acled or ucdp")] = "acled",
    chunk_rows: Annotated[int, typer.Option("--chunk", help="rows per request")] = 20_000,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import an ACLED or UCDP GED CSV file, in chunks, with a progress bar. Bad rows are listed by
    file line with the column and reason; the good ones are kept. Importing a file again adds nothing."""
    if fmt not in ("acled", "ucdp"):
        fail(f"--format must be acled or ucdp, not {fmt!r}")
    if not file.is_file():
        fail(f"{file}: no such file")
    total = file.stat().st_size
    summary: dict[str, Any] = {"rows": 0, "inserted": 0, "unchanged": 0, "rejected": 0, "zone_links": 0, "problems": []}
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
    )
    with _client(url, token) as c, progress:
        task = progress.add_task("import", total=total, rows="0")
        for header, chunk, done in _chunks(file, chunk_rows):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(header)
            w.writerows(rec for _, rec in chunk)
            rep = guarded(lambda buf=buf: c.import_incidents(buf.getvalue().encode(), fmt))  # type: ignore[misc]
            for k in ("inserted", "unchanged", "rejected", "zone_links"):
                summary[k] += rep[k]
            for p in rep["problems"]:  # the server numbers rows within the chunk: back to file lines
                summary["problems"].append({**p, "line": chunk[p["row"] - 1][0], "row": summary["rows"] + p["row"]})
            summary["rows"] += len(chunk)
            progress.update(task, completed=done, rows=f"{summary['rows']:,}")
    if as_json:
        _print_json(summary)
        return
    for p in summary["problems"][:50]:
        line = f"{file}:{p['line']}: {p['column'] or 'row'}: {p['detail']}"
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    if len(summary["problems"]) > 50:
        err.print(f"… and {len(summary['problems']) - 50} more refused rows (use --json for all)")
    out.print(
        f"{summary['rows']:,} rows: {summary['inserted']:,} imported, {summary['unchanged']:,} already there, "
        f"{summary['rejected']:,} refused; {summary['zone_links']:,} zone links",
        markup=False,
    )


@incidents_app.command("export")
def incidents_export(
    output: OutOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="csv (ACLED columns) or geojson")] = "csv",
    zone: Annotated[str | None, typer.Option(help="possible violations of this zone")] = None,
    status: str | None = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Export incidents as ACLED-column CSV or GeoJSON, streamed."""
    if fmt not in ("csv", "geojson"):
        fail(f"--format must be csv or geojson, not {fmt!r}")
    if zone:
        with _client(url, token) as c:
            zone = zone_id_of(c, zone)
    download(url, token, "/v1/incidents/export", output, format=fmt, zone=zone, status=status, from_=from_, to=to)


@app.command()
def ceasefire(
    zone_id: str,
    from_: FromOpt = None,
    to: ToOpt = None,
    chart: Annotated[Path | None, typer.Option(help="also write the chart here (.png or .svg)")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A zone's ceasefire day by day: incidents, deaths, violations and status."""
    with _client(url, token) as c:
        zone_id = zone_id_of(c, zone_id)
        tl = guarded(lambda: c.ceasefire(zone_id, from_=from_, to=to))
        if chart is not None:
            kind = chart.suffix.lower().lstrip(".")
            if kind not in ("png", "svg"):
                fail("--chart must end in .png or .svg")
            image = guarded(lambda: c.ceasefire(zone_id, kind, from_=from_, to=to))
            chart.write_bytes(image)
    if as_json:
        _print_json(tl)
        return
    title = Text(f"{tl['zone']['name']}: ceasefire (violations possible and verified)")
    # at 80 columns the date and the status stay whole and the reason wraps; light rules leave it room
    number = {"justify": "right", "no_wrap": True}
    t = Table(Column("date", no_wrap=True, min_width=10), Column("status", no_wrap=True),
              Column("incidents", **number), Column("possible", **number), Column("verified", **number),  # type: ignore[arg-type]
              Column("deaths", **number), Column("why", ratio=1), title=title, box=box.SIMPLE_HEAD,  # type: ignore[arg-type]
              pad_edge=False, padding=(0, 0), show_edge=False)
    for d in tl["days"]:
        t.add_row(
            d["date"],
            Text(d["status"].replace("_", " "), style=DAY_STYLE.get(d["status"], "")),
            str(d["incidents"]),
            str(d["possible_violations"]),
            str(d["verified_violations"]),
            str(d["fatalities"]),
            d["reason"],
        )
    out.print(t)
    if chart is not None:
        err.print(f"wrote {chart}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def sitrep(
    day: Annotated[str, typer.Option("--date", help="the day, YYYY-MM-DD")],
    zone: Annotated[str | None, typer.Option(help="only this zone (its id, or its name)")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="directory to write the report in")] = Path("."),
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Write the daily situation report for a day as HTML and PDF (sitrep-DATE.html, sitrep-DATE.pdf):
    a map of the zones with the day's incidents, each zone's ceasefire status, your open conflicts and
    overdue hotline messages. Rendered by the server, offline."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with _client(url, token) as c:
        zone = zone and zone_id_of(c, zone)
        for kind in ("html", "pdf"):
            content = guarded(lambda kind=kind: c.sitrep(day, kind, zone))  # type: ignore[misc]
            # the whole id: time-ordered ids share their first half, so a part would name every zone alike
            path = out_dir / f"sitrep-{day}{'-' + zone if zone else ''}.{kind}"
            path.write_bytes(content)
            out.print(f"wrote {path}", markup=False, highlight=False)
