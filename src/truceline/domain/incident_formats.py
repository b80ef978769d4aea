"""ACLED and UCDP GED rows to incidents and back. Column names are the datasets' own; values are checked
one row at a time so a bad row is refused with its column and reason and the others go on.

ACLED: the current 31 columns; older exports' extra columns (``data_id``, ``event_id_no_cnty``,
``iso3``) are accepted and ignored, their ``10 July 2017`` dates read, and ``inter1``/``inter2`` taken
as codes or labels. UCDP GED: the 49 columns of the GED codebook; how its fields map onto ACLED's
vocabulary is stated in ``from_ucdp`` (UCDP records lethal organised violence only).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from truceline.domain.errors import InvalidInput
from truceline.domain.incidents import (
    DISORDER_TYPES,
    EVENT_TYPES,
    GEO_PRECISION,
    TIME_PRECISION,
    ActorRef,
    Dataset,
    Fatalities,
    Incident,
    Source,
    Verification,
    check_coordinates,
    check_event_types,
    check_fatalities,
    check_precision,
    disorder_type,
    parse_date,
    parse_inter,
)
from truceline.domain.unstorable import MAX_INT

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
    "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
    "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
#: Columns older ACLED exports have: accepted, not needed.
ACLED_OLD_COLUMNS = frozenset({"data_id", "event_id_no_cnty", "iso3"})
#: Columns an ACLED file must have (older files lack disorder_type, civilian_targeting and tags).
ACLED_REQUIRED = frozenset({
    "event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type", "actor1", "inter1",
    "latitude", "longitude", "geo_precision", "fatalities",
})  # fmt: skip

UCDP_COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id",
    "conflict_new_id", "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id",
    "side_a_new_id", "side_a", "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources",
    "source_article", "source_office", "source_date", "source_headline", "source_original", "where_prec",
    "where_coordinates", "where_description", "adm_1", "adm_2", "latitude", "longitude", "geom_wkt",
    "priogrid_gid", "country", "country_id", "region", "event_clarity", "date_prec", "date_start", "date_end",
    "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "high", "low", "gwnoa", "gwnob",
)  # fmt: skip
UCDP_REQUIRED = frozenset({
    "id", "type_of_violence", "side_a", "side_b", "where_prec", "latitude", "longitude", "date_prec",
    "date_start", "date_end", "best", "high", "low",
})  # fmt: skip

_NS_BYTES = uuid.UUID("6f1c3d52-8a51-4d7e-9c0e-54b3a1f0c2d7").bytes
_VARIANT = {f"{n:x}": f"{8 | (n & 3):x}" for n in range(16)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def import_id(dataset: Dataset, external_id: str) -> str:
    """The same source record always gets the same id, so importing a file twice stores it once: an
    RFC 9562 name-based (version 5) UUID of the dataset and the record's own id."""
    h = hashlib.sha1(_NS_BYTES + f"{dataset}\x1f{external_id}".encode()).hexdigest()
    # version 5 in the 13th hex digit, the RFC variant (10xx) in the 17th
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def check_header(header: Sequence[str], fmt: str) -> list[str]:
    """The header's column names, normalised; refuse a file that lacks a required column."""
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    required = ACLED_REQUIRED if fmt == "acled" else UCDP_REQUIRED
    missing = sorted(required - set(names))
    if missing:
        raise InvalidInput.at(
            "/header",
            f"not an {fmt.upper()} file: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
        )
    return names


def _text(row: Mapping[str, str], key: str, limit: int = 2_000) -> str:
    v = (row.get(key) or "").strip()
    if len(v) > limit:
        raise InvalidInput.at(key, f"longer than {limit} characters")
    return v


def _int(row: Mapping[str, str], key: str, *, default: int | None = None) -> int:
    raw = (row.get(key) or "").strip()
    if raw == "" and default is not None:
        return default
    try:
        v = int(float(raw)) if "." in raw and float(raw).is_integer() else int(raw)
    except ValueError:
        raise InvalidInput.at(key, f"must be a whole number, not {raw[:40]!r}") from None
    if not -MAX_INT - 1 <= v <= MAX_INT:
        raise InvalidInput.at(key, f"is out of range: {raw[:40]}")
    return v


def _imported(dataset: Dataset, external_id: str, now: datetime, **fields: Any) -> Incident:
    return Incident(
        id=import_id(dataset, external_id),
        dataset=dataset,
        external_id=external_id,
        status=Verification.reported,
        created_at=now,
        updated_at=now,
        reported_by=fields.pop("reported_by", None),
        alleged=[],
        **fields,
    )


_PRECISION = {"1": 1, "2": 2, "3": 3}
_INTER_CODE = {str(k): k for k in range(9)} | {"": 0}
_SUBS = {t: frozenset(subs) for t, subs in EVENT_TYPES.items()}
_CIVILIANS = {"": False, "Civilian targeting": True, "Civilians targeted": True}
#: ACLED's text columns and their longest accepted length.
_ACLED_TEXT = (("actor1", 300), ("assoc_actor_1", 600), ("actor2", 300), ("assoc_actor_2", 600), ("region", 200),
               ("country", 200), ("admin1", 300), ("admin2", 300), ("admin3", 300), ("location", 300),
               ("source", 2_000), ("source_scale", 300), ("notes", 20_000), ("tags", 2_000))  # fmt: skip
