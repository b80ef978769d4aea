"""Hotline messages as CAP 1.2 alerts, checked against OASIS's own CAP 1.2 schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from shapely.geometry import MultiPolygon, Point, Polygon, box

from tests.helpers import CAP_NS, cap_schema
from truceline.domain import cap
from truceline.domain.errors import InvalidInput
from truceline.domain.hotline import Addressee, Certainty, Message, MsgType, ReceiptState, Severity, Urgency
from truceline.domain.model import AltitudeBand, Region, TimeWindow

T0 = datetime(2017, 7, 10, 6, tzinfo=UTC)
NS = CAP_NS
NAMES = {"us": "United States", "ru": "Russian Federation"}


def _valid(xml: bytes) -> ET.Element:
    cap_schema().validate(xml.decode())
    return ET.fromstring(xml)


def _message(**over: object) -> Message:
    holed = Polygon(box(36, 32, 37, 33).exterior.coords, [box(36.4, 32.4, 36.6, 32.6).exterior.coords])
    two = MultiPolygon([box(38, 34, 38.1, 34.1), box(38.2, 34, 38.3, 34.1)])
    regions = [
        Region(holed, TimeWindow(T0, T0 + timedelta(hours=6)), AltitudeBand(0, 3048)),
        Region(two, TimeWindow(T0 + timedelta(hours=1), T0 + timedelta(hours=9)), AltitudeBand(304.8, 609.6)),
        Region(Point(35.5, 33.5), TimeWindow(T0, T0 + timedelta(hours=2)), AltitudeBand(0, 150)),
    ]
    fields: dict[str, object] = dict(
        id="m-2", thread_id="th-1", sender_id=None, msg_type=MsgType.Alert, severity=Severity.Severe,
        urgency=Urgency.Expected, certainty=Certainty.Likely, headline="Overlap with Russian Federation",
        description="The footprints are 0 m apart.", created_at=T0 - timedelta(hours=1), references=["m-1", "gone"],
        conflict_id="c-1", activity_ids=["a-1", "a-2"], regions=regions,
        addressees=[Addressee("m-2", p, ReceiptState.awaiting, T0) for p in ("us", "ru")],
    )  # fmt: skip
    fields.update(over)
    return Message(**fields)  # type: ignore[arg-type]


EARLIER = Message("m-1", "th-1", "us", MsgType.Alert, Severity.Minor, Urgency.Future, Certainty.Possible, "plan",
                  "", datetime(2017, 7, 9, 23, 59, 58, 500_000, tzinfo=UTC))  # fmt: skip


def test_a_conflict_alert_is_a_valid_cap_alert_with_its_regions_as_areas() -> None:
    root = _valid(cap.alert(_message(), NAMES, {"m-1": EARLIER}, rule="overlap"))
    text = lambda path: root.findtext(path, namespaces=NS)  # noqa: E731
    assert text("cap:identifier") == "m-2" and text("cap:sender") == "urn:truceline:system"
    assert text("cap:sent") == "2017-07-10T05:00:00-00:00"  # CAP's UTC: never Z
    assert (text("cap:status"), text("cap:msgType"), text("cap:scope")) == ("Actual", "Alert", "Private")
    assert text("cap:addresses") == "urn:truceline:party:us urn:truceline:party:ru"
    # the reference CAP can name (sender, identifier, sent); the unknown one is left out
    assert text("cap:references") == "urn:truceline:party:us,m-1,2017-07-09T23:59:58-00:00"
    assert text("cap:incidents") == "c-1"
    info = root.find("cap:info", NS)
    assert info is not None
    got = lambda path: info.findtext(path, namespaces=NS)  # noqa: E731
    assert got("cap:event") == "Deconfliction conflict (overlap)" and got("cap:category") == "Security"
    assert (got("cap:urgency"), got("cap:severity"), got("cap:certainty")) == ("Expected", "Severe", "Likely")
    assert got("cap:eventCode/cap:value") == "overlap" and got("cap:senderName") == "Truceline"
    assert (got("cap:onset"), got("cap:expires")) == ("2017-07-10T06:00:00-00:00", "2017-07-10T15:00:00-00:00")
    params = {p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
              for p in info.findall("cap:parameter", NS)}  # fmt: skip
    assert params == {"truceline:thread": "th-1", "truceline:conflict": "c-1", "truceline:activities": "a-1 a-2",
                      "truceline:deadline:United States": "2017-07-10T06:00:00-00:00",
                      "truceline:deadline:Russian Federation": "2017-07-10T06:00:00-00:00"}  # fmt: skip
    areas = info.findall("cap:area", NS)
    assert len(areas) == 3
    holed, two, point = ([a.findtext(t, namespaces=NS) for t in ("cap:altitude", "cap:ceiling")] for a in areas)
    assert holed == ["0", "10000"] and two == ["1000", "2000"] and point == ["0", "492"]  # feet
    rings = [[p.text for p in a.findall("cap:polygon", NS)] for a in areas]
    assert [len(r) for r in rings] == [1, 2, 0]  # the hole is no polygon of its own; CAP has none
    first = (rings[0][0] or "").split()
    assert len(first) == 5 and first[0] == first[-1] and first[0] == "32.000000,37.000000"  # lat,lon; closed
    assert areas[2].findtext("cap:circle", namespaces=NS) == "33.500000,35.500000 0.000"
    assert "Region 1: 2017-07-10T06:00:00-00:00 to 2017-07-10T12:00:00-00:00" in (
        areas[0].findtext("cap:areaDesc", namespaces=NS) or "")


def test_a_partys_message_an_acknowledgement_and_a_quoted_address() -> None:
    said = _message(id="m-3", sender_id="us", regions=[], conflict_id=None, references=[], activity_ids=[],
                    msg_type=MsgType.Update, description="")  # fmt: skip
    root = _valid(cap.alert(said, NAMES, {}))
    assert root.findtext("cap:sender", namespaces=NS) == "urn:truceline:party:us"
    assert root.findtext("cap:info/cap:senderName", namespaces=NS) == "United States"
    assert root.findtext("cap:info/cap:event", namespaces=NS) == "Deconfliction hotline message"
    assert root.find("cap:references", NS) is None and root.find("cap:info/cap:area", NS) is None
    ack = _message(id="m-4", sender_id="ru", msg_type=MsgType.Ack, headline="Acknowledged", description="seen",
                   references=["m-1"], regions=[], addressees=[])  # fmt: skip
    root = _valid(cap.alert(ack, NAMES, {"m-1": EARLIER}))
    assert root.find("cap:info", NS) is None and root.findtext("cap:note", namespaces=NS) == "seen"
    assert root.findtext("cap:msgType", namespaces=NS) == "Ack"
    assert root.findtext("cap:addresses", namespaces=NS) == "urn:truceline:party:us"  # the acknowledged's sender
    assert cap._quoted(["urn:a", "two words"]) == 'urn:a "two words"'


def test_the_schema_check_catches_what_cap_forbids() -> None:
    """The check above is OASIS's schema itself: it refuses a time in Z, a wrong order, an unknown scope."""
    good = cap.alert(_message(), NAMES, {}, rule="overlap").decode()
    _valid(good.encode())
    for bad in (
        good.replace("2017-07-10T05:00:00-00:00", "2017-07-10T05:00:00Z"),
        good.replace("<scope>Private</scope>", "<scope>Everyone</scope>"),
        good.replace("<status>Actual</status>", "").replace("<source>", "<status>Actual</status><source>"),
    ):
        with pytest.raises(xmlschema.XMLSchemaValidationError):
            cap_schema().validate(bad)


