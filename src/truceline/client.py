"""A small HTTP client for Truceline's API (used by the CLI and by scripts)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.domain.audit import new_request_signature
from truceline.domain.volumes import format_time


class ApiError(Exception):
    """A problem+json answer from the server, kept whole."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        p = self.problem
        errs = p.get("errors") or []
        if errs:
            first = errs[0]
            more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
            return (
                f"{p.get('title', 'Error')} ({self.status}): {first.get('pointer') or '/'}: {first.get('detail')}{more}"
            )
        return f"{p.get('title', 'Error')} ({self.status}): {p.get('detail', '')}"


#: what a request that may not have reached the server, or whose answer was lost, can meet
LOST = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.TimeoutException)


class Client:
    """``signing_key``: the party's Ed25519 private key; every write is then signed (required once the
    party has registered its public key).

    A request that gets no answer (the link dropped, the server restarted) is sent again after each of
    ``retry_waits`` seconds. A POST or PATCH carries an ``Idempotency-Key``, the same on each try, so a
    write whose answer was lost is not done twice: the server answers as it did the first time.
    ``on_retry(error, wait)`` is told before each wait."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        retry_waits: tuple[float, ...] = (0.5, 1.0, 2.0),
        on_retry: Callable[[httpx.TransportError, float], None] | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self._key = signing_key
        self._waits = retry_waits
        self._on_retry = on_retry
        #: the audit receipt of the last write ("seq=N; hash=H"), if the server gave one
        self.last_receipt: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, raw: bool = False, **kw: Any) -> Any:
        """Send a request; the JSON answer (``raw``: the bytes), or ApiError with the problem."""
        if method.upper() in ("POST", "PATCH"):
            kw["headers"] = {"Idempotency-Key": str(uuid.uuid4()), **kw.get("headers", {})}
        for wait in (*self._waits, None):
            try:
                r = self._http.send(self._request(method, path, kw))
                break
            except LOST as e:
                if wait is None:
                    raise
                if self._on_retry is not None:
                    self._on_retry(e, wait)
                time.sleep(wait)
        self.last_receipt = r.headers.get("truceline-receipt") or self.last_receipt
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"title": r.reason_phrase, "detail": r.text[:200]}
            raise ApiError(r.status_code, body if isinstance(body, dict) else {"detail": str(body)})
        if raw:
            return r.content
        return r.json() if r.content else None

    def _request(self, method: str, path: str, kw: dict[str, Any]) -> httpx.Request:
        """The request, signed afresh (a new time and nonce) on each try."""
        req = self._http.build_request(method, path, **kw)
        if self._key is not None and method.upper() != "GET":
            body = kw.get("json")
            kind = kw.get("headers", {}).get("Content-Type", "")
            if "content" in kw and ("csv" in kind or "xml" in kind):  # a CSV file, a CAP alert: by digest
                body = {"sha256": hashlib.sha256(kw["content"]).hexdigest()}
            elif "content" in kw:  # NDJSON is signed as the array of its lines
                body = [json.loads(line) for line in kw["content"].splitlines() if line.strip()]
            at = format_time(datetime.now(UTC).replace(microsecond=0)) or ""
            signed = new_request_signature(self._key, method, req.url.path, body, at)
            req.headers["Truceline-Signature"] = signed.header()
        return req

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")  # type: ignore[no-any-return]

    def me(self) -> dict[str, Any]:
        return self._call("GET", "/v1/me")  # type: ignore[no-any-return]

    def parties(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/parties")  # type: ignore[no-any-return]

    def every(self, path: str, page: int = 1000, **params: Any) -> list[dict[str, Any]]:
        """Every item of a listing, page after page until a short one: a party with more conflicts
        than a page holds still sees them all. An item that moves between pages is kept once."""
        seen: dict[Any, dict[str, Any]] = {}
        offset = 0
        while True:
            batch = self._call("GET", path, params={**_params(params), "limit": page, "offset": offset})
            for item in batch:
                seen.setdefault(item.get("id", len(seen)), item)
            if len(batch) < page:
                return list(seen.values())
            offset += page

    def zones(self, **params: Any) -> list[dict[str, Any]]:
        return self.every("/v1/zones", **params)

    def zone(self, zone_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/zones/{zone_id}")  # type: ignore[no-any-return]

    def create_zone(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/zones", json=body)  # type: ignore[no-any-return]

    def update_zone(self, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/v1/zones/{zone_id}", json=body)  # type: ignore[no-any-return]

    def notify(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/activities", json=body)  # type: ignore[no-any-return]

    def check(self, body: dict[str, Any]) -> dict[str, Any]:
        """A plan checked against the zones; nothing is stored."""
        return self._call("POST", "/v1/activities/check", json=body)  # type: ignore[no-any-return]

    def activities(self, **params: Any) -> list[dict[str, Any]]:
        return self.every("/v1/activities", **params)

    def activity(self, activity_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/activities/{activity_id}")  # type: ignore[no-any-return]

    def update_activity(self, activity_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/v1/activities/{activity_id}", json=body)  # type: ignore[no-any-return]

    def conflict(self, conflict_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/conflicts/{conflict_id}")  # type: ignore[no-any-return]

    def conflict_messages(self, conflict_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/conflicts/{conflict_id}/messages")  # type: ignore[no-any-return]

    def agree_to_conflict(self, conflict_id: str, statement: str) -> dict[str, Any]:
        body = {"statement": statement}
        return self._call("POST", f"/v1/conflicts/{conflict_id}/agreement", json=body)  # type: ignore[no-any-return]

    def withdraw_agreement(self, conflict_id: str, statement: str = "") -> dict[str, Any]:
        path = f"/v1/conflicts/{conflict_id}/agreement/withdraw"
        return self._call("POST", path, json={"statement": statement})  # type: ignore[no-any-return]

    def cancel(self, activity_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/activities/{activity_id}/cancel")  # type: ignore[no-any-return]

    def conflicts(self, **params: Any) -> list[dict[str, Any]]:
        return self.every("/v1/conflicts", **params)

    def update_zone_status(self, zone_id: str, status: str, rationale: str = "") -> dict[str, Any]:
        body = {"status": status} | ({"rationale": rationale} if rationale else {})
        return self._call("PATCH", f"/v1/zones/{zone_id}", json=body)  # type: ignore[no-any-return]

    def sign_zone(self, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/v1/zones/{zone_id}/signoffs", json=body)  # type: ignore[no-any-return]

    def object_to_zone(self, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/v1/zones/{zone_id}/objections", json=body)  # type: ignore[no-any-return]

    def tokens(self, party: str = "me") -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/parties/{party}/tokens")  # type: ignore[no-any-return]

    def issue_token(self, label: str, expires_at: str | None = None, party: str = "me") -> dict[str, Any]:
        body = {"label": label} | ({"expires_at": expires_at} if expires_at else {})
        return self._call("POST", f"/v1/parties/{party}/tokens", json=body)  # type: ignore[no-any-return]

    def revoke_token(self, token_id: str, party: str = "me") -> dict[str, Any]:
        return self._call("POST", f"/v1/parties/{party}/tokens/{token_id}/revoke")  # type: ignore[no-any-return]

    def awaiting_signature(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/zones/awaiting")  # type: ignore[no-any-return]

    def add_document(self, zone_id: str, title: str, body: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/zones/{zone_id}/documents", json={"title": title, "body": body})  # type: ignore[no-any-return]

    def revise_document(self, zone_id: str, document_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/v1/zones/{zone_id}/documents/{document_id}", json=change)  # type: ignore[no-any-return]

    def sign_document(self, zone_id: str, document_id: str, body: dict[str, Any], *, objection: bool = False
                      ) -> dict[str, Any]:  # fmt: skip
        what = "objections" if objection else "signoffs"
        return self._call("POST", f"/v1/zones/{zone_id}/documents/{document_id}/{what}", json=body)  # type: ignore[no-any-return]

    def negotiation(self, zone_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/zones/{zone_id}/negotiation")  # type: ignore[no-any-return]

    def diff(self, zone_id: str, a: int, b: int) -> dict[str, Any]:
        return self._call("GET", f"/v1/zones/{zone_id}/revisions/{a}/diff/{b}")  # type: ignore[no-any-return]

    def request_responsibility(self, zone_id: str, party: str, role: str) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "POST", f"/v1/zones/{zone_id}/responsibilities", json={"party": party, "role": role}
        )

    def answer_responsibility(self, zone_id: str, rid: str, accept: bool, statement: str) -> dict[str, Any]:
        verb = "accept" if accept else "decline"
        return self._call(  # type: ignore[no-any-return]
            "POST", f"/v1/zones/{zone_id}/responsibilities/{rid}/{verb}", json={"statement": statement}
        )

    def register_key(self, public_key: str) -> dict[str, Any]:
        return self._call("PUT", "/v1/me/key", json={"public_key": public_key})  # type: ignore[no-any-return]

    def audit_head(self) -> dict[str, Any]:
        return self._call("GET", "/v1/audit/head")  # type: ignore[no-any-return]

    def audit_chain(self, first: int, last: int) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/audit/chain", params={"from": first, "to": last})  # type: ignore[no-any-return]

    def audit_entries(
        self, after: int = 0, limit: int = 500, *, before: int | None = None, **chosen: str | None
    ) -> list[dict[str, Any]]:
        """``chosen``: ``party_id``, ``entity_id``, ``action``, ``token_id`` (None: any)."""
        params: dict[str, Any] = {"after": after, "limit": limit, **{k: v for k, v in chosen.items() if v is not None}}
        if before is not None:
            params["before"] = before
        return self._call("GET", "/v1/audit", params=params)  # type: ignore[no-any-return]

    # ---- the hotline ------------------------------------------------------------------------------
    def open_thread(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/threads", json=body)  # type: ignore[no-any-return]

    def threads(self) -> list[dict[str, Any]]:
        return self.every("/v1/threads", page=500)

    def thread(self, thread_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/threads/{thread_id}")  # type: ignore[no-any-return]

    def send(self, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/v1/threads/{thread_id}/messages", json=body)  # type: ignore[no-any-return]

    def send_cap(self, thread_id: str, xml: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/cap+xml"}
        return self._call("POST", f"/v1/threads/{thread_id}/cap", content=xml, headers=headers)  # type: ignore[no-any-return]

    def message(self, message_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/messages/{message_id}")  # type: ignore[no-any-return]

    def ack(self, message_id: str, note: str = "") -> dict[str, Any]:
        return self._call("POST", f"/v1/messages/{message_id}/ack", json={"note": note})  # type: ignore[no-any-return]

    def inbox(self, state: str = "unacknowledged") -> list[dict[str, Any]]:
        return self.every("/v1/inbox", state=state)

    def inbox_summary(self) -> dict[str, Any]:
        return self._call("GET", "/v1/inbox/summary")  # type: ignore[no-any-return]

    def events(self, after: int | None = None) -> Iterator[dict[str, Any]]:
        """The live feed (Server-Sent Events), as dicts {id, type, data}; resumes after ``after``
        (default: from now). Reconnects with Last-Event-ID if the connection drops."""
        last = after
        while True:
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            try:
                with self._http.stream("GET", "/v1/events", headers=headers, timeout=httpx.Timeout(30, read=60)) as r:
                    if r.status_code >= 400:
                        r.read()
                        raise ApiError(r.status_code, r.json())
                    for ev in _sse_events(r.iter_lines()):
                        last = ev["id"]
                        yield ev
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout):
                continue  # dropped: resume where we were

    # ---- live tracks ------------------------------------------------------------------------------
    def report_tracks(self, ndjson: bytes) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "POST", "/v1/tracks", content=ndjson, headers={"Content-Type": "application/x-ndjson"}
        )

    def tracks(self) -> dict[str, Any]:
        return self._call("GET", "/v1/tracks")  # type: ignore[no-any-return]

    def alerts(self) -> dict[str, Any]:
        return self._call("GET", "/v1/alerts")  # type: ignore[no-any-return]

    # ---- webhooks and escalation contacts ---------------------------------------------------------
    def add_webhook(self, url: str, event_types: list[str], format: str = "json") -> dict[str, Any]:
        body = {"url": url, "event_types": event_types, "format": format}
        return self._call("POST", "/v1/webhooks", json=body)  # type: ignore[no-any-return]

    def webhooks(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/webhooks")  # type: ignore[no-any-return]

    def remove_webhook(self, hook_id: str) -> None:
        self._call("DELETE", f"/v1/webhooks/{hook_id}")

    def deliveries(self, hook_id: str, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        return self._call("GET", f"/v1/webhooks/{hook_id}/deliveries", params=params)  # type: ignore[no-any-return]

    def replay(self, hook_id: str, delivery_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/webhooks/{hook_id}/deliveries/{delivery_id}/replay")  # type: ignore[no-any-return]

    def escalation_contacts(self, party_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/parties/{party_id}/escalation-contacts")  # type: ignore[no-any-return]

    def set_escalation_contacts(self, party_id: str, contacts: list[str]) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "PUT", f"/v1/parties/{party_id}/escalation-contacts", json={"contacts": contacts}
        )

    # ---- ceasefire monitoring ---------------------------------------------------------------------
    def report_incident(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/incidents", json=body)  # type: ignore[no-any-return]

    def incidents(self, **params: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/incidents", params=_params(params))  # type: ignore[no-any-return]

    def incident(self, incident_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/incidents/{incident_id}")  # type: ignore[no-any-return]

    def add_evidence(self, incident_id: str, description: str, mime_type: str, content: bytes) -> dict[str, Any]:
        body = {"resourceDesc": description, "mimeType": mime_type, "derefUri": base64.b64encode(content).decode()}
        return self._call("POST", f"/v1/incidents/{incident_id}/evidence", json=body)  # type: ignore[no-any-return]

    def evidence_content(self, uri: str) -> bytes:
        return self._call("GET", uri, raw=True)  # type: ignore[no-any-return]

    def incident_step(self, incident_id: str, step: str, statement: str = "") -> dict[str, Any]:
        body = {"step": step, "statement": statement}
        return self._call("POST", f"/v1/incidents/{incident_id}/steps", json=body)  # type: ignore[no-any-return]

    def duplicates(self, incident_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/v1/incidents/{incident_id}/duplicates")  # type: ignore[no-any-return]

    def merge(self, incident_id: str, duplicates: list[str], statement: str = "") -> dict[str, Any]:
        body = {"duplicates": duplicates, "statement": statement}
        return self._call("POST", f"/v1/incidents/{incident_id}/merge", json=body)  # type: ignore[no-any-return]

    def unmerge(self, incident_id: str, duplicate: str, statement: str = "") -> dict[str, Any]:
        body = {"duplicate": duplicate, "statement": statement}
        return self._call("POST", f"/v1/incidents/{incident_id}/unmerge", json=body)  # type: ignore[no-any-return]

    def import_incidents(self, csv_bytes: bytes, fmt: str) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "POST", "/v1/incidents/import", params={"format": fmt}, content=csv_bytes,
            headers={"Content-Type": "text/csv; charset=utf-8"},
        )  # fmt: skip

    def export_incidents(self, fmt: str = "csv", **params: Any) -> Iterator[bytes]:
        return self.download("/v1/incidents/export", format=fmt, **params)

    def download(self, path: str, **params: Any) -> Iterator[bytes]:
        """A file the server streams (an export), in chunks as they arrive."""
        with self._http.stream("GET", path, params=_params(params)) as r:
            if r.status_code >= 400:
                r.read()
                raise ApiError(r.status_code, r.json())
            yield from r.iter_bytes()

    def ceasefire(self, zone_id: str, fmt: str = "json", **params: Any) -> Any:
        return self._call("GET", f"/v1/zones/{zone_id}/ceasefire", params={"format": fmt, **_params(params)},
                          raw=fmt != "json")  # fmt: skip

    def sitrep(self, day: str, fmt: str = "html", zone: str | None = None) -> bytes:
        params = {"date": day, "format": fmt, **({"zone": zone} if zone else {})}
        return self._call("GET", "/v1/sitrep", params=params, raw=True)  # type: ignore[no-any-return]


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones (``from_`` is sent as ``from``)."""
    # a flag goes as the API spells it (true/false), not as Python does
    return {k.rstrip("_"): (str(v).lower() if isinstance(v, bool) else v) for k, v in params.items() if v is not None}


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse a Server-Sent Events stream into {id, type, data} (comments and retry lines skipped)."""
    ev: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in ev:
                yield {"id": int(ev.get("id", 0)), "type": ev.get("event", "message"), "data": json.loads(ev["data"])}
            ev = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            ev[key] = value[1:] if value.startswith(" ") else value
