"""The hotline from the command line: ``inbox``, ``send``, ``ack``, ``watch``, ``threads``,
``webhooks`` and ``escalation``. Parties may be named by name or id."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from truceline.cli.cards import add_card, cards, day_time, moment
from truceline.cli.main import (
    DEFAULT_URL,
    JsonOpt,
    OutOpt,
    TokenOpt,
    UrlOpt,
    _client,
    _print_json,
    _receipt,
    app,
    download,
    fail,
    guarded,
    out,
    party_ids,
    thread_id_of,
)

threads_app = typer.Typer(help="Hotline threads your party is in.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Your party's webhooks and their delivery log.", no_args_is_help=True)
escalation_app = typer.Typer(help="Who is told when your party leaves a message unacknowledged.",
                             no_args_is_help=True)
app.add_typer(threads_app, name="threads")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(escalation_app, name="escalation")

STATE_STYLE = {"awaiting": "yellow", "overdue": "bold red", "superseded": "dim", "acknowledged": "green"}


def was_late(acknowledged_at: str | None, deadline: str | None) -> bool:
    """Compared as times, not as strings: "…:00.5Z" sorts before "…:00Z"."""
    if not acknowledged_at or not deadline:
        return False
    return datetime.fromisoformat(acknowledged_at) > datetime.fromisoformat(deadline)


def _my_state(m: dict[str, Any], me: str) -> dict[str, Any] | None:
    return next((a for a in m["addresses"] if a["party"]["id"] == me), None)


@app.command()
def inbox(
    state: Annotated[
        str, typer.Option(help="unacknowledged, awaiting, overdue, acknowledged or all")
    ] = "unacknowledged",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Messages addressed to your party, newest first, with their deadlines."""
    with _client(url, token) as c:
        me = guarded(c.me)["id"]
        items = guarded(lambda: c.inbox(state))
        summary = guarded(c.inbox_summary)
    if as_json:
        _print_json(items)
        return
    table = cards("state", "message")
    for m in items:
        mine = _my_state(m, me) or {"state": "?", "deadline": ""}
        add_card(
            table,
            Text(mine["state"], style=STATE_STYLE.get(mine["state"], "")),
            m["headline"],
            [
                f"{m['severity']} {m['msgType']} from {m['sender']['name'] or m['sender']['id']}",
                f"acknowledge by {moment(mine['deadline'])}" if mine["deadline"] else None,
            ],
            m["id"],
        )
    out.print(table)
    out.print(f"unacknowledged: {summary['unacknowledged']}  overdue: {summary['overdue']}")


