"""Constants, internal errors and checks shared by both wire formats (pure: no I/O)."""

from __future__ import annotations

import datetime as _dt
import re
import struct
from typing import Any, Final

import numpy as np
from msgpack import ExtType, Timestamp

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

#: Version of the msgpack layout written after the 0xC1 'R' 'T' prefix.
FORMAT_VERSION: Final = 1
#: Prefix of every value written in the msgpack format.
MARKER: Final = b"\xc1RT" + bytes([FORMAT_VERSION])
_MARKER_PREFIX: Final = b"\xc1RT"
#: How 0.4 stored None (and how the legacy writer still does).
LEGACY_NONE: Final = b"__NONE__"
#: Names accepted by :func:`get_serializer`, ``serialize_value(format=...)`` and
#: ``RedisOptions(serializer=...)``: ``"json"`` (the default: redis-toolkit 0.4's format),
#: ``"msgpack"`` (the typed format) and ``"legacy-json"`` (0.5.0's name of ``"json"``).
FORMATS: Final = ("json", "msgpack", "legacy-json")
#: The default writer: 0.4's format, which every reader (0.4 and 0.5) understands.
DEFAULT_FORMAT: Final = "json"
#: Other spellings of a format name, and the name they stand for.
FORMAT_ALIASES: Final = {"legacy-json": "json"}

#: Default nesting limit: containers (list, tuple, dict, set, frozenset) inside each other.
DEFAULT_MAX_DEPTH: Final = 64
#: Highest ``max_depth`` accepted (msgpack's own packer stops at 511 levels).
MAX_DEPTH_LIMIT: Final = 500
#: Default largest payload ``loads`` accepts, in bytes.
DEFAULT_MAX_DECODE_SIZE: Final = 64 * 1024 * 1024

# Built-in extension type ids (0..63 are reserved for the toolkit).
EXT_BIGINT: Final = 1  # int outside [-2**63, 2**64): signed big-endian two's complement
EXT_TUPLE: Final = 2  # tag: [tag, *items]
EXT_SET: Final = 3  # tag: [tag, *items]
EXT_FROZENSET: Final = 4  # tag: [tag, *items]
EXT_BYTEARRAY: Final = 5  # raw bytes
EXT_DATETIME: Final = 6  # msgpack [y, mo, d, h, mi, s, us, fold, tz]
EXT_DATE: Final = 7  # msgpack [y, mo, d]
EXT_TIME: Final = 8  # msgpack [h, mi, s, us, fold, tz]
EXT_TIMEDELTA: Final = 9  # msgpack [days, seconds, microseconds]
EXT_DECIMAL: Final = 10  # ASCII str(Decimal)
EXT_UUID: Final = 11  # 16 bytes
EXT_COMPLEX: Final = 12  # struct "<dd"
EXT_NDARRAY: Final = 13  # u16 header length, msgpack [dtype.str, shape, order], raw buffer
EXT_NUMPY_SCALAR: Final = 14  # msgpack [dtype.char, dtype.str, raw]
#: Extension type ids available to :func:`register_codec`.
USER_TYPE_ID_MIN: Final = 64
USER_TYPE_ID_MAX: Final = 127

_BUILTIN_EXT_NAMES: Final = {
    EXT_BIGINT: "int (beyond 64 bits)",
    EXT_TUPLE: "tuple",
    EXT_SET: "set",
    EXT_FROZENSET: "frozenset",
    EXT_BYTEARRAY: "bytearray",
    EXT_DATETIME: "datetime.datetime",
    EXT_DATE: "datetime.date",
    EXT_TIME: "datetime.time",
    EXT_TIMEDELTA: "datetime.timedelta",
    EXT_DECIMAL: "decimal.Decimal",
    EXT_UUID: "uuid.UUID",
    EXT_COMPLEX: "complex",
    EXT_NDARRAY: "numpy.ndarray",
    EXT_NUMPY_SCALAR: "numpy scalar",
}

_INT64_MIN: Final = -(2**63)
_UINT64_MAX: Final = 2**64 - 1
_CONTAINERS: Final = frozenset({list, dict, tuple, set, frozenset})
# Types the post-pack scan looks for: containers to descend into, bytearray (msgpack packs it
# as plain bin, so it needs rewriting) and objects msgpack would pack although we refuse them.
_REFUSED_PACKABLE: Final = frozenset({memoryview, ExtType, Timestamp})
_SCAN_TYPES: Final = _CONTAINERS | {bytearray} | _REFUSED_PACKABLE
# Every msgpack container header is one of these bytes, so their count in a payload is an upper
# bound of its nesting depth (data bytes can only raise the count).
_CONTAINER_HEADER_BYTES: Final = bytes([*range(0x80, 0xA0), 0xDC, 0xDD, 0xDE, 0xDF])
# Up to this size a payload's depth bound is computed from its bytes (about 1 ns a byte);
# larger payloads are checked by walking the value (cost proportional to its objects).
_BYTE_BOUND_LIMIT: Final = 4096

# Decoding bounds in memory and time (docs/SERIALIZATION.md, "Decoding bounds").
#: Containers (lists, maps, tuples, sets) one payload may decode into: one per this many bytes...
CONTAINER_BYTES: Final = 3
#: ...plus this many, so small payloads are never refused.
CONTAINER_ALLOWANCE: Final = 4096
#: Keys of one map (or items of one set) that may share a hash value with another of them
#: (duplicates included). Python does not randomize the hash of ints, Decimal, UUID, complex,
#: tuples or frozensets, so crafted keys could otherwise make building a dict quadratic.
MAX_HASH_COLLISIONS: Final = 64
_US: Final = _dt.timedelta(microseconds=1)