def _posted(**over: str) -> bytes:
    """A CAP alert as a party's alerting system would write it (elements left out with a None)."""
    fields = {"identifier": "KSA-2017-0042", "sender": "ops@jordan.example", "sent": "2017-07-10T06:00:00+03:00",
              "status": "Actual", "msgType": "Update", "scope": "Private",
              "addresses": 'urn:truceline:party:p-1 "Russian Federation"',
              "references": "urn:truceline:system,m-1,2017-07-10T05:00:00-00:00", "incidents": "c-1"}  # fmt: skip
    info = {"category": "Security", "event": "Convoy", "urgency": "Immediate", "severity": "Severe",
            "certainty": "Observed", "headline": "Convoy held at Nasib", "description": "Until 08:00."}  # fmt: skip
    for k, v in over.items():
        (info if k in info else fields)[k] = v
    head = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if v is not None)
    body = "".join(f"<{k}>{v}</{k}>" for k, v in info.items() if v is not None)
    return f'<alert xmlns="{cap.NAMESPACE}">{head}<info>{body}</info></alert>'.encode()


def test_a_cap_alert_a_party_posts_is_read_as_a_message() -> None:
    got = cap.parse(_posted())
    assert (got.identifier, got.msg_type, got.urgency, got.severity, got.certainty) == (
        "KSA-2017-0042", "Update", "Immediate", "Severe", "Observed")  # fmt: skip
    assert (got.headline, got.description) == ("Convoy held at Nasib", "Until 08:00.")
    assert got.addresses == ["p-1", "Russian Federation"] and got.references == ["m-1"] and got.conflict_id == "c-1"
    plain = cap.parse(_posted(addresses=None, references=None, incidents=None, description=None, msgType="Alert"))
    assert (plain.addresses, plain.references, plain.conflict_id, plain.description) == (None, [], None, "")
    # what Truceline writes, it reads back
    again = cap.parse(cap.alert(_message(sender_id="us"), NAMES, {"m-1": EARLIER}, rule="overlap"))
    assert (again.identifier, again.headline, again.references, again.conflict_id) == (
        "m-2", "Overlap with Russian Federation", ["m-1"], "c-1")  # fmt: skip


@pytest.mark.parametrize(
    ("xml", "pointer", "words"),
    [
        (b"<alert", "/alert", "not well-formed"),
        (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"/>', "/alert", "CAP 1.2's alert"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>', "/alert",
         "not accepted"),
        (_posted(status="Exercise"), "/alert/status", "only Actual"),
        (_posted(msgType="Ack"), "/alert/msgType", "/ack"),
        (_posted(msgType="Error"), "/alert/msgType", "one of Alert, Update, Cancel"),
        (_posted(identifier=None), "/alert/identifier", "CAP requires identifier"),
        (_posted(severity="Bad"), "/alert/info/severity", "one of Extreme"),
        (_posted(headline=None), "/alert/info/headline", "CAP requires headline"),
        (_posted(headline="x" * 301), "/alert/info/headline", "longer than 300"),
        (_posted(references="m-1"), "/alert/references/0", "sender,identifier,sent"),
        (_posted(incidents="c-1 c-2"), "/alert/incidents", "one conflict"),
    ],
)
def test_a_posted_alert_is_refused_naming_the_element_and_the_reason(xml: bytes, pointer: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        cap.parse(xml)
    assert refused.value.errors[0].pointer == pointer and words in refused.value.errors[0].reason
