"""The memory model: entries, their types, queries and results (pure: no I/O).

Times are POSIX seconds (``time.time()``) as floats. An embedding is any sequence of numbers or
a 1-d numpy array; it is stored as raw float32 and read back as a float32 numpy array.
"""

from __future__ import annotations

import functools
import math
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

import numpy as np

from .errors import MemoryValidationError

__all__ = [
    "MemoryType",
    "MemoryEntry",
    "MemoryQuery",
    "MemoryResult",
    "as_vector",
    "validate_entry",
    "check_vectors",
    "validate_query",
    "validate_namespace",
    "validate_id",
]

#: Ids and namespaces: printable, no braces (the namespace is the key's cluster hash tag).
_NAME_RE = re.compile(r"^[^\s{}]{1,256}$")


class MemoryType(str, Enum):
    """What kind of memory an entry is; each type has its own default TTL (see MemorySettings)."""

    SHORT_TERM = "short_term"
    LONG_TERM = "long_term"
    EPISODIC = "episodic"
    SEMANTIC = "semantic"
    WORKING = "working"


#: Small stable codes for the client-side filter arrays.
TYPE_CODES: dict[MemoryType, int] = {t: i for i, t in enumerate(MemoryType)}


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class MemoryEntry:
    """One memory: text plus type, importance (0..1), optional embedding, metadata and tags.

    ``id`` defaults to a random hex id; ``created_at``/``updated_at`` to now. ``expires_at``
    (POSIX seconds) is set by the backend from the TTL of the memory type unless given.
    ``version`` is the stored version (0 for an entry never stored); ``update`` checks it.
    """

    id: str = field(default_factory=_new_id)
    content: str = ""
    memory_type: MemoryType = MemoryType.LONG_TERM
    importance: float = 0.5
    embedding: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    namespace: str = "default"
    created_at: float = field(default_factory=time.time)
    updated_at: float | None = None
    expires_at: float | None = None
    version: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.memory_type, str) and not isinstance(self.memory_type, MemoryType):
            try:
                self.memory_type = MemoryType(self.memory_type.lower())
            except ValueError:
                raise MemoryValidationError(
                    f"memory {self.id!r}: unknown memory_type {self.memory_type!r}; use one of "
                    + ", ".join(t.value for t in MemoryType),
                    key=str(self.id),
                ) from None
        if isinstance(self.tags, str):
            self.tags = (self.tags,)
        else:
            self.tags = tuple(self.tags)
        if self.updated_at is None:
            self.updated_at = self.created_at

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MemoryEntry):
            return NotImplemented
        names = [f.name for f in fields(self) if f.name != "embedding"]
        if any(getattr(self, n) != getattr(other, n) for n in names):
            return False
        a, b = self.embedding, other.embedding
        if a is None or b is None:
            return a is b
        return bool(
            np.array_equal(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like a plain dataclass

    def __repr__(self) -> str:
        emb = "None" if self.embedding is None else f"<{len(self.embedding)} floats>"
        return (
            f"MemoryEntry(id={self.id!r}, content={self.content!r}, "
            f"memory_type={self.memory_type.value}, importance={self.importance}, "
            f"embedding={emb}, metadata={self.metadata!r}, tags={self.tags!r}, "
            f"namespace={self.namespace!r}, version={self.version})"
        )


def validate_id(value: Any, what: str = "id") -> str:
    """``value`` as a memory id, or :class:`MemoryValidationError` saying why not."""
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise MemoryValidationError(
            f"memory {what} {value!r} must be a string of 1-256 characters without whitespace "
            "or braces"
        )
    return value


def validate_namespace(value: Any) -> str:
    """``value`` as a namespace name (it becomes a cluster hash tag: no braces)."""
    return validate_id(value, "namespace")


def as_vector(
    values: Any, *, dim: int | None, what: str, key: str | None = None, check_values: bool = True
) -> np.ndarray:
    """``values`` as a 1-d float32 array of ``dim`` finite numbers, or a clear error.

    ``check_values=False`` leaves the finiteness check to the caller (a batch checks all its
    vectors in one pass, see :func:`check_vectors`).
    """
    try:
        vec = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise MemoryValidationError(f"{what}: not a sequence of numbers ({e})", key=key) from e
    if vec.ndim != 1 or vec.size == 0:
        raise MemoryValidationError(
            f"{what}: must be a non-empty 1-d vector, got shape {vec.shape}", key=key
        )
    if dim is not None and vec.shape[0] != dim:
        raise MemoryValidationError(
            f"{what}: dimension {vec.shape[0]} does not match the namespace's {dim}", key=key
        )
    if check_values and not np.isfinite(vec).all():
        raise MemoryValidationError(f"{what}: contains NaN or infinity", key=key)
    return vec


def check_vectors(
    entries: Sequence[MemoryEntry], vectors: Sequence[np.ndarray | None], *, nonzero: bool
) -> None:
    """Check many entries' vectors at once: finite (and not all zero when ``nonzero``)."""
    present = [(e, v) for e, v in zip(entries, vectors) if v is not None]
    if not present:
        return
    mat = np.stack([v for _, v in present])
    bad = ~np.isfinite(mat).all(axis=1)
    if nonzero:
        bad |= ~mat.any(axis=1)
    if not bad.any():
        return
    entry, vec = present[int(np.flatnonzero(bad)[0])]
    if not np.isfinite(vec).all():
        raise MemoryValidationError(
            f"memory {entry.id!r} embedding: contains NaN or infinity", key=entry.id
        )
    raise MemoryValidationError(
        f"memory {entry.id!r}: a zero embedding has no cosine similarity", key=entry.id
    )


def validate_entry(entry: Any, dim: int | None, *, check_values: bool = True) -> np.ndarray | None:
    """Check one entry before it is written; return its embedding as float32 (or None).

    ``check_values=False``: the embedding's values are checked by :func:`check_vectors`.
    """
    if not isinstance(entry, MemoryEntry):
        raise MemoryValidationError(f"expected a MemoryEntry, got {type(entry).__name__}")
    validate_id(entry.id)
    if isinstance(entry.namespace, str):
        _valid_namespace(entry.namespace)
    else:
        validate_namespace(entry.namespace)  # raises

    def fail(cause: str) -> MemoryValidationError:
        return MemoryValidationError(f"memory {entry.id!r}: {cause}", key=entry.id)

    content = entry.content
    if not isinstance(content, str) or not content or content.isspace():
        raise fail("content must be a non-empty string")
    if not isinstance(entry.memory_type, MemoryType):
        raise fail(f"memory_type must be a MemoryType, got {entry.memory_type!r}")
    imp = entry.importance
    if isinstance(imp, bool) or not isinstance(imp, (int, float)) or not 0.0 <= imp <= 1.0:
        raise fail(f"importance must be a number in 0..1, got {imp!r}")
    if not isinstance(entry.metadata, Mapping):
        raise fail("metadata must be a dict")
    for tag in entry.tags:
        if not isinstance(tag, str) or not tag or "\x1f" in tag:
            raise fail(f"tag {tag!r} must be a non-empty string")
    for attr in ("created_at", "updated_at", "expires_at"):
        value = getattr(entry, attr)
        if value is None and attr == "expires_at":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value
        ):
            raise fail(f"{attr} must be POSIX seconds, got {value!r}")
    emb = entry.embedding
    if emb is None:
        return None
    if (
        not check_values
        and type(emb) is np.ndarray
        and emb.dtype == np.float32
        and emb.ndim == 1
        and emb.shape[0] > 0
        and (dim is None or emb.shape[0] == dim)
    ):
        return emb  # already a float32 vector of the right size; values checked in bulk
    return as_vector(
        emb, dim=dim, what=f"memory {entry.id!r} embedding", key=entry.id, check_values=check_values
    )


@functools.lru_cache(maxsize=1024)
def _valid_namespace(value: str) -> str:
    return validate_namespace(value)


@dataclass
class MemoryQuery:
    """What to look for: a vector and/or filters, how many, and how to weigh the score.

    Filters are exact: ``memory_types``, ``min_importance``, ``tags`` (an entry must carry every
    one), ``created_after``/``created_before`` (POSIX seconds), ``text`` (case-insensitive
    substring of the content). ``score = similarity_weight * similarity + importance_weight *
    importance + recency_weight * recency`` (see docs/MEMORY_BACKEND.md); results under
    ``min_score`` are dropped. Results carry their embedding only with ``with_embeddings=True``.
    """

    embedding: Any = None
    text: str | None = None
    memory_types: Sequence[MemoryType | str] | None = None
    min_importance: float | None = None
    tags: Sequence[str] | None = None
    namespace: str = "default"
    created_after: float | None = None
    created_before: float | None = None
    limit: int = 10
    min_score: float | None = None
    similarity_weight: float = 1.0
    importance_weight: float = 0.0
    recency_weight: float = 0.0
    #: Seconds after which the recency part of a memory has halved.
    recency_half_life: float = 86400.0
    #: Read the results' embeddings too (1.5 KB each at 384-d); by default ``embedding`` is
    #: None on query results (``get`` always returns it).
    with_embeddings: bool = False


def validate_query(query: Any, dim: int | None) -> np.ndarray | None:
    """Check a query; return its embedding as float32 (or None)."""
    if not isinstance(query, MemoryQuery):
        raise MemoryValidationError(f"expected a MemoryQuery, got {type(query).__name__}")
    validate_namespace(query.namespace)
    if isinstance(query.limit, bool) or not isinstance(query.limit, int) or query.limit < 1:
        raise MemoryValidationError(f"query limit must be an int >= 1, got {query.limit!r}")
    for attr in ("similarity_weight", "importance_weight", "recency_weight"):
        value = getattr(query, attr)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise MemoryValidationError(f"query {attr} must be a finite number >= 0, got {value!r}")
    if not (isinstance(query.recency_half_life, (int, float)) and query.recency_half_life > 0):
        raise MemoryValidationError(
            f"query recency_half_life must be > 0 seconds, got {query.recency_half_life!r}"
        )
    if query.min_importance is not None and not 0.0 <= query.min_importance <= 1.0:
        raise MemoryValidationError(
            f"query min_importance must be in 0..1, got {query.min_importance!r}"
        )
    if query.memory_types is not None:
        if isinstance(query.memory_types, (str, MemoryType)):
            query.memory_types = [query.memory_types]
        try:
            query.memory_types = [MemoryType(t) for t in query.memory_types]
        except ValueError as e:
            raise MemoryValidationError(f"query memory_types: {e}") from e
    if isinstance(query.tags, str):
        query.tags = [query.tags]
    if query.embedding is None:
        return None
    return as_vector(query.embedding, dim=dim, what="query embedding")


@dataclass
class MemoryResult:
    """A found memory: the entry's fields readable directly (``result.content``) plus its score.

    ``score`` is the weighted sum of ``similarity`` (None without a query vector),
    ``importance`` and ``recency`` (0..1, halving every ``recency_half_life``).
    """

    entry: MemoryEntry
    score: float
    similarity: float | None = None
    recency: float = 0.0

    @property
    def id(self) -> str:
        """The entry's id."""
        return self.entry.id

    @property
    def content(self) -> str:
        """The entry's text."""
        return self.entry.content

    @property
    def memory_type(self) -> MemoryType:
        """The entry's type."""
        return self.entry.memory_type

    @property
    def importance(self) -> float:
        """The entry's importance (0..1)."""
        return self.entry.importance

    @property
    def embedding(self) -> Any:
        """The entry's embedding (a float32 numpy array once read back) or None."""
        return self.entry.embedding

    @property
    def metadata(self) -> dict[str, Any]:
        """The entry's metadata."""
        return self.entry.metadata

    @property
    def tags(self) -> tuple[str, ...]:
        """The entry's tags."""
        return self.entry.tags

    @property
    def namespace(self) -> str:
        """The entry's namespace."""
        return self.entry.namespace

    @property
    def created_at(self) -> float:
        """When the entry was created (POSIX seconds)."""
        return self.entry.created_at

    @property
    def updated_at(self) -> float | None:
        """When the entry was last written (POSIX seconds)."""
        return self.entry.updated_at

    @property
    def expires_at(self) -> float | None:
        """When the entry expires (POSIX seconds), None if never."""
        return self.entry.expires_at

    @property
    def version(self) -> int:
        """The entry's stored version."""
        return self.entry.version
