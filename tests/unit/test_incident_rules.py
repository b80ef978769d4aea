"""Incident rules, pure: the verification table (exhaustively), ACLED/UCDP rows both ways, duplicate
candidates, force periods and the day's ceasefire status."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline.domain import incident_formats as fmt
from truceline.domain.ceasefire import DayStatus, Linked, Period, Thresholds, force_periods, judge, timeline
from truceline.domain.errors import Forbidden, InvalidInput, StateConflict
from truceline.domain.incidents import (
    EVENT_TYPES,
    NEEDS_STATEMENT,
    STEP_ACTOR,
    VERIFICATION,
    Actor,
    Dataset,
    DuplicateRules,
    Step,
    Verification,
    duplicate_of,
    interaction,
    parse_inter,
    steps_open,
    verification_step,
)

NOW = datetime(2017, 7, 20, tzinfo=UTC)


# ---- verification ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step", "monitor", "alleged"),
    list(itertools.product(Verification, Step, [False, True], [False, True])),
)
def test_every_step_from_every_status_for_every_caller(
    status: Verification, step: Step, monitor: bool, alleged: bool
) -> None:
    allowed_caller = monitor if STEP_ACTOR[step] is Actor.monitor else alleged
    if not allowed_caller:
        with pytest.raises(Forbidden):
            verification_step(status, step, is_monitor=monitor, is_alleged=alleged)
    elif (status, step) not in VERIFICATION:
        with pytest.raises(StateConflict):
            verification_step(status, step, is_monitor=monitor, is_alleged=alleged)
    else:
        target = verification_step(status, step, is_monitor=monitor, is_alleged=alleged)
        assert target == VERIFICATION[(status, step)][0]


@pytest.mark.parametrize(
    ("status", "monitor", "alleged"), list(itertools.product(Verification, [False, True], [False, True]))
)
def test_the_steps_offered_are_exactly_the_steps_accepted(status: Verification, monitor: bool, alleged: bool) -> None:
    """What a page offers a party (``steps_open``) is what ``verification_step`` would let it take."""
    accepted = set()
    for step in Step:
        try:
            verification_step(status, step, is_monitor=monitor, is_alleged=alleged)
        except (Forbidden, StateConflict):
            continue
        accepted.add(step)
    assert set(steps_open(status, is_monitor=monitor, is_alleged=alleged)) == accepted


def test_every_status_is_reachable_and_verdicts_need_a_statement() -> None:
    seen, todo = {Verification.reported}, [Verification.reported]
    while todo:
        s = todo.pop()
        for (frm, _), (to, _) in VERIFICATION.items():
            if frm is s and to not in seen:
                seen.add(to)
                todo.append(to)
    assert seen == set(Verification)
    assert {Step.verify, Step.reject, Step.dispute} == NEEDS_STATEMENT
    assert {STEP_ACTOR[s] for s in (Step.review, Step.verify, Step.reject)} == {Actor.monitor}


# ---- ACLED and UCDP rows ---------------------------------------------------------------------------


def acled_row(**over: str) -> dict[str, str]:
    row = dict.fromkeys(fmt.ACLED_COLUMNS, "")
    row.update(
        event_id_cnty="SYR123", event_date="2017-07-10", year="2017", time_precision="1", event_type="Battles",
        sub_event_type="Armed clash", actor1="Military Forces of Syria (2000-)", inter1="1", actor2="Southern Front",
        inter2="2", iso="760", country="Syria", location="Izra", latitude="32.8569", longitude="36.2497",
        geo_precision="1", source="SOHR; Enab Baladi", source_scale="National", notes="Clashes.", fatalities="4",
        tags="local administrators", timestamp="1500000000",
    )  # fmt: skip
    row.update(over)
    return row


def test_the_column_sets_are_acleds_and_ucdps() -> None:
    assert len(fmt.ACLED_COLUMNS) == 31 and len(set(fmt.ACLED_COLUMNS)) == 31
    assert len(fmt.UCDP_COLUMNS) == 49 and len(set(fmt.UCDP_COLUMNS)) == 49


def test_an_acled_row_becomes_an_incident_and_goes_back_the_same() -> None:
    i = fmt.from_acled(acled_row(), now=NOW)
    assert (i.event_date, i.event_type, i.interaction, i.fatalities.best) == (date(2017, 7, 10), "Battles", 12, 4)
    assert [s.name for s in i.sources] == ["SOHR", "Enab Baladi"] and i.disorder_type == "Political violence"
    row = dict(zip(fmt.ACLED_COLUMNS, fmt.to_acled(i), strict=True))
    assert row["interaction"] == "12" and row["source"] == "SOHR; Enab Baladi" and row["event_id_cnty"] == "SYR123"
    again = fmt.from_acled(row, now=NOW)
    assert replace(again, sources=i.sources) == replace(i, disorder_type=again.disorder_type)


def test_import_ids_are_rfc_name_based_uuids() -> None:
    ns = uuid.UUID(bytes=fmt._NS_BYTES)
    for ext in ("SYR1", "ÉGY-99", "x" * 64):
        assert fmt.import_id(Dataset.acled, ext) == str(uuid.uuid5(ns, f"acled\x1f{ext}"))
    assert fmt.import_id(Dataset.acled, "1") != fmt.import_id(Dataset.ucdp, "1")


@pytest.mark.parametrize(
    ("over", "column"),
    [
        ({"event_id_cnty": ""}, "event_id_cnty"),
        ({"event_date": "2017-02-29"}, "event_date"),
        ({"event_date": "yesterday"}, "event_date"),
        ({"year": "2016"}, "year"),
        ({"event_type": "Skirmish"}, "event_type"),
        ({"sub_event_type": "Grenade"}, "sub_event_type"),
        ({"time_precision": "4"}, "time_precision"),
        ({"geo_precision": "0"}, "geo_precision"),
        ({"inter1": "9"}, "inter1"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "nan"}, "longitude"),
        ({"latitude": "inf"}, "latitude"),
        ({"fatalities": "-3"}, "fatalities"),
        ({"fatalities": "many"}, "fatalities"),
        ({"disorder_type": "Chaos"}, "disorder_type"),
        ({"civilian_targeting": "yes"}, "civilian_targeting"),
        ({"notes": "x" * 20_001}, "notes"),
    ],
)
def test_a_bad_acled_field_is_named(over: dict[str, str], column: str) -> None:
    with pytest.raises(InvalidInput) as e:
        fmt.from_acled(acled_row(**over), now=NOW)
    assert e.value.errors[0].pointer.lstrip("/") == column


def test_older_acled_exports_are_read() -> None:
    i = fmt.from_acled(acled_row(event_date="10 July 2017", inter1="State Forces", inter2="Rebel Groups",
                                 disorder_type=""), now=NOW)  # fmt: skip
    assert (i.event_date, i.actor1.inter, i.actor2.inter) == (date(2017, 7, 10), 1, 2)
    assert fmt.from_acled(acled_row(event_date="10-Jul-2017"), now=NOW).event_date == date(2017, 7, 10)


def test_ucdp_rows_map_onto_acled_vocabulary() -> None:
    row = dict.fromkeys(fmt.UCDP_COLUMNS, "")
    row.update(id="42", type_of_violence="2", side_a="IS", side_b="HTS", where_prec="4", date_prec="3",
               latitude="35.9", longitude="36.6", date_start="2017-07-01", date_end="2017-07-03", low="1", best="2",
               high="7")  # fmt: skip
    i = fmt.from_ucdp(row, now=NOW)
    assert (i.event_type, i.actor1.inter, i.actor2.inter, i.geo_precision, i.time_precision) == ("Battles", 3, 3, 3, 2)
    assert (i.fatalities.low, i.fatalities.best, i.fatalities.high, i.date_end) == (1, 2, 7, date(2017, 7, 3))
    with pytest.raises(InvalidInput):
        fmt.from_ucdp({**row, "low": "3"}, now=NOW)  # low above best
    with pytest.raises(InvalidInput):
        fmt.from_ucdp({**row, "type_of_violence": "4"}, now=NOW)


def test_actor_types_and_interaction_codes() -> None:
    assert parse_inter("External/Other forces", "/x") == 8 and parse_inter(7, "/x") == 7 and parse_inter("", "/x") == 0
    assert interaction(2, 1) == 12 and interaction(7, 0) == 70 and interaction(3, 3) == 33
    assert parse_inter("٧", "/x") == 7  # decimal digits of any script, as int() reads them
    for bad in (9, "Aliens", True, 1.5, "²", "7" * 5000):  # "²" passes str.isdigit() and fails int()
        with pytest.raises(InvalidInput):
            parse_inter(bad, "/x")


# ---- duplicates ------------------------------------------------------------------------------------

base = fmt.from_acled(acled_row(), now=NOW)


@given(
    dlat=st.floats(-0.3, 0.3), dlon=st.floats(-0.3, 0.3), days=st.integers(-10, 10),
    same_type=st.booleans(), same_actor=st.booleans(), gp=st.integers(1, 3), tp=st.integers(1, 3),
)  # fmt: skip
def test_duplicate_candidates_are_symmetric_and_obey_every_rule(
    dlat: float, dlon: float, days: int, same_type: bool, same_actor: bool, gp: int, tp: int
) -> None:
    rules = DuplicateRules()
    other = replace(
        base, id="other", latitude=base.latitude + dlat, longitude=base.longitude + dlon,
        event_date=base.event_date + timedelta(days=days), geo_precision=gp, time_precision=tp,
        event_type="Battles" if same_type else "Riots",
        actor1=base.actor1 if same_actor else base.actor1._replace(name="Someone else"),
        actor2=base.actor2 if same_actor else base.actor2._replace(name="Nobody"),
    )  # fmt: skip
    ab, ba = duplicate_of(base, other, rules), duplicate_of(other, base, rules)
    assert (ab is None) == (ba is None)
    from truceline.domain.incidents import distance_km

    near = distance_km(base.latitude, base.longitude, other.latitude, other.longitude) <= rules.radius_km(base, other)
    soon = abs(days) <= rules.span_days(base, other)
    assert (ab is not None) == (near and soon and same_type and same_actor)
    if ab is not None:
        assert 0 <= ab.score <= 1 and ab.reasons


# ---- ceasefire ------------------------------------------------------------------------------------


def t(day: int, hour: int = 0) -> datetime:
    return datetime(2017, 7, day, hour, tzinfo=UTC)


def test_force_periods_follow_the_status_history() -> None:
    history = [(t(1), "proposed"), (t(8), "agreed_in_principle"), (t(9, 9), "in_force"), (t(12), "suspended"),
               (t(14), "in_force"), (t(20), "lapsed")]  # fmt: skip
    assert force_periods(history) == [Period(t(9, 9), t(12)), Period(t(14), t(20))]
    assert force_periods([(t(1), "in_force")]) == [Period(t(1), None)]
    assert force_periods([(t(1), "proposed")]) == []


def test_the_day_status_thresholds() -> None:
    th = Thresholds(broken_verified=2, broken_fatalities=10, strained_reported=2, strained_fatalities=1)
    assert judge(0, 0, 0, 0, 0, th)[0] is DayStatus.holding
    assert judge(1, 0, 1, 0, 0, th)[0] is DayStatus.holding  # one unverified report, nobody killed
    assert judge(2, 0, 2, 0, 0, th)[0] is DayStatus.strained
    assert judge(1, 0, 1, 1, 0, th)[0] is DayStatus.strained  # a death in a possible violation
    assert judge(1, 1, 0, 0, 0, th)[0] is DayStatus.strained
    assert judge(2, 2, 0, 0, 0, th)[0] is DayStatus.broken
    assert judge(1, 1, 0, 12, 12, th)[0] is DayStatus.broken


def test_the_timeline_counts_only_what_counts() -> None:
    periods = [Period(t(9, 9), None)]
    items = [
        Linked("a", date(2017, 7, 10), "Battles", Verification.verified, 3),
        Linked("b", date(2017, 7, 10), "Battles", Verification.rejected, 50),
        Linked("c", date(2017, 7, 11), "Strategic developments", Verification.verified, 0),
    ]
    days = timeline(date(2017, 7, 8), date(2017, 7, 11), periods, items, Thresholds())
    assert [d.status for d in days] == [DayStatus.not_in_force, DayStatus.holding, DayStatus.strained,
                                        DayStatus.holding]  # fmt: skip
    assert days[1].in_force_hours == 15.0
    assert (days[2].incidents, days[2].fatalities, days[2].rejected) == (1, 3, 1)
    assert days[3].by_type == {"Strategic developments": 1} and days[3].possible_violations == 0
    assert set(EVENT_TYPES) >= {"Battles", "Strategic developments"}
