"""Who may do what. One table, checked by every use case."""

from __future__ import annotations

from collections.abc import Mapping

from truceline.domain.errors import Forbidden
from truceline.domain.model import Party, Role

ALL = frozenset(Role)

# action -> (roles allowed, what it is, in words). Reads of shared things (zones, the party list) are
# open to every role; what each party sees of activities, conflicts and the audit log is scoped in
# the services. Acting *for* a party (zones, activities, sign-offs) is for its officers; answering a
# request to monitor is also for monitors.
PERMISSIONS: Mapping[str, tuple[frozenset[Role], str]] = {
    "party.create": (frozenset({Role.admin}), "create parties"),
    "party.list": (ALL, "list parties"),
    "zone.read": (ALL, "read zones"),
    "zone.write": (frozenset({Role.officer}), "propose or change zones"),
    "zone.sign": (frozenset({Role.officer}), "sign or object to zones and their documents"),
    "responsibility.answer": (frozenset({Role.officer, Role.monitor}), "answer responsibility requests"),
    "activity.read": (ALL, "read activities"),
    "activity.write": (frozenset({Role.officer}), "notify or change activities"),
    "conflict.read": (ALL, "read conflicts"),
    "conflict.agree": (frozenset({Role.officer, Role.monitor}), "agree to conflicts for your party"),
    "audit.read": (ALL, "read the audit log"),
    "hotline.read": (ALL, "read the hotline"),
    "hotline.send": (frozenset({Role.officer, Role.monitor, Role.admin}), "open hotline threads or send messages"),
    "hotline.ack": (ALL, "acknowledge messages"),
    "escalation.write": (frozenset({Role.officer, Role.admin}), "set escalation contacts"),
    "webhook.manage": (ALL, "manage your party's webhooks"),
    "track.report": (frozenset({Role.officer}), "report your party's live tracks"),
    "track.read": (ALL, "see live tracks"),
    "incident.read": (ALL, "read incidents and ceasefire timelines"),
    "incident.report": (frozenset({Role.officer, Role.monitor}), "report incidents"),
    "incident.merge": (frozenset({Role.monitor}), "merge or unmerge duplicate incidents"),
    "incident.import": (frozenset({Role.monitor, Role.admin}), "import ACLED or UCDP incident data"),
}


def may(caller: Party, action: str) -> bool:
    return caller.role in PERMISSIONS[action][0]


def require(caller: Party, action: str) -> None:
    allowed, what = PERMISSIONS[action]
    if caller.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"the {caller.role.value} role may not {what}; allowed roles: {names}")
