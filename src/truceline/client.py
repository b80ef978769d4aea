"""A small HTTP client for Truceline's API (used by the CLI and by scripts)."""

from __future__ import annotations

from typing import Any

import httpx


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


class Client:
    def __init__(
        self, url: str, token: str | None = None, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {"title": r.reason_phrase, "detail": r.text[:200]}
            raise ApiError(r.status_code, body if isinstance(body, dict) else {"detail": str(body)})
        return r.json() if r.content else None

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")  # type: ignore[no-any-return]

    def me(self) -> dict[str, Any]:
        return self._call("GET", "/v1/me")  # type: ignore[no-any-return]

    def parties(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/parties")  # type: ignore[no-any-return]

    def zones(self, **params: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/zones", params={k: v for k, v in params.items() if v is not None})  # type: ignore[no-any-return]

    def zone(self, zone_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/zones/{zone_id}")  # type: ignore[no-any-return]

    def create_zone(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/zones", json=body)  # type: ignore[no-any-return]

    def update_zone(self, zone_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", f"/v1/zones/{zone_id}", json=body)  # type: ignore[no-any-return]

    def notify(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/activities", json=body)  # type: ignore[no-any-return]

    def activities(self, **params: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/activities", params={k: v for k, v in params.items() if v is not None})  # type: ignore[no-any-return]

    def cancel(self, activity_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/activities/{activity_id}/cancel")  # type: ignore[no-any-return]

    def conflicts(self, **params: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/conflicts", params={k: v for k, v in params.items() if v is not None})  # type: ignore[no-any-return]