@app.command()
def send(
    headline: str,
    thread: Annotated[
        str | None, typer.Option(help="Post in this thread (its id, or words of its subject); without it, a new one")
    ] = None,
    to: Annotated[list[str] | None, typer.Option(help="Party (name or id): the new thread's members, or, in an "
                                                 "existing thread, who must acknowledge (default: all)")] = None,
    subject: Annotated[str | None, typer.Option(help="Subject of a new thread (default: the headline)")] = None,
    msg_type: Annotated[str, typer.Option("--type", help="Alert, Update or Cancel")] = "Alert",
    severity: Annotated[str, typer.Option(help="Extreme, Severe, Moderate, Minor or Unknown")] = "Moderate",
    urgency: Annotated[str, typer.Option(help="Immediate, Expected, Future, Past or Unknown")] = "Expected",
    certainty: Annotated[str, typer.Option(help="Observed, Likely, Possible, Unlikely or Unknown")] = "Unknown",
    description: Annotated[str, typer.Option(help="The body of the message")] = "",
    ref: Annotated[list[str] | None, typer.Option(help="A message this one updates or cancels (id)")] = None,
    conflict: Annotated[str | None, typer.Option(help="The conflict it is about (id)")] = None,
    ack_within: Annotated[float | None, typer.Option(help="Acknowledgement deadline, seconds")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a CAP message: in a thread (--thread) or to parties in a new thread (--to, repeatable)."""
    body: dict[str, Any] = {
        "msgType": msg_type,
        "severity": severity,
        "urgency": urgency,
        "certainty": certainty,
        "headline": headline,
        "description": description,
        "references": ref or [],
    }
    if conflict:
        body["conflict_id"] = conflict
    if ack_within is not None:
        body["ack_within_s"] = ack_within
    with _client(url, token) as c:
        parties = party_ids(c, to or [])
        if thread:
            if parties:
                body["addresses"] = parties
            tid = thread_id_of(c, thread)
            m = guarded(lambda: c.send(tid, body))
        else:
            if not parties:
                fail("name the parties of a new thread with --to, or post in a thread with --thread")
            opened = guarded(lambda: c.open_thread({"subject": subject or headline, "parties": parties,
                                                     "message": body}))
            m = opened["message"]
        _receipt(c)
    _print_sent(m, as_json)


def _print_sent(m: dict[str, Any], as_json: bool) -> None:
    """A message just sent: whole for scripts, else a line naming who must acknowledge it by when."""
    if as_json:
        _print_json(m)
        return
    to_line = ", ".join(f"{a['party']['name']} by {moment(a['deadline'])}" for a in m["addresses"]) or "nobody"
    out.print(f"sent {m['msgType']} {m['id']} in thread {m['thread_id']}; to acknowledge: {to_line}", markup=False)


@app.command()
def cap(message_id: str, output: OutOpt = None, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """A message as an OASIS CAP 1.2 alert (XML), for an alerting system: to a file or standard output."""
    download(url, token, f"/v1/messages/{message_id}/cap", output)


@app.command("cap-send")
def cap_send(
    file: Annotated[Path, typer.Argument(help="a CAP 1.2 alert (XML), as your alerting system wrote it")],
    thread: Annotated[str, typer.Option(help="the thread to post it in (its id, or words of its subject)")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Post a CAP 1.2 alert in a thread, as a message (Alert, Update or Cancel)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    with _client(url, token) as c:
        tid = thread_id_of(c, thread)
        m = guarded(lambda: c.send_cap(tid, file.read_bytes()))
        _receipt(c)
    _print_sent(m, as_json)


@app.command()
def ack(
    message_id: str,
    note: Annotated[str, typer.Option(help="A note with the acknowledgement")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Acknowledge a message addressed to your party."""
    with _client(url, token) as c:
        me = guarded(c.me)["id"]
        m = guarded(lambda: c.ack(message_id, note))
        _receipt(c)
    mine = _my_state(m, me) or {}
    late = " (late)" if was_late(mine.get("acknowledged_at"), mine.get("deadline")) else ""
    out.print(f"acknowledged {m['id']} at {mine.get('acknowledged_at')}{late}: {m['headline']}", markup=False)


def _event_line(ev: dict[str, Any]) -> str:
    d = ev["data"]
    if "summary" in d:  # a zone's negotiation: the sentence says it all
        return f"#{ev['id']} {ev['type']:<21} {d['summary']}"
    m = d.get("message", d)
    who = m.get("sender", {}).get("name") or ""
    extra = ""
    if ev["type"] == "message.acknowledged":
        extra = f" acknowledged by {d['party']['name']}"
    elif ev["type"] in ("message.overdue", "message.escalated"):
        informed = ", ".join(p["name"] for p in d.get("informed", []))
        extra = f" overdue for {d['party']['name']} (step {d['step']}{'; told ' + informed if informed else ''})"
    return f"#{ev['id']} {ev['type']:<21} {m.get('severity', ''):<8} {who}: {m.get('headline', '')}{extra}"


@app.command()
def watch(
    after: Annotated[int | None, typer.Option(help="Start after this event id (0: from the first)")] = None,
    count: Annotated[int | None, typer.Option(help="Stop after this many events")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event and line, for scripts")] = False,
) -> None:
    """A live tail of your party's feed, with unacknowledged and overdue counts. Resumes by itself if the
    connection drops (nothing lost, nothing repeated)."""
    with _client(url, token) as c:
        if not as_json:
            s = guarded(c.inbox_summary)
            out.print(f"watching (unacknowledged: {s['unacknowledged']}, overdue: {s['overdue']}); Ctrl-C to stop")
        seen = 0
        try:
            for ev in guarded(lambda: c.events(after)):
                if as_json:
                    sys.stdout.write(json.dumps(ev, separators=(",", ":")) + "\n")
                    sys.stdout.flush()  # a pipe gets each event as it comes
                else:
                    out.print(_event_line(ev), markup=False, highlight=False)
                    s = guarded(c.inbox_summary)
                    out.print(f"  unacknowledged: {s['unacknowledged']}  overdue: {s['overdue']}", style="dim")
                seen += 1
                if count is not None and seen >= count:
                    break
        except KeyboardInterrupt:
            pass


@threads_app.command("list")
def threads_list(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    """Threads your party is in, most recently active first, each with its latest message."""
    with _client(url, token) as c:
        items = guarded(c.threads)
    if as_json:
        _print_json(items)
        return
    table = cards("updated (UTC)", "thread")
    for t in items:
        lines = [", ".join(m["name"] or m["id"] for m in t["members"])]
        if t.get("last_message"):
            m = t["last_message"]
            lines.append(f"last: {m['msgType']} from {m['sender']['name']}: {m['headline']}")
        add_card(table, day_time(t["updated_at"]), t["subject"], lines, t["id"])
    out.print(table)


@threads_app.command("show")
def threads_show(
    thread_id: Annotated[str, typer.Argument(help="its id, or words of its subject")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A thread's messages in order, with each addressee's acknowledgement."""
    with _client(url, token) as c:
        tid = thread_id_of(c, thread_id)
        t = guarded(lambda: c.thread(tid))
    if as_json:
        _print_json(t)
        return
    out.print(f"[bold]{t['thread']['subject']}[/bold]  id {t['thread']['id']}", highlight=False)
    for m in t["messages"]:
        sent = moment(m["sent"])
        out.print(f"{sent}  {m['msgType']} {m['severity']}  {m['sender']['name']}: {m['headline']}  ({m['id']})",
                  markup=False, highlight=False)
        for a in m["addresses"]:
            when = moment(a["acknowledged_at"]) or f"due {moment(a['deadline'])}"
            out.print(f"    {a['party']['name']}: {a['state']} {when}", markup=False, highlight=False)


@webhooks_app.command("add")
def webhooks_add(
    target: Annotated[str, typer.Argument(metavar="URL", help="Where to POST deliveries")],
    event: Annotated[list[str] | None, typer.Option(help="Only this event type (repeatable)")] = None,
    format: Annotated[
        str, typer.Option("--format", help="json (feed events) or cap (hotline messages as CAP 1.2 alerts)")
    ] = "json",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a webhook; prints its signing secret once."""
    with _client(url, token) as c:
        h = guarded(lambda: c.add_webhook(target, event or [], format))
        _receipt(c)
    if as_json:
        _print_json(h)
        return
    out.print(f"webhook {h['id']} → {h['url']}", markup=False)
    out.print(f"signing secret (shown once): {h['secret']}", markup=False)


@webhooks_app.command("list")
def webhooks_list(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False) -> None:
    with _client(url, token) as c:
        items = guarded(c.webhooks)
    if as_json:
        _print_json(items)
        return
    table = cards("state", "webhook")
    for h in items:
        delivered = ", ".join(f"{k} {v}" for k, v in sorted(h["deliveries"].items()))
        add_card(table, "active" if h["active"] else "inactive", h["url"],
                 [f"{h['format']} · events: {', '.join(h['event_types']) or 'all'}",
                  f"deliveries: {delivered}" if delivered else "no deliveries yet"], h["id"])  # fmt: skip
    out.print(table)


@webhooks_app.command("remove")
def webhooks_remove(hook_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    with _client(url, token) as c:
        guarded(lambda: c.remove_webhook(hook_id))
    out.print(f"webhook {hook_id} removed (its delivery log is kept)")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    hook_id: str,
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log, newest first."""
    with _client(url, token) as c:
        items = guarded(lambda: c.deliveries(hook_id, status))
    if as_json:
        _print_json(items)
        return
    table = cards("status", "delivery")
    for d in items:
        last = d["last_status_code"] or d["last_error"]
        tries = f"{d['attempts']} attempt{'s' if d['attempts'] != 1 else ''}" + (f", last: {last}" if last else "")
        then = f"next attempt {moment(d['next_attempt_at'])}" if d["next_attempt_at"] else None
        add_card(table, d["status"], f"{d['event_type']} (event {d['event_id']})", [tries, then], d["id"])
    out.print(table)


@webhooks_app.command("replay")
def webhooks_replay(hook_id: str, delivery_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Send a logged delivery again."""
    with _client(url, token) as c:
        d = guarded(lambda: c.replay(hook_id, delivery_id))
    out.print(f"queued delivery {d['id']} (replay of {d['replay_of']})")


@escalation_app.command("show")
def escalation_show(url: UrlOpt = DEFAULT_URL, token: TokenOpt = None) -> None:
    """Your party's escalation contacts, in the order they are told."""
    with _client(url, token) as c:
        me = guarded(c.me)["id"]
        r = guarded(lambda: c.escalation_contacts(me))
    out.print(", ".join(p["name"] or p["id"] for p in r["contacts"]) or "no escalation contacts")


@escalation_app.command("set")
def escalation_set(
    contacts: Annotated[list[str], typer.Argument(help="Parties (names or ids), first told first")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Set your party's escalation contacts."""
    with _client(url, token) as c:
        me = guarded(c.me)["id"]
        ids = party_ids(c, contacts)
        r = guarded(lambda: c.set_escalation_contacts(me, ids))
        _receipt(c)
    out.print("escalation contacts: " + (", ".join(p["name"] for p in r["contacts"]) or "none"))
