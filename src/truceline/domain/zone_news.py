"""What a zone's negotiation tells the parties: who is told of each change, and the sentence they read.

A zone's status is everyone's business (every party plans around the zones in force), so a status
move goes to every party, but for a proposal's move into negotiation, which is a step like the rest.
The rest of a negotiation (revisions, sign-offs, objections, requests for
responsibilities and their answers, documents) goes to the parties it concerns: the proposer, the
signatories and the parties asked or assigned to guarantee, police or monitor the zone, including
the party that acted, so its other officers see it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from truceline.domain.model import Party, ResponsibilityStatus, Zone

#: Feed event types a zone's negotiation publishes (the audit log's action names).
ZONE_EVENT_TYPES = (
    "zone.proposed",
    "zone.revised",
    "zone.signed",
    "zone.objected",
    "zone.status",
    "zone.responsibility_requested",
    "zone.responsibility_accepted",
    "zone.responsibility_declined",
    "document.added",
    "document.revised",
    "document.signed",
    "document.objected",
)

#: What of an audit payload a feed event repeats (a revision's whole snapshot is read from the zone).
DETAIL_KEYS = (
    "revision",
    "rationale",
    "position",
    "statement",
    "from",
    "to",
    "computed",
    "party",
    "role",
    "signatories",
    "title",
    "version",
)

_ROLE_VERB = {"guarantor": "be a guarantor of", "police": "police", "monitor": "monitor"}
_POSITION = {"in_principle": "in principle", "final": "final"}


def for_everyone(action: str, details: Mapping[str, Any]) -> bool:
    """Whether every party is told, not only the parties the zone concerns."""
    return action == "zone.status" and details.get("to") != "negotiating"


def concerned(zone: Zone) -> list[str]:
    """The parties a negotiation step concerns, in a stable order: proposer, signatories, then every
    party asked or assigned a responsibility that has not declined it."""
    asked = [r.party_id for r in zone.responsible if r.status is not ResponsibilityStatus.declined]
    return list(dict.fromkeys([zone.created_by, *zone.signatories, *asked]))


def is_told(party_id: str, action: str, details: Mapping[str, Any], zone: Zone, actor_id: str | None) -> bool:
    """Whether ``party_id`` is told of this step: the rule the live feed follows, for readers of the
    record afterwards (the daily report)."""
    return for_everyone(action, details) or party_id == actor_id or party_id in concerned(zone)


def _said(text: object) -> str:
    text = str(text or "").strip()
    return f": {text}" if text else ""


def summary(action: str, zone_name: str, by: str | None, details: Mapping[str, Any], name: Callable[[str], str]) -> str:
    """One sentence for people: what happened to the zone, by whom, and what they said."""
    who = by or "Truceline"
    z = f"'{zone_name}'"
    d = details
    if action == "zone.proposed":
        sigs = ", ".join(name(p) for p in d.get("signatories", []))
        return f"{who} proposed the zone {z} (signatories: {sigs}){_said(d.get('rationale'))}"
    if action == "zone.revised":
        return (
            f"{who} revised {z} to revision {d.get('revision')}; earlier sign-offs no longer count"
            f"{_said(d.get('rationale'))}"
        )
    if action == "zone.signed":
        strength = _POSITION.get(str(d.get("position")), str(d.get("position")))
        return f"{who} signed revision {d.get('revision')} of {z} ({strength}){_said(d.get('statement'))}"
    if action == "zone.objected":
        return f"{who} objected to revision {d.get('revision')} of {z}{_said(d.get('statement'))}"
    if action == "zone.status":
        to = str(d.get("to", "")).replace("_", " ")
        if d.get("computed"):
            return f"{z} is now {to}"
        return f"{who} made {z} {to}{_said(d.get('rationale'))}"
    if action == "zone.responsibility_requested":
        verb = _ROLE_VERB.get(str(d.get("role")), str(d.get("role")))
        asked = name(str(d.get("party")))
        if asked == by:  # a party taking a responsibility itself has accepted it
            return f"{who} undertook to {verb} {z}"
        return f"{who} asked {asked} to {verb} {z}"
    if action in ("zone.responsibility_accepted", "zone.responsibility_declined"):
        verb = _ROLE_VERB.get(str(d.get("role")), str(d.get("role")))
        answer = action.rsplit("_", 1)[1]
        return f"{who} {answer} to {verb} {z}{_said(d.get('statement'))}"
    title = f"'{d.get('title', '')}'"
    if action == "document.added":
        return f"{who} attached the document {title} to {z}"
    if action == "document.revised":
        return f"{who} revised the document {title} of {z} (version {d.get('version')})"
    if action == "document.signed":
        strength = _POSITION.get(str(d.get("position")), str(d.get("position")))
        return f"{who} signed version {d.get('version')} of the document {title} of {z} ({strength})"
    if action == "document.objected":
        return f"{who} objected to version {d.get('version')} of the document {title} of {z}{_said(d.get('statement'))}"
    raise ValueError(f"no sentence for {action!r}")


def details_of(payload: Mapping[str, Any], extra: Iterable[tuple[str, Any]] = ()) -> dict[str, Any]:
    """The part of an audit payload a feed event repeats, plus ``extra``."""
    return {k: payload[k] for k in DETAIL_KEYS if k in payload} | dict(extra)


def event(
    action: str, zone: Zone, actor: Party | None, at: str, details: dict[str, Any], name: Callable[[str], str]
) -> dict[str, Any]:
    """A feed event's data: the zone as it stands, who acted (None: Truceline itself, as when the clock
    or the last signature moves the status), the details and the sentence."""
    return {
        "zone": {
            "id": zone.id,
            "name": zone.name,
            "kind": zone.kind.value,
            "status": zone.status.value,
            "revision": zone.revision,
        },
        "by": {"id": actor.id, "name": actor.name} if actor else None,
        "at": at,
        "summary": summary(action, zone.name, actor.name if actor else None, details, name),
        "details": details,
    }
