"""Evidence attached to an incident report: a photograph of the crater, a monitor's written report,
a recording. Given in CAP 1.2's ``resource`` vocabulary (``resourceDesc``, ``mimeType``, and the
content itself base64-encoded in ``derefUri``), kept byte for byte, and known by its SHA-256 digest,
which goes in the audit log: a file swapped afterwards no longer matches the chain."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from truceline.domain.errors import InvalidInput, PayloadTooLarge

#: RFC 6838's type/subtype (restricted names), with no parameters
_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")
MAX_DESCRIPTION = 300


@dataclass(frozen=True)
class Evidence:
    id: str
    incident_id: str
    description: str
    mime_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Given:
    """Evidence as checked, before it is stored."""

    description: str
    mime_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def parse_evidence(data: object, max_bytes: int) -> Given:
    """``{"resourceDesc", "mimeType", "derefUri"}`` (CAP 1.2 resource); the content at most
    ``max_bytes`` once decoded."""
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object with resourceDesc, mimeType and derefUri")
    unknown = sorted(set(data) - {"resourceDesc", "mimeType", "derefUri"})
    if unknown:
        raise InvalidInput.at(f"/{unknown[0]}", "unknown field; evidence has resourceDesc, mimeType and derefUri")
    desc = data.get("resourceDesc")
    if not isinstance(desc, str) or not desc.strip():
        raise InvalidInput.at("/resourceDesc", "is required: what the evidence is (a photograph of the crater, ...)")
    if len(desc) > MAX_DESCRIPTION:
        raise InvalidInput.at("/resourceDesc", f"is longer than {MAX_DESCRIPTION} characters")
    mime = data.get("mimeType")
    if not isinstance(mime, str) or not _MIME.match(mime):
        raise InvalidInput.at("/mimeType", "must be a media type such as image/jpeg or application/pdf")
    encoded = data.get("derefUri")
    if not isinstance(encoded, str) or not encoded:
        raise InvalidInput.at("/derefUri", "is required: the content, base64-encoded")
    if len(encoded) > (max_bytes + 2) // 3 * 4:  # refused before it is decoded
        raise PayloadTooLarge(f"evidence is at most {max_bytes:,} bytes")
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput.at("/derefUri", "is not base64 (RFC 4648, with its padding)") from None
    if not content:
        raise InvalidInput.at("/derefUri", "holds no content")
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"evidence is at most {max_bytes:,} bytes")
    return Given(desc.strip(), mime.lower(), content)


def signed_form(body: Any) -> Any:
    """Evidence as a signing party signs it: the body with the content in ``derefUri`` replaced by
    ``{"sha256": hex digest of the decoded content}``, as a file that is not JSON is signed. A body
    whose content is not base64 is signed as it is (and then refused for that)."""
    if not isinstance(body, dict) or not isinstance(body.get("derefUri"), str):
        return body
    try:
        content = base64.b64decode(body["derefUri"], validate=True)
    except (binascii.Error, ValueError):
        return body
    return {**body, "derefUri": {"sha256": hashlib.sha256(content).hexdigest()}}


def digest_header(sha256_hex: str) -> str:
    """RFC 9530's ``Repr-Digest`` field value for a SHA-256 digest."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode()}:"
