"""Live tracks from the command line: ``tracks send``, ``tracks replay`` and ``alerts``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.cards import add_card, cards, moment
from truceline.cli.main import (
    DEFAULT_URL,
    JsonOpt,
    TokenOpt,
    UrlOpt,
    _client,
    _print_json,
    app,
    err,
    fail,
    guarded,
    out,
)
from truceline.client import Client
from truceline.domain.tracks import replay_schedule, restamp

tracks_app = typer.Typer(help="Live tracks: send reports, replay a recording.", no_args_is_help=True)
app.add_typer(tracks_app, name="tracks")

BATCH = 5_000


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(file line, record); one line naming any line that is not JSON."""
    out_: list[tuple[int, dict[str, Any]]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        fail(f"{path}: {e.strerror or e}")
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out_.append((n, json.loads(line)))
            except ValueError as e:
                fail(f"{path}:{n}: not valid JSON: {e}")
    return out_


def _post(c: Client, lines: list[tuple[int, dict[str, Any]]]) -> tuple[int, list[str]]:
    """Send reports; returns (accepted, one line per refused report naming its file line)."""
    body = "\n".join(json.dumps(r) for _, r in lines).encode()
    try:
        r = c.report_tracks(body)
    except Exception as e:  # a batch refused whole (all bad) still names its lines
        from truceline.client import ApiError

        if isinstance(e, ApiError) and e.status == 422 and e.problem.get("errors"):
            bad = []
            for x in e.problem["errors"]:
                idx = int(x["pointer"].split("/")[1])
                bad.append(f"line {lines[idx][0]}: {x['detail'].split(': ', 1)[-1]} ({x['pointer'].split('/', 2)[-1]})")
            return 0, bad
        raise
    bad = [f"line {lines[x['line'] - 1][0]}: " + "; ".join(f"{e['pointer'] or '/'}: {e['detail']}" for e in x["errors"])
           for x in r["rejected"]]
    return int(r["accepted"]), bad


@tracks_app.command("send")
def tracks_send(file: Path, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Send position reports from an NDJSON file (one report per line), in batches."""
    records = _records(file)
    accepted, refused = 0, []
    with _client(url, token) as c:
        for s in range(0, len(records), BATCH):
            a, b = guarded(lambda s=s: _post(c, records[s : s + BATCH]))  # type: ignore[misc]
            accepted += a
            refused += b
    for line in refused[:50]:
        err.print(f"{file}:{line}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"sent {len(records)} reports: {accepted} accepted, {len(refused)} refused")
    if refused and not accepted:
        raise typer.Exit(1)


@tracks_app.command("replay")
def tracks_replay(
    file: Path,
    speed: Annotated[float, typer.Option(help="How many times faster than recorded")] = 1.0,
    tokens_file: Annotated[Path | None, typer.Option(help="{party name: token} (the demo writes one): send each "
                                                      "record as the party it names")] = None,
    loop: Annotated[bool, typer.Option(help="Start again at the end")] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Replay a recorded NDJSON file in real time (times re-stamped to now), for demos and tests."""
    if speed <= 0:
        fail("--speed must be positive")
    records = [r for _, r in _records(file)]
    tokens: dict[str, str] = {}
    if tokens_file is not None:
        try:
            tokens = json.loads(tokens_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            fail(f"{tokens_file}: {e}")
    elif not token:
        fail("no token: pass --token, set TRUCELINE_TOKEN, or give --tokens-file")
    schedule = replay_schedule(records, speed)
    clients: dict[str, Client] = {}

    def client_for(party: str | None) -> Client | None:
        key = party or ""
        if key not in clients:
            tok = tokens.get(key) if tokens else token
            if tok is None:
                return None
            clients[key] = _client(url, tok)
        return clients[key]

    sent = accepted = 0
    try:
        while True:
            started = time.monotonic()
            for offset, group in schedule:
                time.sleep(max(0.0, offset - (time.monotonic() - started)))
                now = datetime.now(UTC)
                by_party: dict[str | None, list[tuple[int, dict[str, Any]]]] = {}
                for n, r in enumerate(group, start=1):
                    by_party.setdefault(r.get("party") if tokens else None, []).append((n, restamp(r, now)))
                for party, lines in by_party.items():
                    c = client_for(party)
                    if c is not None:
                        a, _ = guarded(lambda c=c, lines=lines: _post(c, lines))  # type: ignore[misc]
                        sent += len(lines)
                        accepted += a
            if not loop:
                break
    except KeyboardInterrupt:
        pass
    finally:
        for c in clients.values():
            c.close()
    out.print(f"replayed {sent} reports at {speed:g}x: {accepted} accepted")


@app.command()
def alerts(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Current separation and incursion alerts that concern your party."""
    with _client(url, token) as c:
        view = guarded(c.alerts)
    if as_json:
        _print_json(view)
        return
    if not view["alerts"]:
        out.print(f"no alerts at {moment(view['at'])}")
        return
    table = cards("in", "alert")
    for a in view["alerts"]:
        who = ", ".join(f"{t['callsign']} ({t['owner']['name']})" for t in a["tracks"])
        when = "now" if a.get("loss_of_separation_now") or a.get("inside_now") else f"{a['t_in_s']:.0f} s"
        lines = [
            f"zone {a['zone_name']}" if a.get("zone_name") else None,
            f"closest {a['dcpa_m'] / 1852:.1f} NM" if "dcpa_m" in a else None,
            f"until {moment(a['time_out'])}" if a["time_out"] else None,
            f"conflict {a['conflict_id']}" if a["conflict_id"] else None,
        ]
        add_card(table, when, f"{a['rule']}: {who}", lines, None)
    out.print(table)
    out.print(f"at {moment(view['at'])}")
