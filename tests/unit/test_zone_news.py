"""Who hears of a zone's negotiation, and the sentence they read."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from tests.helpers import T0, make_zone
from truceline.domain.model import Party, Responsibility, ResponsibilityRole, ResponsibilityStatus, Role, Zone
from truceline.domain.zone_news import ZONE_EVENT_TYPES, concerned, event, for_everyone, is_told, summary

NAMES = {"us": "United States", "ru": "Russian Federation", "jo": "Jordan", "kz": "Kazakhstan"}


def _zone() -> Zone:
    z = make_zone(box(36, 32, 37, 33))
    z.created_by, z.signatories = "jo", ["us", "ru", "jo"]
    z.responsible = [
        Responsibility("jo", ResponsibilityRole.police, status=ResponsibilityStatus.declined),
        Responsibility("kz", ResponsibilityRole.monitor, status=ResponsibilityStatus.requested),
        Responsibility("ru", ResponsibilityRole.police, status=ResponsibilityStatus.accepted),
    ]
    return z


def test_the_parties_concerned_are_proposer_signatories_and_those_asked_who_have_not_declined() -> None:
    z = _zone()
    assert concerned(z) == ["jo", "us", "ru", "kz"]
    z.responsible[1] = Responsibility("kz", ResponsibilityRole.monitor, status=ResponsibilityStatus.declined)
    assert concerned(z) == ["jo", "us", "ru"]


@pytest.mark.parametrize(
    ("action", "details", "everyone"),
    [
        ("zone.status", {"to": "in_force", "computed": True}, True),
        ("zone.status", {"to": "suspended"}, True),
        ("zone.status", {"to": "withdrawn"}, True),
        ("zone.status", {"to": "negotiating", "computed": True}, False),
        ("zone.revised", {"revision": 2}, False),
        ("zone.signed", {"revision": 2, "position": "final"}, False),
    ],
)
def test_status_moves_reach_everyone_but_the_move_into_negotiation(
    action: str, details: dict[str, object], everyone: bool
) -> None:
    assert for_everyone(action, details) is everyone


def test_a_party_is_told_of_a_step_when_everyone_is_when_the_zone_concerns_it_or_when_it_acted() -> None:
    z = _zone()  # concerns jo, us, ru and kz; "il" is no part of it
    signed = {"revision": 2, "position": "final"}
    assert [p for p in ("jo", "us", "ru", "kz", "il") if is_told(p, "zone.signed", signed, z, "us")] == [
        "jo", "us", "ru", "kz"
    ]  # fmt: skip
    assert is_told("il", "zone.status", {"to": "suspended"}, z, "us")
    assert not is_told("il", "zone.status", {"to": "negotiating", "computed": True}, z, None)
    assert is_told("il", "zone.responsibility_declined", {"role": "monitor"}, z, "il")  # its own answer


SENTENCES = {
    "zone.proposed": ({"signatories": ["us", "ru"], "rationale": "drafted in Amman"},
                      "Jordan proposed the zone 'Southwest' (signatories: United States, Russian Federation): "
                      "drafted in Amman"),
    "zone.revised": ({"revision": 3, "rationale": " "},
                     "Jordan revised 'Southwest' to revision 3; earlier sign-offs no longer count"),
    "zone.signed": ({"revision": 3, "position": "in_principle", "statement": ""},
                    "Jordan signed revision 3 of 'Southwest' (in principle)"),
    "zone.objected": ({"revision": 3, "statement": "Suweida is left out"},
                      "Jordan objected to revision 3 of 'Southwest': Suweida is left out"),
    "zone.status": ({"to": "in_force", "computed": False, "rationale": "resumed after the inquiry"},
                    "Jordan made 'Southwest' in force: resumed after the inquiry"),
    "zone.responsibility_requested": ({"party": "kz", "role": "monitor"},
                                      "Jordan asked Kazakhstan to monitor 'Southwest'"),
    "zone.responsibility_accepted": ({"role": "guarantor", "statement": ""},
                                     "Jordan accepted to be a guarantor of 'Southwest'"),
    "zone.responsibility_declined": ({"role": "police", "statement": "not our forces"},
                                     "Jordan declined to police 'Southwest': not our forces"),
    "document.added": ({"title": "Rules", "version": 1}, "Jordan attached the document 'Rules' to 'Southwest'"),
    "document.revised": ({"title": "Rules", "version": 2},
                         "Jordan revised the document 'Rules' of 'Southwest' (version 2)"),
    "document.signed": ({"title": "Rules", "version": 2, "position": "final"},
                        "Jordan signed version 2 of the document 'Rules' of 'Southwest' (final)"),
    "document.objected": ({"title": "Rules", "version": 2, "statement": "no"},
                          "Jordan objected to version 2 of the document 'Rules' of 'Southwest': no"),
}  # fmt: skip


def test_a_party_that_takes_a_responsibility_itself_undertakes_it() -> None:
    said = summary("zone.responsibility_requested", "Southwest", "Jordan", {"party": "jo", "role": "guarantor"},
                   NAMES.__getitem__)  # fmt: skip
    assert said == "Jordan undertook to be a guarantor of 'Southwest'"


@pytest.mark.parametrize("action", ZONE_EVENT_TYPES)
def test_every_event_type_has_its_sentence(action: str) -> None:
    details, said = SENTENCES[action]
    assert summary(action, "Southwest", "Jordan", details, NAMES.__getitem__) == said


def test_a_computed_status_move_is_truceline_s_and_an_unknown_action_has_no_sentence() -> None:
    z = _zone()
    e = event("zone.status", z, None, "2017-07-09T00:00:00Z", {"to": "in_force", "computed": True}, NAMES.__getitem__)
    assert e["by"] is None and e["summary"] == "'z' is now in force" and e["zone"]["revision"] == 1
    jordan = Party("jo", "Jordan", Role.officer, T0)
    revised = event("zone.revised", z, jordan, "t", {"revision": 1}, NAMES.__getitem__)
    assert revised["by"] == {"id": "jo", "name": "Jordan"}
    with pytest.raises(ValueError, match="no sentence"):
        summary("zone.renamed", "z", None, {}, NAMES.__getitem__)
