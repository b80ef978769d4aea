"""Downloads: every item a listing's filters match, as one file streamed to the client."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, TypeVar

from fastapi.responses import StreamingResponse

from truceline.adapters.geojson_io import feature_collection

T = TypeVar("T")

GEOJSON = "application/geo+json"

#: How a GeoJSON download is described in the OpenAPI document.
GEOJSON_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A GeoJSON FeatureCollection (RFC 7946), sent as a file",
        "content": {
            GEOJSON: {
                "schema": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        },
    }
}


def pages(fetch: Callable[[int, int], list[T]], size: int = 500) -> Iterator[list[T]]:
    """Every page ``fetch(limit, offset)`` gives, until one comes back short."""
    offset = 0
    while True:
        page = fetch(size, offset)
        if page:
            yield page
        if len(page) < size:
            return
        offset += size


def attachment(chunks: Iterator[bytes | str], media_type: str, filename: str) -> StreamingResponse:
    """Stream ``chunks`` as a file. The first chunk is made before the response starts, so a refusal
    (permission, a bad filter) is still a problem+json answer rather than a cut stream."""
    first = next(chunks)

    def stream() -> Iterator[bytes | str]:
        yield first
        yield from chunks

    return StreamingResponse(
        stream(), media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def geojson_download(
    fetch: Callable[[int, int], list[T]], features: Callable[[list[T]], Iterable[dict[str, Any]]], filename: str
) -> StreamingResponse:
    """Every item ``fetch(limit, offset)`` gives, page by page, as a GeoJSON FeatureCollection file.
    The first page is read before the response starts, so a refusal is a problem+json answer."""
    every = pages(fetch)
    first = next(every, [])

    def all_features() -> Iterator[dict[str, Any]]:
        for page in chain([first], every):
            yield from features(page)

    return attachment(feature_collection(all_features()), GEOJSON, filename)
