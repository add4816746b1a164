"""The memory backend's own errors (pure)."""

from __future__ import annotations

from ..exceptions import RedisToolkitError, ValidationError

__all__ = ["MemoryValidationError", "MemoryConflictError"]


class MemoryValidationError(ValidationError):
    """A memory entry or query was refused before anything was sent (names the entry and cause).

    A :class:`~redis_toolkit.exceptions.ValidationError` (and so a ``ValueError``).
    """


class MemoryConflictError(RedisToolkitError):
    """An optimistic update lost: the entry changed (or vanished) since it was read.

    ``expected`` is the version the caller held, ``actual`` the stored one (``None``: gone).
    Read the entry again and re-apply the change.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        expected: int | None = None,
        actual: int | None = None,
    ) -> None:
        super().__init__(message, key=key)
        self.expected = expected
        self.actual = actual
