"""Who may do what. One table, checked by every use case."""

from __future__ import annotations

from collections.abc import Mapping

from truceline.domain.errors import Forbidden
from truceline.domain.model import Party, Role

# action -> roles allowed to perform it. Reads of shared things (zones, the party list) are open to
# every authenticated role; what each party sees of activities and conflicts is scoped in the services.
PERMISSIONS: Mapping[str, frozenset[Role]] = {
    "party.create": frozenset({Role.admin}),
    "party.list": frozenset(Role),
    "zone.read": frozenset(Role),
    "zone.write": frozenset({Role.officer, Role.admin}),
    "activity.read": frozenset({Role.officer, Role.observer, Role.monitor, Role.admin}),
    "activity.write": frozenset({Role.officer}),
    "conflict.read": frozenset(Role),
}


def require(caller: Party, action: str) -> None:
    allowed = PERMISSIONS[action]
    if caller.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"the {caller.role.value} role may not {action.replace('.', ' ')}; allowed roles: {names}")
