"""Python values <-> bytes for Redis (pure: no I/O, no pickle, no asyncio).

Two formats, chosen when writing; reading detects the format by itself:

``"json"`` (the default; alias ``"legacy-json"``; :mod:`.legacy_json`)
    The format redis-toolkit 0.4 wrote, byte for byte, so that 0.4 readers keep working while
    a fleet upgrades. Lossy in the ways 0.4 was; types 0.4 could not store are refused with an
    error that names the type and points to ``"msgpack"``.

``"msgpack"`` (an explicit choice; :mod:`.msgpack_format`)
    ``MARKER`` (``b"\\xc1RT\\x01"``) followed by one msgpack object; exact types (tuples, sets,
    datetimes, Decimal, numpy arrays as raw buffers, registered codecs). Only 0.5 reads it.

Reading follows 0.4's rules for everything without the marker: ``b"__NONE__"`` is None, 0.4
wrappers are unwrapped, other JSON is parsed, other UTF-8 is returned as str, anything else as
bytes. The one deliberate difference: ints 0 and 1 stay ints (0.4 returned False/True).

Decoding is bounded (payload size, nesting depth, declared lengths, array sizes); every failure
is a :class:`~redis_toolkit.exceptions.SerializationError` with ``original_exception`` set.
See ``docs/SERIALIZATION.md`` for the byte layout of every type.

This module is the facade (:class:`Serializer` and the functions); the formats, the leaf types
and the codec registry live in the private modules beside it.
"""

from __future__ import annotations

# Callable, Iterable, islice, ExtType and Timestamp: names the single-module serialization.py
# exposed as a side effect of its imports, kept so that every name importable from
# redis_toolkit.serialization before the split still is.
from collections.abc import Callable, Iterable  # noqa: F401
from itertools import islice  # noqa: F401
from typing import Any, Final

import msgpack
from msgpack import ExtType, Timestamp  # noqa: F401

from ..exceptions import SerializationError, ValidationError
from ._common import (
    _MARKER_PREFIX,
    DEFAULT_FORMAT,
    DEFAULT_MAX_DECODE_SIZE,
    DEFAULT_MAX_DEPTH,
    EXT_BIGINT,
    EXT_BYTEARRAY,
    EXT_COMPLEX,
    EXT_DATE,
    EXT_DATETIME,
    EXT_DECIMAL,
    EXT_FROZENSET,
    EXT_NDARRAY,
    EXT_NUMPY_SCALAR,
    EXT_SET,
    EXT_TIME,
    EXT_TIMEDELTA,
    EXT_TUPLE,
    EXT_UUID,
    FORMAT_ALIASES,
    FORMAT_VERSION,
    FORMATS,
    LEGACY_NONE,
    MARKER,
    MAX_DEPTH_LIMIT,
    USER_TYPE_ID_MAX,
    USER_TYPE_ID_MIN,
    _Corrupt,
    _Refused,
    _TooDeep,
    _type_name,
)
from ._registry import register_codec, unregister_codec
from .legacy_json import LegacyJsonFormat
from .msgpack_format import MsgpackFormat

__all__ = [
    "DEFAULT_FORMAT",
    "DEFAULT_MAX_DECODE_SIZE",
    "DEFAULT_MAX_DEPTH",
    "EXT_BIGINT",
    "EXT_BYTEARRAY",
    "EXT_COMPLEX",
    "EXT_DATE",
    "EXT_DATETIME",
    "EXT_DECIMAL",
    "EXT_FROZENSET",
    "EXT_NDARRAY",
    "EXT_NUMPY_SCALAR",
    "EXT_SET",
    "EXT_TIME",
    "EXT_TIMEDELTA",
    "EXT_TUPLE",
    "EXT_UUID",
    "FORMATS",
    "FORMAT_ALIASES",
    "FORMAT_VERSION",
    "LEGACY_NONE",
    "MARKER",
    "MAX_DEPTH_LIMIT",
    "USER_TYPE_ID_MAX",
    "USER_TYPE_ID_MIN",
    "Serializer",
    "deserialize_value",
    "get_serializer",
    "register_codec",
    "serialize_value",
    "unregister_codec",
]


