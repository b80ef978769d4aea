"""A hotline message as a CAP 1.2 alert (OASIS Common Alerting Protocol, XML), for the alerting
systems parties already run, and a CAP alert such a system posts, read as a message. Pure.

The mapping, field by field:
- ``identifier`` is the message id; ``sender`` the sending party's URN (``urn:truceline:party:<id>``;
  CAP forbids spaces there), its name going to ``senderName``; Truceline's own alerts come from
  ``urn:truceline:system``.
- ``scope`` is ``Private``: a message is for its thread's parties, listed in ``addresses``.
- ``references`` names each earlier message as CAP's ``sender,identifier,sent``; ``incidents`` is
  the conflict a message announces.
- One ``info``: the message's severity, urgency, certainty, headline and description; ``onset`` and
  ``expires`` span the conflict's time windows; each 4D region is an ``area`` (its outer rings as
  polygons, its altitude band in feet). An ``Ack`` carries no ``info``: its text is the ``note``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import shapely
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from shapely.geometry.base import BaseGeometry

from truceline.domain.errors import FieldError, InvalidInput
from truceline.domain.hotline import Message, MsgType
from truceline.domain.model import Region

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
SYSTEM_SENDER = "urn:truceline:system"
FEET_PER_METRE = 1 / 0.3048
EARTH_RADIUS_KM = 6371.0088
#: parameters that carry what CAP has no element for (``valueName`` values)
PARAMETER_PREFIX = "truceline:"


def sender_urn(party_id: str | None) -> str:
    return f"urn:truceline:party:{party_id}" if party_id else SYSTEM_SENDER


def cap_time(t: datetime) -> str:
    """CAP's time: seconds, and an offset (never ``Z``); UTC is written ``-00:00``, as CAP asks."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def _quoted(items: list[str]) -> str:
    # CAP lists are space-delimited; an item with a space in it is enclosed in double quotes.
    return " ".join(f'"{i}"' if " " in i else i for i in items)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _pair(lon: float, lat: float) -> str:
    return f"{lat:.6f},{lon:.6f}"


def _rings(g: BaseGeometry) -> list[str]:
    """CAP polygons (``lat,lon`` pairs, closed, at least four) for a footprint's polygonal parts:
    their outer rings, since CAP has no holes (an area then covers a little more, never less)."""
    out = []
    for part in shapely.get_parts(g):
        if part.geom_type == "Polygon" and not part.is_empty:
            coords = [_pair(x, y) for x, y, *_ in part.exterior.coords]
            if len(coords) >= 4:
                out.append(" ".join(coords))
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out += _rings(part)
    return out


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _circle(g: BaseGeometry) -> str:
    """A CAP circle (``lat,lon radius_km``) around a footprint with no area (a point or a line where
    two plans touch): its centre, and the farthest of its points."""
    c = g.centroid
    points = shapely.get_coordinates(g)
    radius = max((_km(c.x, c.y, float(x), float(y)) for x, y in points), default=0.0)
    return f"{_pair(c.x, c.y)} {math.ceil(radius * 1000) / 1000:.3f}"


def _area(info: ET.Element, n: int, r: Region) -> None:
    area = _sub(info, "area")
    window = f"{cap_time(r.window.start)} to {cap_time(r.window.end) if r.window.end else 'open'}"
    _sub(area, "areaDesc", f"Region {n}: {window}, {r.altitude.lower:.0f}–{r.altitude.upper:.0f} m (WGS84)")
    rings = _rings(r.geometry)
    for ring in rings:
        _sub(area, "polygon", ring)
    if not rings and not r.geometry.is_empty:
        _sub(area, "circle", _circle(r.geometry))
    # CAP's altitudes are feet; Truceline's bands are metres on the WGS84 ellipsoid, which CAP's
    # "above mean sea level" differs from by the geoid's height (tens of metres): near enough to alert.
    _sub(area, "altitude", f"{r.altitude.lower * FEET_PER_METRE:.0f}")
    _sub(area, "ceiling", f"{r.altitude.upper * FEET_PER_METRE:.0f}")


