"""What the OpenAPI document shows of request bodies beyond their types: GeoJSON geometry shapes
(RFC 7946), the incident bodies the domain parses itself, and worked examples, so a client generator
gets real types and Swagger UI's "Try it out" starts from a body the service accepts. Documentation
only: the domain does the checking and names the field of any problem."""

from __future__ import annotations

from typing import Any

from truceline.domain.incidents import EVENT_TYPES, INTER, Step


def _alt(v: float) -> dict[str, Any]:
    return {"value": v, "reference": "W84", "units": "M"}


def _t(v: str) -> dict[str, str]:
    return {"value": v, "format": "RFC3339"}


# ---- GeoJSON geometry (RFC 7946) ------------------------------------------------------------------

POSITION: dict[str, Any] = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 3,
    "description": "[longitude, latitude] in degrees (WGS84)",
}
_RING: dict[str, Any] = {
    "type": "array",
    "items": POSITION,
    "minItems": 4,
    "description": "a closed ring: the last position repeats the first; the first ring is the outline, others holes",
}


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": kind,
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates},
    }


POINT = _geometry("Point", POSITION)
LINE_STRING = _geometry("LineString", {"type": "array", "items": POSITION, "minItems": 2})
POLYGON = _geometry("Polygon", {"type": "array", "items": _RING, "minItems": 1})
MULTI_POLYGON = _geometry(
    "MultiPolygon", {"type": "array", "items": {"type": "array", "items": _RING, "minItems": 1}, "minItems": 1}
)

ZONE_GEOMETRY: dict[str, Any] = {
    "oneOf": [POLYGON, MULTI_POLYGON, POINT],
    "description": "GeoJSON Polygon or MultiPolygon, or a Point with `radius_m`",
}
CORRIDOR_LINE: dict[str, Any] = {**LINE_STRING, "description": "GeoJSON LineString: the route"}

# ---- worked examples, from the syria-2017 scenario -------------------------------------------------

ACTIVITY: dict[str, Any] = {
    "kind": "humanitarian_convoy",
    "title": "WFP convoy through the Nasib crossing",
    "description": "Twelve trucks, Amman to Deraa.",
    "volumes": [
        {
            "volume": {
                "outline_circle": {"center": {"lat": 32.547, "lng": 36.206}, "radius": {"value": 2000, "units": "M"}},
                "altitude_lower": _alt(0),
                "altitude_upper": _alt(300),
            },
            "time_start": _t("2017-07-12T06:00:00Z"),
            "time_end": _t("2017-07-12T12:00:00Z"),
        }
    ],
}

ZONE: dict[str, Any] = {
    "name": "Quneitra buffer",
    "kind": "buffer",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[35.78, 33.0], [35.9, 33.0], [35.9, 33.2], [35.78, 33.2], [35.78, 33.0]]],
    },
    "effective_from": "2017-07-09T09:00:00Z",
    "forbidden_kinds": ["ground", "fires"],
    "standoff_m": 500,
    "rationale": "keep forces apart along the ceasefire line",
}

ZONE_CHANGE: dict[str, Any] = {
    "revision": 1,
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[35.76, 33.0], [35.9, 33.0], [35.9, 33.22], [35.76, 33.22], [35.76, 33.0]]],
    },
    "rationale": "include the road to Khan Arnabah",
}

SIGN_OFF: dict[str, Any] = {"revision": 1, "strength": "in_principle", "statement": "agreed, subject to the map annex"}
OBJECTION: dict[str, Any] = {"revision": 1, "statement": "the line cuts the road to Khan Arnabah"}
RESPONSIBILITY: dict[str, Any] = {"party": "Russian Federation", "role": "police"}

THREAD: dict[str, Any] = {
    "subject": "Convoy through Nasib on 12 July",
    "parties": ["Jordan"],
    "message": {
        "severity": "Moderate",
        "urgency": "Expected",
        "certainty": "Likely",
        "headline": "WFP convoy crosses at Nasib 06:00Z",
        "description": "Twelve trucks, Amman to Deraa; please confirm the road is clear.",
    },
}

MESSAGE: dict[str, Any] = {
    "msgType": "Alert",
    "severity": "Severe",
    "urgency": "Immediate",
    "certainty": "Observed",
    "headline": "Artillery fire reported near the convoy route",
    "description": "Hold the convoy at the crossing until confirmed.",
    "ack_within_s": 600,
}


# ---- incidents (parsed by the domain, which names the field of any problem) ----------------------


def _text(limit: int, description: str = "") -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, **({"description": description} if description else {})}


