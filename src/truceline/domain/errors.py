"""The one error hierarchy. Each error carries a stable code, an HTTP status and a user-safe message.

The API maps these to RFC 9457 problem+json in one place (``api/problems.py``); the CLI prints
them as one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One reason an input was refused; ``pointer`` is an RFC 6901 JSON pointer into the request body."""

    pointer: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.reason}


@dataclass
class TrucelineError(Exception):
    detail: str
    code: str = "error"
    status: int = 500
    title: str = "Internal error"
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.errors:
            first = self.errors[0]
            where = first.pointer or "/"
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"{self.title}: {where}: {first.reason}{more}"
        return f"{self.title}: {self.detail}"


class InvalidInput(TrucelineError):
    """A request body or argument that does not describe a valid thing (422)."""

    def __init__(
        self, detail: str, *, errors: list[FieldError] | None = None, extra: dict[str, object] | None = None
    ) -> None:
        super().__init__(
            detail=detail,
            code="invalid_input",
            status=422,
            title="Invalid input",
            errors=list(errors or []),
            extra=dict(extra or {}),
        )

    @classmethod
    def at(cls, pointer: str, reason: str) -> InvalidInput:
        return cls(reason, errors=[FieldError(pointer, reason)])


class MalformedRequest(TrucelineError):
    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(
            detail=detail, code="malformed_request", status=400, title="Malformed request", errors=list(errors or [])
        )


class NotAuthenticated(TrucelineError):
    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail=detail, code="not_authenticated", status=401, title="Not authenticated")


class Forbidden(TrucelineError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="forbidden", status=403, title="Forbidden")


class NotFound(TrucelineError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="not_found", status=404, title="Not found")


class StateConflict(TrucelineError):
    """The request is valid but the target's current state does not allow it (409)."""

    def __init__(self, detail: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(
            detail=detail,
            code="state_conflict",
            status=409,
            title="Conflict with current state",
            extra=dict(extra or {}),
        )


class PayloadTooLarge(TrucelineError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="payload_too_large", status=413, title="Payload too large")


__all__ = [
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "MalformedRequest",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "StateConflict",
    "TrucelineError",
]