class Serializer:
    """Encodes values in one format and decodes values in any format, within limits.

    ``name`` is ``"json"`` (default: redis-toolkit 0.4's format, readable by 0.4 and 0.5;
    ``"legacy-json"`` is an alias) or ``"msgpack"`` (the typed format, read by 0.5 only).
    ``loads`` of either reads both formats and raw values from other clients.

    Limits: ``max_depth`` bounds nesting of containers when writing and reading (1..500);
    ``max_decode_size`` is the largest payload ``loads`` accepts, in bytes. Instances are
    immutable and thread-safe.
    """

    __slots__ = ("_name", "_max_depth", "_max_decode_size", "_msgpack", "_legacy", "_writer")

    def __init__(
        self,
        name: str = DEFAULT_FORMAT,
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_decode_size: int = DEFAULT_MAX_DECODE_SIZE,
    ) -> None:
        if name not in FORMATS:
            raise ValidationError(
                f"unknown serialization format {name!r}; valid names: {', '.join(FORMATS)}"
            )
        if type(max_depth) is not int or not 1 <= max_depth <= MAX_DEPTH_LIMIT:
            raise ValidationError(
                f"max_depth must be an int in 1..{MAX_DEPTH_LIMIT}, got {max_depth!r}"
            )
        if type(max_decode_size) is not int or max_decode_size < 1:
            raise ValidationError(
                f"max_decode_size must be a positive int (bytes), got {max_decode_size!r}"
            )
        self._name = FORMAT_ALIASES.get(name, name)
        self._max_depth = max_depth
        self._max_decode_size = max_decode_size
        self._msgpack = MsgpackFormat(max_depth)
        self._legacy = LegacyJsonFormat(max_depth, max_decode_size)
        self._writer: MsgpackFormat | LegacyJsonFormat = (
            self._legacy if self._name == "json" else self._msgpack
        )

    @property
    def name(self) -> str:
        """The format this serializer writes: ``"json"`` or ``"msgpack"`` (aliases resolved)."""
        return self._name

    @property
    def max_depth(self) -> int:
        """Largest number of containers nested inside each other, when writing and reading."""
        return self._max_depth

    @property
    def max_decode_size(self) -> int:
        """Largest payload, in bytes, that :meth:`loads` accepts."""
        return self._max_decode_size

    def __repr__(self) -> str:
        return (
            f"Serializer({self._name!r}, max_depth={self._max_depth}, "
            f"max_decode_size={self._max_decode_size})"
        )

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` to bytes in this serializer's format.

        Raises :class:`SerializationError` (naming the type and listing what is supported)
        for values the format cannot hold exactly, values nested deeper than ``max_depth``
        and self-referencing values.
        """
        try:
            return self._writer.dumps(value)
        except SerializationError:
            raise
        except _Refused as e:
            raise SerializationError(str(e), original_data=value, original_exception=e) from e
        except _TooDeep as e:
            raise SerializationError(
                f"cannot serialize {_type_name(type(value))}: value is {e}; flatten it or "
                "raise the limit with get_serializer(name, max_depth=N)",
                original_data=value,
                original_exception=e,
            ) from e
        except Exception as e:
            if isinstance(e, RecursionError) or (
                isinstance(e, ValueError) and "recursion limit" in str(e)
            ):
                reason = "value is nested too deeply or refers to itself"
            else:
                reason = f"{type(e).__name__}: {e}"
            raise SerializationError(
                f"cannot serialize {_type_name(type(value))}: {reason}",
                original_data=value,
                original_exception=e,
            ) from e

    def _dumps_all(self, values: list[Any]) -> list[bytes] | None:
        """Encode every value as :meth:`dumps` does, or None when one of them fails.

        For batches: one loop without :meth:`dumps`'s per-call error translation. On None the
        caller encodes the values one at a time, which raises for the first bad one by name.
        """
        try:
            if self._writer is self._legacy:
                return self._legacy.dumps_many(values)
            dumps = self._msgpack.dumps
            return [dumps(value) for value in values]
        except Exception:
            return None

    def _loads_all(self, items: list[Any]) -> list[Any]:
        """Decode every item as :meth:`loads` does (``None`` stays ``None``), for batches.

        Most items are 0.4 JSON wrappers, which the 0.4 format decodes in one loop; every other
        item takes :meth:`loads`, which raises the same :class:`SerializationError` it raises
        for that item alone.
        """
        if self._writer is self._legacy:
            return self._legacy.loads_many(items, self.loads, self._max_decode_size)
        # A msgpack writer's batch: mostly msgpack payloads, read without loads's dispatch.
        packed = self._msgpack.loads
        limit = self._max_decode_size
        loads = self.loads
        out: list[Any] = []
        append = out.append
        for data in items:
            if type(data) is bytes and data.startswith(MARKER) and len(data) <= limit:
                try:
                    append(packed(data))
                    continue
                except Exception:
                    pass  # loads below raises the error this item raises alone
            append(loads(data))
        return out

    def loads(self, data: Any) -> Any:
        """Decode a stored value, whichever format wrote it.

        ``data`` is bytes, bytearray or memoryview. Payloads starting with ``MARKER`` are the
        msgpack format; anything else is read by 0.4's rules (``b"__NONE__"``, 0.4 JSON
        wrappers, other JSON, UTF-8 text, raw bytes). As in 0.4, str, int, float and None
        are returned unchanged (but 0 and 1 stay ints). Raises :class:`SerializationError`
        for corrupt, oversized or too deeply nested payloads.
        """
        t = type(data)
        if t is bytes or t is bytearray:
            buf = data
            n = len(buf)
        elif t is memoryview:
            n = data.nbytes  # checked against the limit before copying
            buf = data.tobytes() if n <= self._max_decode_size else b""
        elif data is None or isinstance(data, (str, int, float)):
            return data
        else:
            raise SerializationError(
                f"cannot decode a {_type_name(t)}: expected bytes, bytearray or memoryview",
                original_data=data,
                original_exception=TypeError(f"unsupported input type {_type_name(t)}"),
            )
        if n > self._max_decode_size:
            raise SerializationError(
                f"refusing to decode {n} bytes: larger than max_decode_size="
                f"{self._max_decode_size} (raise it with get_serializer(max_decode_size=...))",
                original_data=None,
                original_exception=_Corrupt(f"payload of {n} bytes"),
            )
        if buf.startswith(MARKER):
            what = "msgpack"
        elif buf.startswith(_MARKER_PREFIX):
            if n > len(_MARKER_PREFIX):
                reason = (
                    f"toolkit format version {buf[3]} is not supported by this version (it "
                    f"reads version {FORMAT_VERSION}); upgrade redis_toolkit"
                )
            else:
                reason = "truncated toolkit format marker"
            raise SerializationError(
                f"cannot decode: {reason}",
                original_data=data,
                original_exception=_Corrupt(reason),
            )
        else:
            what = "legacy"
        try:
            if what == "msgpack":
                return self._msgpack.loads(buf)
            return self._legacy.loads(buf)
        except SerializationError:
            raise
        except Exception as e:
            if isinstance(e, (_TooDeep, RecursionError, msgpack.StackError)):
                reason = f"nested deeper than max_depth={self._max_depth}"
            else:
                reason = f"{type(e).__name__}: {e}"
            fmt = "toolkit msgpack v1" if what == "msgpack" else "0.4 JSON"
            raise SerializationError(
                f"cannot decode stored value ({fmt}, {n} bytes): {reason}",
                original_data=data,
                original_exception=e,
            ) from e


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------

_DEFAULT_SERIALIZERS: Final = {name: Serializer(name) for name in FORMATS}


def get_serializer(
    name: str = DEFAULT_FORMAT,
    *,
    max_depth: int | None = None,
    max_decode_size: int | None = None,
) -> Serializer:
    """Return a :class:`Serializer` writing ``name``: ``"json"`` (the default) or ``"msgpack"``.

    Without limits this returns a shared instance; with ``max_depth`` or ``max_decode_size``
    it builds one with those limits. Raises :class:`ValidationError` for an unknown name
    (listing the valid ones) or invalid limits.
    """
    if max_depth is None and max_decode_size is None:
        serializer = _DEFAULT_SERIALIZERS.get(name) if isinstance(name, str) else None
        if serializer is not None:
            return serializer
    return Serializer(
        name,
        max_depth=DEFAULT_MAX_DEPTH if max_depth is None else max_depth,
        max_decode_size=DEFAULT_MAX_DECODE_SIZE if max_decode_size is None else max_decode_size,
    )


def serialize_value(value: Any, *, format: str = DEFAULT_FORMAT) -> bytes:
    """Encode ``value`` for Redis: 0.4's JSON format by default, ``format="msgpack"`` for exact.

    Raises :class:`SerializationError` for unsupported types (the message names the type and
    lists what is supported) and :class:`ValidationError` for an unknown format.
    """
    return get_serializer(format).dumps(value)


def deserialize_value(data: Any) -> Any:
    """Decode bytes read from Redis, detecting the format (msgpack marker, else 0.4 rules).

    Accepts bytes, bytearray and memoryview; str, int, float and None are returned unchanged
    as 0.4 did (ints 0 and 1 are no longer turned into bools). Raises
    :class:`SerializationError` for corrupt or oversized payloads.
    """
    return _DEFAULT_SERIALIZERS[DEFAULT_FORMAT].loads(data)