#: Sources repeat across a file's rows: parse each (source, scale) pair once (bounded).
_SOURCES: dict[tuple[str, str], list[Source]] = {}


def _acled_sources(source: str, scale: str) -> list[Source]:
    key = (source, scale)
    found = _SOURCES.get(key)
    if found is None:
        names = [n.strip() for n in source.split(";") if n.strip()]
        found = [Source(n, scale) for n in names] or [Source("ACLED", scale)]
        if len(_SOURCES) > 50_000:
            _SOURCES.clear()
        _SOURCES[key] = found
    return found


def from_acled(row: Mapping[str, str], *, now: datetime, reported_by: str | None = None) -> Incident:
    """One ACLED row (a dict keyed by lower-case column name). The common case is checked on a fast
    path; anything unusual goes through the general checks, which say what is wrong."""
    g = row.get
    external_id = (g("event_id_cnty") or "").strip()
    if not external_id or len(external_id) > 64:
        raise InvalidInput.at("event_id_cnty", "is required (at most 64 characters)")
    raw_date = (g("event_date") or "").strip()
    try:
        day = date.fromisoformat(raw_date) if len(raw_date) == 10 else parse_date(raw_date, "event_date")
    except ValueError:
        day = parse_date(raw_date, "event_date")
    year = (g("year") or "").strip()
    if year and year != str(day.year):
        raise InvalidInput.at("year", f"{year} does not match event_date {day.isoformat()}")
    event_type, sub = (g("event_type") or "").strip(), (g("sub_event_type") or "").strip()
    if sub not in _SUBS.get(event_type, ()):
        check_event_types(event_type, sub)
    text = {}
    for key, limit in _ACLED_TEXT:
        v = (g(key) or "").strip()
        if len(v) > limit:
            raise InvalidInput.at(key, f"longer than {limit} characters")
        text[key] = v
    disorder = (g("disorder_type") or "").strip() or disorder_type(event_type, sub)
    if disorder not in DISORDER_TYPES:
        raise InvalidInput.at(
            "disorder_type", f"unknown disorder type {disorder!r}; one of {', '.join(DISORDER_TYPES)}"
        )
    tp = _PRECISION.get((g("time_precision") or "").strip()) or check_precision(
        g("time_precision"), "time_precision", TIME_PRECISION
    )
    gp = _PRECISION.get((g("geo_precision") or "").strip()) or check_precision(
        g("geo_precision"), "geo_precision", GEO_PRECISION
    )
    i1 = _INTER_CODE.get((g("inter1") or "").strip())
    if i1 is None:
        i1 = parse_inter(g("inter1"), "inter1")
    i2 = _INTER_CODE.get((g("inter2") or "").strip())
    if i2 is None:
        i2 = parse_inter(g("inter2"), "inter2")
    try:
        lat, lon = float(g("latitude") or "nan"), float(g("longitude") or "nan")
    except ValueError:
        lat = lon = math.nan
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # NaN fails too: the checks say why
        lat, lon = check_coordinates(g("latitude"), g("longitude"))
    best = _int(row, "fatalities", default=0)
    if best < 0:
        raise InvalidInput.at("fatalities", f"must be ≥ 0, not {best}")
    civ = _CIVILIANS.get((g("civilian_targeting") or "").strip())
    if civ is None:
        raise InvalidInput.at(
            "civilian_targeting", f"must be empty or 'Civilian targeting', not {g('civilian_targeting')!r}"
        )
    stamp = (g("timestamp") or "").strip()
    tags = text["tags"]
    return Incident(
        id=import_id(Dataset.acled, external_id),
        dataset=Dataset.acled,
        external_id=external_id,
        event_date=day,
        time_precision=tp,
        event_type=event_type,
        sub_event_type=sub,
        disorder_type=disorder,
        actor1=ActorRef(text["actor1"], i1, text["assoc_actor_1"]),
        actor2=ActorRef(text["actor2"], i2, text["assoc_actor_2"]),
        civilian_targeting=civ,
        latitude=lat,
        longitude=lon,
        geo_precision=gp,
        location=text["location"],
        admin1=text["admin1"],
        admin2=text["admin2"],
        admin3=text["admin3"],
        country=text["country"],
        iso=_int(row, "iso", default=0),
        region=text["region"],
        fatalities=Fatalities(best, best, best),
        sources=_acled_sources(text["source"], text["source_scale"]),
        notes=text["notes"],
        tags=[t.strip() for t in tags.split(";") if t.strip()] if tags else [],
        source_timestamp=_int(row, "timestamp") if stamp else None,
        reported_by=reported_by,
        alleged=[],
        status=Verification.reported,
        created_at=now,
        updated_at=now,
    )


