"""Redis Cluster key slots and hash tags, computed locally (pure: no I/O).

A cluster splits the key space into 16384 slots: ``slot = CRC16(key) mod 16384``, where CRC16 is
the XMODEM variant (polynomial 0x1021, initial value 0) named in the Redis Cluster
specification. When a key holds a *hash tag* — the text between the first ``{`` and the first
``}`` after it, if that text is not empty — only the tag is hashed, so ``{user:1}:profile`` and
``{user:1}:cart`` share a slot and can be used together in MGET, MULTI/EXEC or a Lua script.

These helpers work without a cluster (they are just the formula), so code can plan its keys
before it is deployed on one. Errors are :class:`~redis_toolkit.exceptions.ValidationError` or
:class:`~redis_toolkit.exceptions.CrossSlotError`, raised before anything is sent.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from typing import Any

from .exceptions import CrossSlotError, ValidationError

__all__ = [
    "SLOT_COUNT",
    "crc16",
    "keyslot",
    "hash_tag_of",
    "hash_tag",
    "same_slot",
    "group_by_slot",
    "require_same_slot",
    "ScanResult",
]

#: Number of hash slots in a Redis Cluster.
SLOT_COUNT = 16384


def crc16(data: bytes) -> int:
    """CRC16/XMODEM of ``data`` (poly 0x1021, init 0), as Redis Cluster computes it.

    The specification's check value: ``crc16(b"123456789") == 0x31C3``. Computed by the
    standard library's ``binascii.crc_hqx`` (this very CRC, in C: hashing 1,000 keys in pure
    Python would cost milliseconds per batch).
    """
    return binascii.crc_hqx(data, 0)


def _as_bytes(key: Any) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    raise ValidationError(f"key must be str or bytes, got {type(key).__name__}: {key!r}")


def _tag_bytes(raw: bytes) -> bytes | None:
    start = raw.find(b"{")
    if start < 0:
        return None
    end = raw.find(b"}", start + 1)
    if end <= start + 1:  # no closing brace, or an empty tag "{}": the whole key is hashed
        return None
    return raw[start + 1 : end]


def hash_tag_of(key: str | bytes) -> str | bytes | None:
    """The hash tag of ``key`` (what decides its slot), or None when the whole key is hashed.

    ``hash_tag_of("{user:1}:cart") == "user:1"``; ``hash_tag_of("a{}b")`` is None (an empty tag
    does not count, per the specification).
    """
    tag = _tag_bytes(_as_bytes(key))
    if tag is None:
        return None
    return tag if isinstance(key, bytes) else tag.decode("utf-8", "surrogateescape")


def keyslot(key: str | bytes) -> int:
    """The cluster slot (0-16383) of ``key``; ``str`` keys are hashed as UTF-8, like redis-py."""
    raw = _as_bytes(key)
    tag = _tag_bytes(raw)
    return crc16(raw if tag is None else tag) % SLOT_COUNT


def hash_tag(key: str, tag: str) -> str:
    """``key`` prefixed with the hash tag ``{tag}:``, so that its slot is the slot of ``tag``.

    ``hash_tag("cart", "user:123") == "{user:123}:cart"``: every key built with the same tag
    lands in one slot (on one node), where multi-key commands and transactions work. The tag
    must be a non-empty string without braces.
    """
    if not isinstance(key, str) or not isinstance(tag, str):
        raise ValidationError(
            f"hash_tag takes a str key and a str tag, got {type(key).__name__} and "
            f"{type(tag).__name__}"
        )
    if not tag or "{" in tag or "}" in tag:
        raise ValidationError(
            f"hash tag {tag!r} for key {key!r} must be non-empty and contain no braces",
            key=key,
        )
    return f"{{{tag}}}:{key}"


def group_by_slot(keys: Iterable[str | bytes]) -> dict[int, list[Any]]:
    """``keys`` grouped by slot, each group in the order given (slots in order of first use)."""
    groups: dict[int, list[Any]] = {}
    crc = binascii.crc_hqx
    for key in keys:
        # keyslot() inlined: batches hash every key, so this loop is on their hot path.
        raw = key.encode("utf-8") if type(key) is str else _as_bytes(key)
        start = raw.find(b"{")
        if start >= 0:
            end = raw.find(b"}", start + 1)
            if end > start + 1:
                raw = raw[start + 1 : end]
        slot = crc(raw, 0) % SLOT_COUNT
        group = groups.get(slot)
        if group is None:
            groups[slot] = [key]
        else:
            group.append(key)
    return groups


def same_slot(keys: Iterable[str | bytes]) -> bool:
    """True when every key maps to one slot (no keys, or one key, is trivially True)."""
    return len(group_by_slot(keys)) <= 1


def require_same_slot(keys: Iterable[str | bytes], operation: str) -> int | None:
    """The one slot of ``keys``; raise :class:`CrossSlotError` when they span several.

    The error names the operation, two keys in different slots and the fix (a common hash tag).
    Returns None for an empty list.
    """
    groups = group_by_slot(keys)
    if len(groups) <= 1:
        return next(iter(groups), None)
    (slot_a, keys_a), (slot_b, keys_b) = list(groups.items())[:2]
    total = sum(map(len, groups.values()))
    raise CrossSlotError(
        f"{operation} is atomic only within one cluster slot, but its {total} keys span "
        f"{len(groups)} slots (e.g. {keys_a[0]!r} in slot {slot_a}, {keys_b[0]!r} in "
        f"slot {slot_b}); nothing was sent. Give the keys a common hash tag, e.g. "
        f"hash_tag(key, 'user:1') -> '{{user:1}}:key', or use the non-atomic batch calls.",
        key=keys_a[0] if isinstance(keys_a[0], str) else keys_a[0].decode("utf-8", "replace"),
        slots=sorted(groups),
    )


class ScanResult(list):  # type: ignore[type-arg]
    """The keys :meth:`~redis_toolkit.cluster_utils.ClusterOperations.scan_cluster` found.

    A ``list`` of keys (``str``; ``bytes`` for a key that is not UTF-8), each once, plus what
    says whether the list is known to be whole: ``complete`` is False when the scan of some node
    failed (``failed_nodes`` maps ``"host:port"`` to the error); keys of that node may then be
    missing. ``nodes`` lists the nodes scanned.
    """

    def __init__(
        self,
        keys: Iterable[Any] = (),
        *,
        nodes: list[str] | None = None,
        failed_nodes: dict[str, str] | None = None,
    ) -> None:
        super().__init__(keys)
        self.nodes = nodes or []
        self.failed_nodes = failed_nodes or {}

    @property
    def complete(self) -> bool:
        """True when every node's scan ran to its end (no key of the pattern was missed)."""
        return not self.failed_nodes

    def __repr__(self) -> str:
        state = "complete" if self.complete else f"INCOMPLETE, failed: {self.failed_nodes}"
        return f"ScanResult({list.__repr__(self)}, {state})"
