"""A zone's documents from the command line: the texts on how it works (the rules of a buffer, a
memorandum), read, attached, revised, and signed or refused by its signatories like a revision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.cards import moment
from truceline.cli.main import (
    DEFAULT_URL,
    JsonOpt,
    TokenOpt,
    UrlOpt,
    ZoneArg,
    _client,
    _names,
    _print_json,
    _receipt,
    fail,
    guarded,
    out,
    zone_id_of,
    zones_app,
)
from truceline.client import Client

documents_app = typer.Typer(help="A zone's documents: read, attach, revise, sign, object.", no_args_is_help=True)
zones_app.add_typer(documents_app, name="documents")

DocArg = Annotated[str, typer.Argument(help="the document's id, or words of its title")]
FileOpt = Annotated[Path, typer.Option("--file", help="the text (markdown), from this file")]


def _documents(c: Client, zone_ref: str) -> tuple[str, list[dict[str, Any]]]:
    zid = zone_id_of(c, zone_ref)
    return zid, list(guarded(lambda: c.negotiation(zid))["documents"])


def _document(c: Client, zone_ref: str, ref: str) -> tuple[str, dict[str, Any]]:
    """A zone's document by its id, or by words of its title that name one document only."""
    zid, docs = _documents(c, zone_ref)
    exact = [d for d in docs if d["id"] == ref]
    found = exact or [d for d in docs if ref.casefold() in d["title"].casefold()]
    if len(found) != 1:
        titles = "; ".join(f"{d['title']} ({d['id']})" for d in (found or docs)) or "none"
        fail(f"{'no' if not found else 'more than one'} document of the zone matches {ref!r}: {titles}")
    return zid, found[0]


def _act(
    url: str, token: str | None, as_json: bool, zone_ref: str, ref: str,
    call: Callable[[Client, str, dict[str, Any]], dict[str, Any]], said: Callable[[dict[str, Any]], str],
) -> None:  # fmt: skip
    """A step on one document as read now (its current version): done, its receipt, one line."""
    with _client(url, token) as c:
        zid, d = _document(c, zone_ref, ref)
        done = guarded(lambda: call(c, zid, d))
        _receipt(c)
    shown = f"{said(d)}: {_line(done)}"
    _print_json(done) if as_json else out.print(shown, markup=False, highlight=False, soft_wrap=True)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{file}: {e}")


def _line(d: dict[str, Any]) -> str:
    waiting = _names(d["unsigned_by"])
    state = "signed final by every signatory" if not d["unsigned_by"] else f"to sign final: {waiting}"
    return f"{d['title']}  version {d['version']}, {moment(d['updated_at'])}; {state}  ({d['id']})"


@documents_app.command("list")
def documents_list(
    zone_id: ZoneArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """The zone's documents, each with who has yet to sign its current version final."""
    with _client(url, token) as c:
        _, docs = _documents(c, zone_id)
    if as_json:
        _print_json(docs)
        return
    if not docs:
        out.print("no documents", markup=False)
    for d in docs:
        out.print(_line(d), markup=False, highlight=False, soft_wrap=True)


@documents_app.command("show")
def documents_show(
    zone_id: ZoneArg, document: DocArg, url: UrlOpt = DEFAULT_URL, token: TokenOpt = None, as_json: JsonOpt = False
) -> None:
    """A document: its text, and every sign-off and objection on it."""
    with _client(url, token) as c:
        _, d = _document(c, zone_id, document)
    if as_json:
        _print_json(d)
        return
    out.print(_line(d), markup=False, highlight=False, soft_wrap=True)
    for p in d["positions"]:
        said = f": {p['statement']}" if p["statement"] else ""
        out.print(f"  {moment(p['at'])} {p['party']['name']}: {p['position']} on version {p['revision']}{said}",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    out.print("")
    out.print(d["body"], markup=False, highlight=False, soft_wrap=True)


@documents_app.command("add")
def documents_add(
    zone_id: ZoneArg,
    title: Annotated[str, typer.Option(help="its title")],
    file: FileOpt,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach a document to a zone (a signatory): its signatories then sign it like a revision."""
    body = _read(file)
    with _client(url, token) as c:
        d = guarded(lambda: c.add_document(zone_id_of(c, zone_id), title, body))
        _receipt(c)
    _print_json(d) if as_json else out.print(f"attached: {_line(d)}", markup=False, highlight=False, soft_wrap=True)


@documents_app.command("revise")
def documents_revise(
    zone_id: ZoneArg,
    document: DocArg,
    file: Annotated[Path | None, typer.Option("--file", help="the new text (markdown), from this file")] = None,
    title: Annotated[str | None, typer.Option(help="a new title")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new version of a document (a signatory); the signatures of earlier versions no longer count.
    The version you read is the one replaced: if someone revised it since, nothing changes."""
    if file is None and title is None:
        fail("give --file, --title or both")
    change: dict[str, Any] = {}
    if file is not None:
        change["body"] = _read(file)
    if title is not None:
        change["title"] = title
    _act(url, token, as_json, zone_id, document, lambda c, zid, d: c.revise_document(
        zid, d["id"], {**change, "version": d["version"]}), lambda d: "revised")


@documents_app.command("sign")
def documents_sign(
    zone_id: ZoneArg,
    document: DocArg,
    strength: Annotated[str, typer.Option(help="in_principle or final")] = "final",
    statement: Annotated[str, typer.Option("--statement", "-m", help="a statement")] = "",
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign a document's current version (a signatory), final unless --strength in_principle."""
    _act(url, token, as_json, zone_id, document, lambda c, zid, d: c.sign_document(
        zid, d["id"], {"version": d["version"], "strength": strength, "statement": statement}),
        lambda d: f"signed version {d['version']} ({strength})")  # fmt: skip


@documents_app.command("object")
def documents_object(
    zone_id: ZoneArg,
    document: DocArg,
    statement: Annotated[str, typer.Option("--statement", "-m", help="why")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse a document's current version (a signatory), saying why."""
    _act(url, token, as_json, zone_id, document, lambda c, zid, d: c.sign_document(
        zid, d["id"], {"version": d["version"], "statement": statement}, objection=True),
        lambda d: f"objected to version {d['version']}")  # fmt: skip