#: UCDP ``where_prec`` (1 exact … 7 country or wider) to ACLED's ``geo_precision``.
_UCDP_GEO = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 3, 7: 3}
#: UCDP ``date_prec`` (1 the day … 5 longer than a month) to ACLED's ``time_precision``.
_UCDP_TIME = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}


def _ucdp_inter(side: str, type_of_violence: int, is_b: bool) -> int:
    if side.lower().startswith("government of"):
        return 1
    if side.lower().startswith("civilians"):
        return 7
    # State-based conflict pits a government against a rebel group; non-state and one-sided
    # perpetrators are organised armed groups, which ACLED calls political militias.
    return 2 if type_of_violence == 1 and is_b else 3


def from_ucdp(row: Mapping[str, str], *, now: datetime, reported_by: str | None = None) -> Incident:
    """One UCDP GED row. Mapping onto ACLED's vocabulary: state-based and non-state violence are
    ``Battles / Armed clash``, one-sided violence is ``Violence against civilians / Attack`` (civilian
    targeting); ``side_a``/``side_b`` are the actors; ``low``/``best``/``high`` the fatalities;
    ``where_prec`` and ``date_prec`` become ACLED's precisions; the first source is kept."""
    external_id = _text(row, "id", 64)
    if not external_id:
        raise InvalidInput.at("id", "is required")
    tov = _int(row, "type_of_violence")
    if tov not in (1, 2, 3):
        raise InvalidInput.at("type_of_violence", f"must be 1, 2 or 3, not {tov}")
    start = parse_date(row.get("date_start"), "date_start")
    end = parse_date(row.get("date_end"), "date_end")
    if end < start:
        raise InvalidInput.at("date_end", f"{end.isoformat()} is before date_start {start.isoformat()}")
    where = _int(row, "where_prec")
    if where not in _UCDP_GEO:
        raise InvalidInput.at("where_prec", f"must be 1-7, not {where}")
    dprec = _int(row, "date_prec")
    if dprec not in _UCDP_TIME:
        raise InvalidInput.at("date_prec", f"must be 1-5, not {dprec}")
    lat, lon = check_coordinates(row.get("latitude"), row.get("longitude"))
    fat = check_fatalities(row.get("low"), row.get("best"), row.get("high"), "fatalities")
    side_a, side_b = _text(row, "side_a", 300), _text(row, "side_b", 300)
    event_type, sub = ("Violence against civilians", "Attack") if tov == 3 else ("Battles", "Armed clash")
    office = _text(row, "source_office", 300) or "UCDP GED"
    article = _text(row, "source_article", 2_000)
    return _imported(
        Dataset.ucdp,
        external_id,
        now,
        event_date=start,
        date_end=end if end != start else None,
        time_precision=_UCDP_TIME[dprec],
        event_type=event_type,
        sub_event_type=sub,
        disorder_type=disorder_type(event_type, sub),
        actor1=ActorRef(side_a, _ucdp_inter(side_a, tov, False)),
        actor2=ActorRef(side_b, 7 if tov == 3 else _ucdp_inter(side_b, tov, True)),
        civilian_targeting=tov == 3,
        latitude=lat,
        longitude=lon,
        geo_precision=_UCDP_GEO[where],
        location=_text(row, "where_coordinates", 300),
        admin1=_text(row, "adm_1", 300),
        admin2=_text(row, "adm_2", 300),
        admin3="",
        country=_text(row, "country", 200),
        iso=0,
        region=_text(row, "region", 200),
        fatalities=fat,
        sources=[Source(office, notes=article)],
        notes=_text(row, "where_description", 2_000),
        tags=[],
        reported_by=reported_by,
    )


def to_acled(i: Incident, sources: Sequence[Source] | None = None) -> list[str]:
    """One ACLED row for an incident (``sources``: its own and its merged duplicates')."""
    srcs = list(sources if sources is not None else i.sources)
    scales = sorted({s.scale for s in srcs if s.scale})
    return [
        i.external_id if i.dataset is not Dataset.truceline else f"TL-{i.id}",
        i.event_date.isoformat(),
        str(i.event_date.year),
        str(i.time_precision),
        i.disorder_type,
        i.event_type,
        i.sub_event_type,
        i.actor1.name,
        i.actor1.associated,
        str(i.actor1.inter),
        i.actor2.name,
        i.actor2.associated,
        str(i.actor2.inter),
        str(i.interaction),
        "Civilian targeting" if i.civilian_targeting else "",
        str(i.iso),
        i.region,
        i.country,
        i.admin1,
        i.admin2,
        i.admin3,
        i.location,
        f"{i.latitude:.4f}",
        f"{i.longitude:.4f}",
        str(i.geo_precision),
        "; ".join(s.name for s in srcs),
        "; ".join(scales),
        i.notes,
        str(i.fatalities.best),
        "; ".join(i.tags),
        str(i.source_timestamp if i.source_timestamp is not None else int((i.updated_at - _EPOCH).total_seconds())),
    ]