def alert(
    m: Message,
    names: Mapping[str, str],
    referenced: Mapping[str, Message],
    *,
    rule: str | None = None,
    system_name: str = "Truceline",
) -> bytes:
    """The CAP 1.2 ``alert`` for ``m``, as UTF-8 XML. ``referenced`` holds the messages it refers
    to (a reference whose message is unknown is left out: CAP needs its sender and time); ``rule``
    is the rule of the conflict it announces, if any."""
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}alert")
    _sub(root, "identifier", m.id)
    _sub(root, "sender", sender_urn(m.sender_id))
    _sub(root, "sent", cap_time(m.created_at))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", m.msg_type.value)
    _sub(root, "source", "Truceline hotline")
    _sub(root, "scope", "Private")
    refs = [referenced[r] for r in m.references if r in referenced]
    # An acknowledgement is addressed to no one in the thread: CAP sends it to the acknowledged's sender.
    addressed = [sender_urn(a.party_id) for a in m.addressees] or [sender_urn(r.sender_id) for r in refs]
    if addressed:
        _sub(root, "addresses", _quoted(list(dict.fromkeys(addressed))))
    if m.msg_type is MsgType.Ack and (m.description or m.headline):
        _sub(root, "note", (m.description or m.headline).strip())
    if refs:
        _sub(root, "references", " ".join(f"{sender_urn(r.sender_id)},{r.id},{cap_time(r.created_at)}" for r in refs))
    if m.conflict_id:
        _sub(root, "incidents", m.conflict_id)
    if m.msg_type is MsgType.Ack:
        return _document(root)
    info = _sub(root, "info")
    _sub(info, "category", "Security")
    event = f"Deconfliction conflict ({rule.replace('_', ' ')})" if rule else "Deconfliction hotline message"
    _sub(info, "event", event)
    _sub(info, "urgency", m.urgency.value)
    _sub(info, "severity", m.severity.value)
    _sub(info, "certainty", m.certainty.value)
    if rule:
        code = _sub(info, "eventCode")
        _sub(code, "valueName", f"{PARAMETER_PREFIX}rule")
        _sub(code, "value", rule)
    starts = [r.window.start for r in m.regions]
    ends = [r.window.end for r in m.regions]
    if starts:
        _sub(info, "onset", cap_time(min(starts)))
    if ends and all(e is not None for e in ends):
        _sub(info, "expires", cap_time(max(e for e in ends if e is not None)))
    _sub(info, "senderName", names.get(m.sender_id, m.sender_id) if m.sender_id else system_name)
    _sub(info, "headline", m.headline)
    if m.description:
        _sub(info, "description", m.description)
    for key, value in (
        ("thread", m.thread_id),
        ("conflict", m.conflict_id or ""),
        ("activities", " ".join(m.activity_ids)),
        ("zones", " ".join(m.zone_ids)),
        *((f"deadline:{names.get(a.party_id, a.party_id)}", cap_time(a.deadline)) for a in m.addressees),
    ):
        if value:
            p = _sub(info, "parameter")
            _sub(p, "valueName", f"{PARAMETER_PREFIX}{key}")
            _sub(p, "value", value)
    for n, r in enumerate(m.regions, start=1):
        _area(info, n, r)
    return _document(root)


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


# ---- reading: a party's own alerting system posts CAP to the hotline ------------------------------

#: what a party may post: a thread message (an acknowledgement is POST /v1/messages/{id}/ack)
POSTABLE = ("Alert", "Update", "Cancel")
_ENUMS = {
    "urgency": ("Immediate", "Expected", "Future", "Past", "Unknown"),
    "severity": ("Extreme", "Severe", "Moderate", "Minor", "Unknown"),
    "certainty": ("Observed", "Likely", "Possible", "Unlikely", "Unknown"),
}
MAX_HEADLINE, MAX_DESCRIPTION = 300, 20_000


@dataclass(frozen=True)
class Received:
    """A CAP alert's part the hotline keeps: the message's CAP fields, whom it addresses (party ids or
    names, None: every other member), the messages it refers to, and the conflict it is about."""

    identifier: str
    msg_type: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    addresses: list[str] | None
    references: list[str]
    conflict_id: str | None


