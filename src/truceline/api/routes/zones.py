from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from truceline.adapters import geojson_io
from truceline.api import schemas, views
from truceline.api.deps import AppContext, Caller, Ctx, Write, Writer
from truceline.api.routes import export, params
from truceline.api.routes.params import MAX_INT, Offset
from truceline.domain.errors import InvalidInput
from truceline.domain.geometry import to_geojson
from truceline.domain.model import Party, Zone, ZoneKind, ZoneStatus
from truceline.services import parties, zones

router = APIRouter(prefix="/v1/zones", tags=["zones"])


def _names(ctx: AppContext, items: list[Zone], *more: str) -> dict[str, str]:
    return parties.names(
        ctx.uow(), {p for z in items for p in (*z.signatories, *(r.party_id for r in z.responsible))} | set(more)
    )


def _render(ctx: AppContext, items: list[Zone]) -> list[schemas.ZoneRead]:
    names = _names(ctx, items)
    return [views.zone(z, names) for z in items]


def _change(ctx: AppContext, result: zones.ZoneResult) -> schemas.ZoneChange:
    return schemas.ZoneChange(
        zone=_render(ctx, [result.zone])[0], activities_in_conflict=result.conflicts_opened_or_kept
    )


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        vals = [float(x) for x in raw.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not (-180 <= vals[0] <= vals[2] <= 180 and -90 <= vals[1] <= vals[3] <= 90):
        raise InvalidInput.at("#query/bbox", "bbox must be min_lon,min_lat,max_lon,max_lat within the world")
    return vals[0], vals[1], vals[2], vals[3]


@router.post("", operation_id="createZone", status_code=status.HTTP_201_CREATED, response_model=schemas.ZoneChange)
def create_zone(body: schemas.ZoneCreate, ctx: Ctx, caller: Caller, w: Write) -> schemas.ZoneChange:
    """Create a zone (revision 1). If it is in force, activities it touches are checked at once."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _change(ctx, zones.create(w.uow(), ctx.policy, caller, data))


def _filter(
    name: Annotated[
        str | None, Query(max_length=200, description="a part of the zone's name, in any case (`nasib`)")
    ] = None,
    kind: ZoneKind | None = None,
    status: ZoneStatus | None = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    time_start: Annotated[str | None, Query(description="RFC 3339: zones effective after this")] = None,
    time_end: Annotated[str | None, Query(description="RFC 3339: zones effective before this")] = None,
) -> dict[str, Any]:
    return {"name": name, "kind": kind, "status": status, "bbox": _bbox(bbox),
            "at": params.time_window(time_start, time_end)}  # fmt: skip


Filter = Annotated[dict[str, Any], Depends(_filter)]


@router.get("", operation_id="listZones", response_model=list[schemas.ZoneRead])
def list_zones(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Offset = 0,
) -> list[schemas.ZoneRead]:
    """Zones are visible to every party. Filters: a part of the name, kind, status, bbox, and a time
    window."""
    return _render(ctx, zones.list_zones(ctx.uow(), caller, **f, limit=limit, offset=offset))


KML = "application/vnd.google-earth.kml+xml"


@router.get(
    "/export",
    operation_id="exportZones",
    response_class=StreamingResponse,
    responses={200: {**export.GEOJSON_RESPONSES[200],
                     "content": {**export.GEOJSON_RESPONSES[200]["content"], KML: {"schema": {"type": "string"}}}}},
)  # fmt: skip
def export_zones(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    format: Annotated[str, Query(pattern="^(geojson|kml)$", description="geojson (default) or kml")] = "geojson",
) -> StreamingResponse:
    """Every zone the filters match, as a GeoJSON file: a Feature per zone, its rules, signatories and
    responsibilities as properties. Edit a boundary in a GIS and send it back as a revision
    (``truceline zones revise ID --file``), or propose the zones elsewhere (``truceline zones add``).
    ``format=kml``: the same zones as KML, for the maps a field office has offline (Google Earth, a
    phone's map app), coloured by kind, each with its rules in words."""
    def fetch(limit: int, offset: int) -> list[Zone]:
        return zones.list_zones(ctx.uow(), caller, **f, limit=limit, offset=offset)

    def features(page: list[Zone]) -> list[dict[str, Any]]:
        return [geojson_io.zone_feature(z.model_dump(mode="json")) for z in _render(ctx, page)]

    if format == "kml":
        from truceline.adapters.kml_io import zones_kml

        every = [feature for page in export.pages(fetch) for feature in features(page)]
        return export.attachment(iter([zones_kml(every)]), KML, "zones.kml")
    return export.geojson_download(fetch, features, "zones.geojson")


def etag(revision: int) -> str:
    """A zone's version as an HTTP entity tag: its revision number."""
    return f'"{revision}"'


_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def if_match_revision(header: str | None) -> int | None:
    if header is None:
        return None
    m = _ETAG.match(header)
    if m is None:
        raise InvalidInput.at("/headers/If-Match", 'If-Match must be one zone version as given in its ETag, e.g. "3"')
    return int(m.group(1))


@router.get("/awaiting", operation_id="listZonesAwaitingSignature", response_model=list[schemas.ZoneAwaitingRead])
def awaiting_signature(ctx: Ctx, caller: Caller) -> list[schemas.ZoneAwaitingRead]:
    """The zones still being negotiated whose current revision waits for your party's signature: in
    principle (not signed at all yet) or final (signed in principle only). A revision voids earlier
    sign-offs, so a zone comes back here when it is revised."""
    return [
        schemas.ZoneAwaitingRead(
            id=a.zone.id, name=a.zone.name, kind=a.zone.kind, status=a.zone.status, revision=a.zone.revision,
            signature=a.signature,
        )
        for a in zones.awaiting_signature(ctx.uow(), caller)
    ]  # fmt: skip


@router.get("/{zone_id}", operation_id="getZone", response_model=schemas.ZoneRead)
def get_zone(zone_id: str, ctx: Ctx, caller: Caller, response: Response) -> schemas.ZoneRead:
    """The zone. Its ``ETag`` is its revision: send it back in ``If-Match`` when you change it."""
    zone = _render(ctx, [zones.get(ctx.uow(), caller, zone_id)])[0]
    response.headers["ETag"] = etag(zone.revision)
    return zone


@router.patch(
    "/{zone_id}",
    operation_id="updateZone",
    response_model=schemas.ZoneChange,
    responses={409: {"description": "The zone is no longer at that version: `current_revision` says where it is"}},
)
def update_zone(
    zone_id: str,
    body: schemas.ZoneUpdate,
    ctx: Ctx,
    caller: Caller,
    w: Write,
    response: Response,
    if_match: Annotated[str | None, Header(description='the version you are changing, from the ETag ("3")')] = None,
) -> schemas.ZoneChange:
    """Change a zone. Boundary or rule changes make a new revision; the old one is kept. Optimistic
    concurrency: give the version you read, in ``If-Match`` or as ``revision``; if someone changed the
    zone since, nothing is changed and you get 409 with the current revision."""
    data = body.model_dump(mode="json", exclude_unset=True)
    expected = if_match_revision(if_match)
    if expected is not None:
        if data.get("revision") is not None and data["revision"] != expected:
            raise InvalidInput.at("/revision", f"revision {data['revision']} differs from If-Match {expected}")
        data["revision"] = expected
    result = _change(ctx, zones.update(w.uow(), ctx.policy, caller, zone_id, data))
    response.headers["ETag"] = etag(result.zone.revision)
    return result


@router.post("/{zone_id}/lapse", operation_id="lapseZone", response_model=schemas.ZoneChange)
def lapse_zone(zone_id: str, ctx: Ctx, caller: Caller, w: Write) -> schemas.ZoneChange:
    """End a zone: it stops applying and its conflicts close."""
    return _change(ctx, zones.lapse(w.uow(), ctx.policy, caller, zone_id))


@router.get("/{zone_id}/revisions", operation_id="listZoneRevisions", response_model=list[schemas.ZoneRevisionRead])
def zone_revisions(zone_id: str, ctx: Ctx, caller: Caller) -> list[schemas.ZoneRevisionRead]:
    return [views.revision(r) for r in zones.revisions(ctx.uow(), caller, zone_id)]


__all__ = ["router"]


@router.get("/{zone_id}/negotiation", operation_id="getZoneNegotiation", response_model=schemas.NegotiationRead)
def zone_negotiation(zone_id: str, ctx: Ctx, caller: Caller) -> schemas.NegotiationRead:
    """The zone's page: revisions with author and rationale, every sign-off and objection, who has yet to
    sign, documents still to finalise, responsibilities awaiting an answer."""
    n = zones.negotiation(ctx.uow(), caller, zone_id)
    names = _names(ctx, [n.zone], *(p.party_id for p in n.positions))
    return views.negotiation(n, names)


@router.get(
    "/{zone_id}/revisions/{a}/diff/{b}", operation_id="diffZoneRevisions", response_model=schemas.RevisionDiffRead
)
def zone_diff(
    zone_id: str,
    a: Annotated[int, Path(ge=1, le=MAX_INT)],
    b: Annotated[int, Path(ge=1, le=MAX_INT)],
    ctx: Ctx,
    caller: Caller,
) -> schemas.RevisionDiffRead:
    """GeoJSON of the area added and removed between two revisions, with km², and the rule changes."""
    d = zones.diff(ctx.uow(), ctx.policy, caller, zone_id, a, b)
    return schemas.RevisionDiffRead(
        zone_id=zone_id,
        a=d.a,
        b=d.b,
        added=to_geojson(d.added),
        removed=to_geojson(d.removed),
        added_km2=round(d.added_km2, 3),
        removed_km2=round(d.removed_km2, 3),
        rule_changes=d.rule_changes,
    )


@router.post("/{zone_id}/signoffs", operation_id="signZone", response_model=schemas.ZoneChange)
def sign_zone(zone_id: str, body: schemas.PositionIn, ctx: Ctx, caller: Caller, w: Write) -> schemas.ZoneChange:
    """Sign the current revision, in principle or final. Agreement and entry into force follow."""
    return _change(ctx, zones.take_position(w.uow(), ctx.policy, caller, zone_id, body.model_dump()))


@router.post("/{zone_id}/objections", operation_id="objectToZone", response_model=schemas.ZoneChange)
def object_to_zone(zone_id: str, body: schemas.ObjectionIn, ctx: Ctx, caller: Caller, w: Write) -> schemas.ZoneChange:
    """Refuse the current revision, with a statement."""
    return _change(ctx, zones.take_position(w.uow(), ctx.policy, caller, zone_id, body.model_dump(), objection=True))


@router.post(
    "/{zone_id}/responsibilities",
    operation_id="requestResponsibility",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ResponsibilityRead,
)
def request_responsibility(
    zone_id: str, body: schemas.ResponsibilityRequest, ctx: Ctx, caller: Caller, w: Write
) -> schemas.ResponsibilityRead:
    """A signatory asks a party to guarantee, police or monitor the zone."""
    r = zones.request_responsibility(w.uow(), ctx.policy, caller, zone_id, body.model_dump())
    return views.responsibility(r, parties.names(ctx.uow(), {r.party_id}))


def _answer(
    ctx: AppContext, caller: Party, w: Writer, zone_id: str, rid: str, body: schemas.ResponsibilityAnswer, accept: bool
) -> schemas.ResponsibilityRead:
    r = zones.answer_responsibility(w.uow(), ctx.policy, caller, zone_id, rid, body.model_dump(), accept=accept)
    return views.responsibility(r, parties.names(ctx.uow(), {r.party_id}))


@router.post(
    "/{zone_id}/responsibilities/{responsibility_id}/accept",
    operation_id="acceptResponsibility",
    response_model=schemas.ResponsibilityRead,
)
def accept_responsibility(
    zone_id: str, responsibility_id: str, body: schemas.ResponsibilityAnswer, ctx: Ctx, caller: Caller, w: Write
) -> schemas.ResponsibilityRead:
    return _answer(ctx, caller, w, zone_id, responsibility_id, body, True)


@router.post(
    "/{zone_id}/responsibilities/{responsibility_id}/decline",
    operation_id="declineResponsibility",
    response_model=schemas.ResponsibilityRead,
)
def decline_responsibility(
    zone_id: str, responsibility_id: str, body: schemas.ResponsibilityAnswer, ctx: Ctx, caller: Caller, w: Write
) -> schemas.ResponsibilityRead:
    """Decline, with a statement (it is kept)."""
    return _answer(ctx, caller, w, zone_id, responsibility_id, body, False)


def _doc(ctx: AppContext, d: zones.DocumentStatus) -> schemas.DocumentRead:
    """The document as it stands now: who has yet to sign it final, every position taken on it."""
    return views.document(d, parties.names(ctx.uow(), {*d.unsigned_by, *(p.party_id for p in d.positions)}))


@router.post(
    "/{zone_id}/documents",
    operation_id="addZoneDocument",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.DocumentRead,
)
def add_document(zone_id: str, body: schemas.DocumentIn, ctx: Ctx, caller: Caller, w: Write) -> schemas.DocumentRead:
    """Attach a document on how the zone works; signatories sign it like a revision."""
    return _doc(ctx, zones.add_document(w.uow(), caller, zone_id, body.model_dump()))


@router.patch(
    "/{zone_id}/documents/{document_id}", operation_id="reviseZoneDocument", response_model=schemas.DocumentRead
)
def revise_document(
    zone_id: str, document_id: str, body: schemas.DocumentUpdate, ctx: Ctx, caller: Caller, w: Write
) -> schemas.DocumentRead:
    """A new version of the document; earlier signatures no longer count."""
    return _doc(ctx, zones.revise_document(w.uow(), caller, zone_id, document_id, body.model_dump(exclude_unset=True)))


@router.post(
    "/{zone_id}/documents/{document_id}/signoffs", operation_id="signZoneDocument", response_model=schemas.DocumentRead
)
def sign_document(
    zone_id: str, document_id: str, body: schemas.DocumentPositionIn, ctx: Ctx, caller: Caller, w: Write
) -> schemas.DocumentRead:
    """Sign the document's current version, in principle or final."""
    return _doc(ctx, zones.sign_document(w.uow(), caller, zone_id, document_id, body.model_dump()))


@router.post(
    "/{zone_id}/documents/{document_id}/objections", operation_id="objectToZoneDocument",
    response_model=schemas.DocumentRead,
)  # fmt: skip
def object_to_document(
    zone_id: str, document_id: str, body: schemas.DocumentObjectionIn, ctx: Ctx, caller: Caller, w: Write
) -> schemas.DocumentRead:
    """Refuse the document's current version, with a statement."""
    return _doc(ctx, zones.sign_document(w.uow(), caller, zone_id, document_id, body.model_dump(), objection=True))
