"""The memory backend's own errors (pure)."""

from __future__ import annotations

from ..exceptions import ConflictError, ValidationError

__all__ = ["MemoryValidationError", "MemoryConflictError"]


class MemoryValidationError(ValidationError):
    """A memory entry or query was refused before anything was sent (names the entry and cause).

    A :class:`~redis_toolkit.exceptions.ValidationError` (and so a ``ValueError``).
    """


class MemoryConflictError(ConflictError):
    """An optimistic update lost: the entry changed (or vanished) since it was read.

    A :class:`~redis_toolkit.exceptions.ConflictError`. ``expected`` is the version the caller
    held, ``actual`` the stored one (``None``: gone or unknown), ``attempts`` how many writes
    were tried. Read the entry again and re-apply the change.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        expected: int | None = None,
        actual: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, key=key, attempts=attempts)
        self.expected = expected
        self.actual = actual
