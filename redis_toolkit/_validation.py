"""Pure input checks shared by both APIs: keys, TTLs, sizes. Nothing here does I/O.

Every check runs before anything is sent, and its error names the key and the limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from .exceptions import ValidationError
from .options import RedisOptions

T = TypeVar("T")


def check_key(name: Any, opts: RedisOptions, *, writing: bool = True) -> None:
    """Refuse a key that is not ``str`` or ``bytes``, a ``str`` that cannot be encoded (a lone
    surrogate such as ``"user:\\ud800"``), or (for writes) one longer than ``max_key_length``.
    Reads accept any length: other clients may have written the key."""
    if not isinstance(name, (str, bytes)):
        raise ValidationError(f"key must be str or bytes, got {type(name).__name__}: {name!r}")
    if isinstance(name, str) and not name.isascii():  # ASCII always encodes: the cheap path
        check_encodable(name, "key")
    if writing and opts.enable_validation and len(name) > opts.max_key_length:
        raise ValidationError(
            f"key {name[:40]!r}... is {len(name)} characters, over max_key_length="
            f"{opts.max_key_length}; nothing was written",
            key=name if isinstance(name, str) else name.decode("utf-8", "replace"),
        )


def check_encodable(name: str, what: str) -> None:
    """Refuse a ``str`` that cannot be sent to Redis as UTF-8 (a lone surrogate, which
    ``json.loads('"\\\\ud800"')`` yields from request data), naming it, before anything is sent.

    ``what`` is ``"key"`` or ``"channel"``; the error carries the name in that attribute.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValidationError(
            f"{what} {name!r} cannot be encoded as UTF-8 ({e.reason} at position {e.start}); "
            "nothing was sent. Decode request data strictly, or pass the name as bytes.",
            **{what: name},
        ) from None


def check_value_size(name: str, data: bytes, opts: RedisOptions) -> None:
    """Refuse a serialized value larger than ``max_value_size``."""
    if opts.enable_validation and len(data) > opts.max_value_size:
        raise ValidationError(
            f"value for key {name!r} is {len(data)} bytes serialized, over max_value_size="
            f"{opts.max_value_size}; nothing was written",
            key=name,
        )


def check_batch_size(total: int, count: int, opts: RedisOptions) -> None:
    """Refuse a batch whose serialized values add up to more than the batch limit."""
    if opts.enable_validation and total > opts.batch_limit:
        raise ValidationError(
            f"batch of {count} keys is {total} bytes serialized, over the batch limit of "
            f"{opts.batch_limit} bytes (max_batch_size, by default max_value_size * 10); nothing "
            "was written. Split it into smaller batches."
        )


def ttl_seconds(ttl: float | timedelta, key: str) -> float:
    """A TTL as positive seconds (``timedelta`` accepted)."""
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not seconds > 0
        or not math.isfinite(seconds)
    ):
        raise ValidationError(
            f"ttl for key {key!r} must be a positive, finite number of seconds, got {ttl!r}",
            key=key,
        )
    return float(seconds)


def ttl_args(ttl: float | timedelta | None, key: str) -> dict[str, int]:
    """SET arguments for a TTL: whole seconds as ``ex``, anything finer as ``px``."""
    if ttl is None:
        return {}
    seconds = ttl_seconds(ttl, key)
    if seconds.is_integer():
        return {"ex": int(seconds)}
    return {"px": max(1, round(seconds * 1000))}


def ttl_millis(ttl: float | timedelta, key: str) -> int:
    """A TTL in whole milliseconds (at least 1)."""
    return max(1, round(ttl_seconds(ttl, key) * 1000))


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_key_list(names: Iterable[Any], what: str) -> list[Any]:
    """Materialize ``names``, refusing a lone string (a common slip: batch_get("key"))."""
    if isinstance(names, (str, bytes, bytearray)):
        raise ValidationError(f"{what} takes a list of keys, got a single {type(names).__name__}")
    return list(names)
