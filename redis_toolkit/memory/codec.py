"""Key layout and the stored form of an entry (pure).

Every key of a namespace carries the namespace as its hash tag, so a namespace lives in one
cluster slot and its writes are single-slot MULTI/EXEC transactions::

    <prefix>:{<ns>}:e:<id>     hash: one entry (fields below)
    <prefix>:{<ns>}:ids        sorted set: id -> expires_at in ms (+inf: never)
    <prefix>:{<ns>}:ver        string: the namespace version, +1 per changed entry
    <prefix>:{<ns>}:seq        string: write counter; its values are the entries' versions
    <prefix>:{<ns>}:log        stream: change log (n = entries changed, ids = \\x1f-joined ids)
    <prefix>:{<ns>}:dedup      hash: sha256(content) -> id (with deduplicate=True)
    <prefix>:{<ns>}:meta       hash: dim = embedding size of the namespace
    <prefix>:{<ns>}:lock:<id>  the lock of one entry

An entry's hash has explicit fields; the embedding is raw little-endian float32 bytes and the
metadata UTF-8 JSON, so the format does not depend on the toolkit's value serializer.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import MemoryValidationError
from .models import MemoryEntry, MemoryType

__all__ = [
    "KeyLayout",
    "encode_entry",
    "decode_entry",
    "INDEX_FIELDS",
    "RESULT_FIELDS",
    "content_hash",
    "SEP",
]

SEP = "\x1f"  # joins tags and ids: not allowed in either
_F32 = np.dtype("<f4")

#: Fields of a query result without its embedding (HMGET); ``content`` first (None: gone).
RESULT_FIELDS = (
    "content", "type", "importance", "metadata", "tags", "created_at", "updated_at",
    "expires_at", "version",
)  # fmt: skip

#: Fields a client-side index needs, in this order (HMGET).
INDEX_FIELDS = ("embedding", "type", "importance", "created_at", "expires_at", "tags", "content")


@dataclass(frozen=True)
class KeyLayout:
    """The keys of one namespace under one prefix."""

    prefix: str
    namespace: str

    @property
    def base(self) -> str:
        """``<prefix>:{<namespace>}``: the hash-tagged root of every key of the namespace."""
        return f"{self.prefix}:{{{self.namespace}}}"

    def entry(self, memory_id: str) -> str:
        """The hash of one entry."""
        return f"{self.base}:e:{memory_id}"

    def lock(self, memory_id: str) -> str:
        """The lock key of one entry."""
        return f"{self.base}:lock:{memory_id}"

    @property
    def ids(self) -> str:
        """The sorted set of ids by expiry (ms)."""
        return f"{self.base}:ids"

    @property
    def seq(self) -> str:
        """The namespace's write counter, whose values are the entries' versions."""
        return f"{self.base}:seq"

    @property
    def version(self) -> str:
        """The namespace's version counter."""
        return f"{self.base}:ver"

    @property
    def log(self) -> str:
        """The namespace's change-log stream."""
        return f"{self.base}:log"

    @property
    def dedup(self) -> str:
        """content hash -> id."""
        return f"{self.base}:dedup"

    @property
    def meta(self) -> str:
        """Namespace facts (the embedding dimension)."""
        return f"{self.base}:meta"


def content_hash(content: str) -> str:
    """The de-duplication key of a content string."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def expiry_score(expires_at: float | None) -> float:
    """The index score of an expiry: ms since the epoch, +inf for never."""
    return math.inf if expires_at is None else expires_at * 1000.0


def encode_entry(entry: MemoryEntry, vector: np.ndarray | None) -> dict[str, bytes | str]:
    """The hash fields of ``entry`` (the writer adds ``version``, a stamp of the write counter)."""
    if not entry.metadata:
        metadata = "{}"
    else:
        metadata = _dump_metadata(entry)
    fields: dict[str, bytes | str] = {
        "content": entry.content,
        "type": entry.memory_type.value,
        "importance": repr(float(entry.importance)),
        "metadata": metadata,
        "tags": SEP.join(entry.tags),
        "created_at": repr(float(entry.created_at)),
        "updated_at": repr(float(entry.updated_at or entry.created_at)),
        "expires_at": "" if entry.expires_at is None else repr(float(entry.expires_at)),
        "embedding": b"" if vector is None else vector.astype(_F32, copy=False).tobytes(),
    }
    return fields


def _dump_metadata(entry: MemoryEntry) -> str:
    try:
        return json.dumps(
            entry.metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as e:
        raise MemoryValidationError(
            f"memory {entry.id!r}: metadata must be JSON-serializable ({e})", key=entry.id
        ) from e


def _s(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def decode_vector(raw: Any) -> np.ndarray | None:
    """A stored embedding as float32 (None when absent)."""
    if not raw:
        return None
    return np.frombuffer(raw, dtype=_F32)


def decode_entry(memory_id: str, namespace: str, fields: dict[Any, Any]) -> MemoryEntry:
    """An entry from its hash fields (names as str or bytes, values as bytes)."""
    f = {_s(k): v for k, v in fields.items()}
    vec = decode_vector(f.get("embedding"))
    expires = _s(f.get("expires_at", b""))
    tags = _s(f.get("tags", b""))
    return MemoryEntry(
        id=memory_id,
        content=_s(f["content"]),
        memory_type=MemoryType(_s(f["type"])),
        importance=float(f["importance"]),
        embedding=None if vec is None else vec.copy(),  # writable, not tied to the reply
        metadata=json.loads(f.get("metadata") or b"{}"),
        tags=tuple(tags.split(SEP)) if tags else (),
        namespace=namespace,
        created_at=float(f["created_at"]),
        updated_at=float(f.get("updated_at") or f["created_at"]),
        expires_at=float(expires) if expires else None,
        version=int(f.get("version", 0)),
    )