def _split(text: str) -> list[str]:
    """CAP's space-delimited list, where an item with spaces in it is double-quoted."""
    return [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', text)]


def _party_of(address: str) -> str:
    prefix = "urn:truceline:party:"
    return address[len(prefix) :] if address.startswith(prefix) else address


def parse(xml: bytes) -> Received:
    """Read a CAP 1.2 alert a party posts to a thread. Refused (naming the element and the reason)
    unless it is well-formed CAP 1.2 (no DTD or entities: they are refused outright), ``Actual``, an
    ``Alert``, ``Update`` or ``Cancel``, with an ``info`` that has a headline. Of several ``info``
    blocks (languages), the first is taken."""
    try:
        root = defused_fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as e:
        raise InvalidInput.at("/alert", f"not accepted: {e}") from None
    except ET.ParseError as e:
        raise InvalidInput.at("/alert", f"not well-formed XML: {e}") from None
    if root.tag != f"{{{NAMESPACE}}}alert":
        raise InvalidInput.at("/alert", f"the root element must be CAP 1.2's alert (in {NAMESPACE}), not {root.tag}")
    errors: list[FieldError] = []

    def text(parent: ET.Element, tag: str, pointer: str, *, required: bool = True) -> str:
        value = (parent.findtext(f"{{{NAMESPACE}}}{tag}") or "").strip()
        if required and not value:
            errors.append(FieldError(pointer, f"CAP requires {tag}"))
        return value

    identifier = text(root, "identifier", "/alert/identifier")
    for tag in ("sender", "sent", "scope"):
        text(root, tag, f"/alert/{tag}")
    status = text(root, "status", "/alert/status")
    if status and status != "Actual":
        errors.append(FieldError("/alert/status", f"only Actual alerts go on the hotline, not {status}"))
    msg_type = text(root, "msgType", "/alert/msgType")
    if msg_type == "Ack":
        errors.append(FieldError("/alert/msgType", "acknowledge a message with POST /v1/messages/{id}/ack"))
    elif msg_type and msg_type not in POSTABLE:
        errors.append(FieldError("/alert/msgType", f"msgType must be one of {', '.join(POSTABLE)}, not {msg_type}"))
    addresses = text(root, "addresses", "/alert/addresses", required=False)
    references = []
    for i, ref in enumerate(_split(text(root, "references", "/alert/references", required=False))):
        parts = ref.split(",")
        if len(parts) != 3 or not parts[1]:
            errors.append(FieldError(f"/alert/references/{i}", f"{ref!r} is not CAP's sender,identifier,sent"))
        else:
            references.append(parts[1])
    incidents = _split(text(root, "incidents", "/alert/incidents", required=False))
    if len(incidents) > 1:
        errors.append(FieldError("/alert/incidents", "name one conflict at most"))
    info = root.find(f"{{{NAMESPACE}}}info")
    values = {"headline": "", "description": ""} | {k: "" for k in _ENUMS}
    if info is None:
        errors.append(FieldError("/alert/info", "the hotline needs an info block: its headline and severity"))
    else:
        for key, allowed in _ENUMS.items():
            values[key] = text(info, key, f"/alert/info/{key}")
            if values[key] and values[key] not in allowed:
                errors.append(FieldError(f"/alert/info/{key}", f"{key} must be one of {', '.join(allowed)}"))
        values["headline"] = text(info, "headline", "/alert/info/headline")
        values["description"] = text(info, "description", "/alert/info/description", required=False)
        for key, most in (("headline", MAX_HEADLINE), ("description", MAX_DESCRIPTION)):
            if len(values[key]) > most:
                errors.append(FieldError(f"/alert/info/{key}", f"{key} is longer than {most} characters"))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return Received(
        identifier=identifier,
        msg_type=msg_type,
        urgency=values["urgency"],
        severity=values["severity"],
        certainty=values["certainty"],
        headline=values["headline"],
        description=values["description"],
        addresses=[_party_of(a) for a in _split(addresses)] if addresses else None,
        references=references,
        conflict_id=incidents[0] if incidents else None,
    )