_ACTOR: dict[str, Any] = {
    "type": "object",
    "required": ["name", "inter"],
    "properties": {
        "name": _text(300),
        "inter": {
            "oneOf": [{"type": "integer", "enum": sorted(INTER)}, {"type": "string", "enum": list(INTER.values())}],
            "description": "ACLED actor type: its code or its label",
        },
        "associated": _text(600, "associated actors"),
    },
}
_SOURCE: dict[str, Any] = {
    "oneOf": [
        _text(300, "the source's name"),
        {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _text(300), "scale": _text(100), "notes": _text(5_000), "url": _text(2_000)},
        },
    ]
}
_FATALITIES: dict[str, Any] = {
    "oneOf": [
        {"type": "integer", "minimum": 0},
        {
            "type": "object",
            "properties": {k: {"type": "integer", "minimum": 0} for k in ("low", "best", "high")},
            "description": "an estimate's range",
        },
    ],
    "default": 0,
}
INCIDENT_REPORT: dict[str, Any] = {
    "title": "IncidentReport",
    "type": "object",
    "required": ["event_type", "sub_event_type", "actor1", "location", "sources"],
    "description": "event_date or occurred_at is required",
    "properties": {
        "event_date": {"type": "string", "format": "date"},
        "occurred_at": {"type": "string", "format": "date-time", "description": "RFC 3339, on event_date"},
        "time_precision": {"type": "integer", "enum": [1, 2, 3], "default": 1, "description": "1 day, 2 week, 3 month"},
        "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
        "sub_event_type": {"type": "string", "description": "one of ACLED's sub-event types of event_type"},
        "disorder_type": {"type": "string", "description": "default: ACLED's for the event type"},
        "actor1": _ACTOR,
        "actor2": _ACTOR,
        "civilian_targeting": {"type": "boolean", "default": False},
        "location": {
            "type": "object",
            "required": ["latitude", "longitude"],
            "properties": {
                "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                "geo_precision": {"type": "integer", "enum": [1, 2, 3], "default": 1,
                                  "description": "1 exact place, 2 nearby or part of a region, 3 province"},
                "name": _text(300),
                "admin1": _text(300),
                "admin2": _text(300),
                "admin3": _text(300),
                "country": _text(200),
                "iso": {"type": "integer", "minimum": 0, "maximum": 999, "description": "ISO 3166-1 numeric"},
                "region": _text(200),
            },
        },
        "fatalities": _FATALITIES,
        "sources": {"type": "array", "items": _SOURCE, "minItems": 1, "maxItems": 100},
        "notes": _text(20_000),
        "tags": {"type": "array", "items": _text(100), "maxItems": 50},
        "alleged": {"type": "array", "items": {"type": "string"}, "maxItems": 20,
                    "description": "the parties (names or ids) it is alleged against"},
    },
}  # fmt: skip

_STATEMENT = _text(10_000)
INCIDENT_STEP: dict[str, Any] = {
    "title": "IncidentStep",
    "type": "object",
    "required": ["step"],
    "properties": {
        "step": {"type": "string", "enum": [s.value for s in Step],
                 "description": "a monitor reviews, verifies or rejects; a party it is alleged against disputes"},
        "statement": {**_STATEMENT, "description": "required to verify, reject or dispute"},
        "version": {"type": "integer", "description": "the version you read (optimistic check)"},
    },
    "examples": [{"step": "review"}],
}  # fmt: skip
INCIDENT_MERGE: dict[str, Any] = {
    "title": "IncidentMerge",
    "type": "object",
    "required": ["duplicates"],
    "properties": {
        "duplicates": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                       "description": "ids of the records that report the same event"},
        "statement": _STATEMENT,
    },
}  # fmt: skip
INCIDENT_UNMERGE: dict[str, Any] = {
    "title": "IncidentUnmerge",
    "type": "object",
    "required": ["duplicate"],
    "properties": {"duplicate": {"type": "string", "description": "the id of a record merged into this one"},
                   "statement": _STATEMENT},
}  # fmt: skip


INCIDENT_EVIDENCE: dict[str, Any] = {
    "title": "IncidentEvidence",
    "description": "a file attached to the incident, in CAP 1.2's resource terms",
    "type": "object",
    "required": ["resourceDesc", "mimeType", "derefUri"],
    "properties": {
        "resourceDesc": {"type": "string", "maxLength": 300, "description": "what it is"},
        "mimeType": {"type": "string", "description": "its media type (RFC 6838): image/jpeg, application/pdf"},
        "derefUri": {"type": "string", "contentEncoding": "base64",
                     "description": "the content, base64-encoded (at most TRUCELINE_MAX_EVIDENCE_BYTES decoded)"},
    },
    "additionalProperties": False,
}  # fmt: skip
EVIDENCE_EXAMPLE = {"resourceDesc": "Photograph of the crater, Izra market, 10 July 09:40", "mimeType": "image/jpeg",
                    "derefUri": "/9j/4AAQSkZJRgABAQ..."}  # fmt: skip


def json_body(schema: dict[str, Any], example: dict[str, Any] | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself: the body's schema and example."""
    media: dict[str, Any] = {"schema": schema, **({"example": example} if example else {})}
    return {"requestBody": {"required": True, "content": {"application/json": media}}}