# numpy dtype kinds accepted in arrays: bool, ints, floats, complex, datetime64, timedelta64,
# fixed-width str and bytes. Object, void/structured and zero-width dtypes are refused.
_ARRAY_KINDS: Final = frozenset("biufcMmUS")
_DTYPE_RE: Final = re.compile(r"[<>|=]?[biufcMmUS][0-9]{1,10}(\[[0-9]{0,6}[A-Za-z]{1,2}\])?")
_SCALAR_CHARS: Final = frozenset("?bBhHiIlLqQefdgFDGMmUS")
_ZONE_KEY_RE: Final = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")
_NDARRAY_HEADER: Final = struct.Struct(">H")
_COMPLEX: Final = struct.Struct("<dd")

# 0.4 format: what its JSON could hold.
_LEGACY_LEAVES: Final = frozenset({type(None), bool, int, float, str, bytes, bytearray})
_LEGACY_CONTAINERS: Final = frozenset({list, tuple, dict})
_LEGACY_KEYS: Final = frozenset({str, int, float, bool, type(None)})
_LEGACY_ARRAY_KINDS_WRITE: Final = frozenset("biufUMm")
_LEGACY_ARRAY_KINDS_READ: Final = frozenset("biufcUMm")
# What str(dtype) looks like for those ("float32", "<U2", "datetime64[ns]", ">i4"); anything else
# (e.g. "f4,f4" or "(2,)f8", which numpy would parse with literal_eval) is refused unparsed.
_LEGACY_DTYPE_RE: Final = re.compile(
    r"[<>|=]?[A-Za-z]{1,16}[0-9]{0,10}(\[[0-9]{0,6}[A-Za-z]{1,2}\])?"
)

_SUPPORTED_TEXT: Final = (
    "None, bool, int (any size), float, complex, str, bytes, bytearray, list, tuple, dict, set, "
    "frozenset, datetime.datetime/date/time/timedelta (tzinfo: datetime.timezone or "
    "zoneinfo.ZoneInfo), decimal.Decimal, uuid.UUID, numpy.ndarray (bool, int, uint, float, "
    "complex, datetime64, timedelta64, str and bytes dtypes) and numpy scalars of those dtypes"
)
_LEGACY_SUPPORTED_TEXT: Final = (
    "None, bool, int, float, str, bytes, bytearray, and list/tuple/dict of those (dict keys: "
    "str, int, float, bool or None), plus numpy.ndarray at the top level (bool, int, uint, float, "
    "str, datetime64[ns]/timedelta64[ns] dtypes)"
)


class _Refused(TypeError):
    """Internal: a value of an unsupported type (message ready for the user)."""


class _TooDeep(ValueError):
    """Internal: nesting beyond ``max_depth``."""


class _Corrupt(ValueError):
    """Internal: bytes that are not a valid payload."""


def _type_name(t: type) -> str:
    module = getattr(t, "__module__", "")
    qualname = getattr(t, "__qualname__", t.__name__)
    return qualname if module in ("builtins", "") else f"{module}.{qualname}"


def _check_dtype(dt: np.dtype[Any], kinds: frozenset[str], what: str) -> None:
    if (
        dt.kind not in kinds
        or dt.hasobject
        or dt.fields is not None
        or dt.subdtype is not None
        or dt.itemsize == 0
    ):
        raise _Refused(
            f"cannot serialize {what} with dtype {dt!s}: supported dtypes are bool, int, uint, "
            "float, complex, datetime64, timedelta64 and non-empty fixed-width str/bytes "
            "(object, structured and void dtypes are refused)"
        )


def _check_shape(shape: Any, what: str) -> int:
    """Check a declared array shape (a list of at most 64 non-negative ints); return its size.

    Both formats store a shape beside the array data; callers compare the returned element
    count with the bytes actually present before allocating anything.
    """
    if type(shape) is not list or len(shape) > 64:
        raise _Corrupt(f"invalid {what} shape")
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise _Corrupt(f"invalid {what} shape")
        count *= dim
    return count


def _container_header_count(buf: bytes | bytearray) -> int:
    """Upper bound of the msgpack containers in ``buf`` (data bytes can only raise it)."""
    return len(buf) - len(buf.translate(None, _CONTAINER_HEADER_BYTES))


def _container_budget(size: int) -> int:
    """Most containers a payload of ``size`` bytes may decode into."""
    return size // CONTAINER_BYTES + CONTAINER_ALLOWANCE


def _check_collisions(keys: Any, count: int, what: str) -> None:
    """Refuse ``count`` keys of which more than MAX_HASH_COLLISIONS share a hash with another.

    Linear: the hashes themselves are ints below 2**64, whose own hashes collide at most a
    handful of times each, so this set is built in linear time whatever the keys are.
    """
    if count > MAX_HASH_COLLISIONS:
        distinct = len(set(map(hash, keys)))
        if count - distinct > MAX_HASH_COLLISIONS:
            raise _Corrupt(
                f"{what} of {count} items has {count - distinct} whose hash equals another's "
                f"(more than {MAX_HASH_COLLISIONS}: a hash-flooding payload, refused so that "
                "decoding stays linear)"
            )
