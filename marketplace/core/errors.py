"""Domain errors raised by services and selectors; the API and pages turn them into 4xx responses."""

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """A request that cannot be carried out as asked. Maps to HTTP 400."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[str] | str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code
        self.fields = {
            name: [str(m) for m in ([msgs] if isinstance(msgs, str) else msgs)] for name, msgs in (fields or {}).items()
        }


class ValidationFailed(DomainError):
    default_code = "invalid"


class PermissionDenied(DomainError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(DomainError):
    """Also used when the object exists but belongs to an organisation the viewer cannot see."""

    status_code = 404
    default_code = "not_found"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class InvalidTransition(Conflict):
    default_code = "invalid_transition"
