"""Python values <-> bytes for Redis (pure: no I/O, no pickle, no asyncio).

Two formats, chosen when writing; reading detects the format by itself:

``"msgpack"`` (the default)
    ``MARKER`` (``b"\\xc1RT\\x01"``) followed by one msgpack object. Types msgpack lacks are
    extension types (ids 1-14, see ``EXT_*``); tuples, sets, frozensets and registered codecs
    are msgpack arrays whose first element is an empty extension "tag". 0xC1 is never used by
    msgpack and never starts valid UTF-8, so the marker cannot be confused with 0.4 JSON or with
    text written by other clients.

``"legacy-json"``
    The format redis-toolkit 0.4 wrote, byte for byte, for rolling upgrades where 0.4
    readers still run. Lossy in the ways 0.4 was (tuples nested in containers become lists,
    dict keys become strings); types 0.4 could not store are refused.

Reading follows 0.4's rules for everything without the marker: ``b"__NONE__"`` is None, 0.4
wrappers are unwrapped, other JSON is parsed, other UTF-8 is returned as str, anything else as
bytes. The one deliberate difference: ints 0 and 1 stay ints (0.4 returned False/True).

Decoding is bounded (payload size, nesting depth, declared lengths, array sizes); every failure
is a :class:`~redis_toolkit.exceptions.SerializationError` with ``original_exception`` set.
See ``docs/SERIALIZATION.md`` for the byte layout of every type.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
import re
import struct
import threading
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, Final

import msgpack
import numpy as np
from msgpack import ExtType, Timestamp

from .exceptions import SerializationError, ValidationError

__all__ = [
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
#: Names accepted by :func:`get_serializer` and ``serialize_value(format=...)``.
FORMATS: Final = ("msgpack", "legacy-json")

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


# --------------------------------------------------------------------------------------------
# Leaf extension types: encoders return ExtType, decoders take the ext payload (bytes)
# --------------------------------------------------------------------------------------------


def _packb_plain(value: Any) -> bytes:
    """Pack a value that needs no ``default`` hook (leaf payloads, the top-level bytearray)."""
    return msgpack.packb(  # type: ignore[no-any-return]
        value, use_bin_type=True, strict_types=True
    )


def _unpack_plain(data: bytes) -> Any:
    """Unpack the small msgpack document inside a leaf ext (no hooks, so no recursion)."""
    return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)


def _enc_bigint(n: int) -> ExtType:
    return ExtType(EXT_BIGINT, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))


def _dec_bigint(data: bytes) -> int:
    if not data:
        raise _Corrupt("empty big integer")
    return int.from_bytes(data, "big", signed=True)


def _dec_bytearray(data: bytes) -> bytearray:
    return bytearray(data)


def _tz_spec(tz: _dt.tzinfo | None) -> Any:
    if tz is None:
        return None
    t = type(tz)
    if t is _dt.timezone:
        offset = tz.utcoffset(None)
        assert offset is not None
        micros = offset // _US
        name = tz.tzname(None)
        if name == _dt.timezone(offset).tzname(None):
            return micros
        return [micros, name]
    if t is zoneinfo.ZoneInfo and tz.key is not None:  # type: ignore[attr-defined]
        return tz.key  # type: ignore[attr-defined]
    raise _Refused(
        f"cannot serialize a tzinfo of type {_type_name(t)}: only datetime.timezone and "
        "zoneinfo.ZoneInfo (created from a key) round-trip exactly. Convert the value, e.g. "
        "dt.astimezone(datetime.timezone.utc) or use zoneinfo.ZoneInfo(key)."
    )


def _tz_from_spec(spec: Any) -> _dt.tzinfo | None:
    if spec is None:
        return None
    t = type(spec)
    if t is int:
        return _dt.timezone(_dt.timedelta(microseconds=spec))
    if t is list and len(spec) == 2 and type(spec[0]) is int and type(spec[1]) is str:
        return _dt.timezone(_dt.timedelta(microseconds=spec[0]), spec[1])
    if t is str:
        if len(spec) > 255 or not _ZONE_KEY_RE.fullmatch(spec):
            raise _Corrupt(f"invalid time zone key {spec[:64]!r}")
        try:
            return zoneinfo.ZoneInfo(spec)
        except zoneinfo.ZoneInfoNotFoundError as e:
            raise _Corrupt(
                f"time zone {spec!r} is not known on this machine (install the tzdata package)"
            ) from e
    raise _Corrupt("invalid time zone")


def _fields(value: Any, count: int, what: str) -> list[Any]:
    """Check a leaf payload: a list of ``count`` items, all ints except a trailing tz spec."""
    if type(value) is not list or len(value) != count:
        raise _Corrupt(f"invalid {what} payload")
    ints = value[:-1] if what in ("datetime", "time") else value
    if not all(type(item) is int for item in ints):
        raise _Corrupt(f"invalid {what} payload")
    return value


def _enc_datetime(d: _dt.datetime) -> ExtType:
    fields = [d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, d.fold]
    fields.append(_tz_spec(d.tzinfo))
    return ExtType(EXT_DATETIME, _packb_plain(fields))


def _dec_datetime(data: bytes) -> _dt.datetime:
    f = _fields(_unpack_plain(data), 9, "datetime")
    return _dt.datetime(
        f[0], f[1], f[2], f[3], f[4], f[5], f[6], tzinfo=_tz_from_spec(f[8]), fold=f[7]
    )


def _enc_date(d: _dt.date) -> ExtType:
    return ExtType(EXT_DATE, _packb_plain([d.year, d.month, d.day]))


def _dec_date(data: bytes) -> _dt.date:
    f = _fields(_unpack_plain(data), 3, "date")
    return _dt.date(f[0], f[1], f[2])


def _enc_time(t: _dt.time) -> ExtType:
    fields = [t.hour, t.minute, t.second, t.microsecond, t.fold, _tz_spec(t.tzinfo)]
    return ExtType(EXT_TIME, _packb_plain(fields))


def _dec_time(data: bytes) -> _dt.time:
    f = _fields(_unpack_plain(data), 6, "time")
    return _dt.time(f[0], f[1], f[2], f[3], tzinfo=_tz_from_spec(f[5]), fold=f[4])


def _enc_timedelta(td: _dt.timedelta) -> ExtType:
    return ExtType(EXT_TIMEDELTA, _packb_plain([td.days, td.seconds, td.microseconds]))


def _dec_timedelta(data: bytes) -> _dt.timedelta:
    f = _fields(_unpack_plain(data), 3, "timedelta")
    return _dt.timedelta(days=f[0], seconds=f[1], microseconds=f[2])


def _enc_decimal(d: decimal.Decimal) -> ExtType:
    return ExtType(EXT_DECIMAL, str(d).encode("ascii"))


def _dec_decimal(data: bytes) -> decimal.Decimal:
    return decimal.Decimal(data.decode("ascii"))


def _enc_uuid(u: uuid.UUID) -> ExtType:
    return ExtType(EXT_UUID, u.bytes)


def _dec_uuid(data: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=data)


def _enc_complex(c: complex) -> ExtType:
    return ExtType(EXT_COMPLEX, _COMPLEX.pack(c.real, c.imag))


def _dec_complex(data: bytes) -> complex:
    if len(data) != _COMPLEX.size:
        raise _Corrupt("invalid complex payload")
    real, imag = _COMPLEX.unpack(data)
    return complex(real, imag)


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


def _parse_dtype(spec: Any) -> np.dtype[Any]:
    if type(spec) is not str or not _DTYPE_RE.fullmatch(spec):
        raise _Corrupt(f"invalid dtype {str(spec)[:40]!r}")
    dt = np.dtype(spec)
    try:
        _check_dtype(dt, _ARRAY_KINDS, "an array")
    except _Refused as e:
        raise _Corrupt(str(e)) from None
    return dt


def _enc_ndarray(a: np.ndarray[Any, Any]) -> ExtType:
    _check_dtype(a.dtype, _ARRAY_KINDS, "a numpy array")
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = a.copy(order="K")  # keeps the memory layout closest to the original (F stays F)
    if a.flags.c_contiguous:
        order, flat = 0, a.reshape(-1)
    else:
        order, flat = 1, a.T.reshape(-1)  # a.T of an F-contiguous array is C-contiguous
    header = _packb_plain([a.dtype.str, list(a.shape), order])
    raw = flat.view(np.uint8).data  # the array's own buffer: no copy before the join
    return ExtType(EXT_NDARRAY, b"".join((_NDARRAY_HEADER.pack(len(header)), header, raw)))


def _dec_ndarray(data: bytes) -> np.ndarray[Any, Any]:
    if len(data) < 2:
        raise _Corrupt("truncated array header")
    (hlen,) = _NDARRAY_HEADER.unpack_from(data)
    header = _unpack_plain(data[2 : 2 + hlen])
    if type(header) is not list or len(header) != 3:
        raise _Corrupt("invalid array header")
    spec, shape, order = header
    dt = _parse_dtype(spec)
    if type(shape) is not list or len(shape) > 64:
        raise _Corrupt("invalid array shape")
    count = 1
    for dim in shape:
        if type(dim) is not int or dim < 0:
            raise _Corrupt("invalid array shape")
        count *= dim
    raw_len = len(data) - 2 - hlen
    if count * dt.itemsize != raw_len:
        # Never allocate from the declared shape: it must match the bytes actually present.
        raise _Corrupt(
            f"array of shape {tuple(shape)[:8]} and dtype {dt!s} needs "
            f"{count * dt.itemsize} bytes, payload holds {raw_len}"
        )
    if order not in (0, 1) or type(order) is not int:
        raise _Corrupt("invalid array order")
    buf = bytearray(memoryview(data)[2 + hlen :])  # a fresh writable, aligned copy
    return np.frombuffer(buf, dtype=dt).reshape(shape, order="F" if order else "C")


def _enc_numpy_scalar(x: np.generic) -> ExtType:
    dt = x.dtype
    _check_dtype(dt, _ARRAY_KINDS, "a numpy scalar")
    return ExtType(EXT_NUMPY_SCALAR, _packb_plain([dt.char, dt.str, x.tobytes()]))


def _dec_numpy_scalar(data: bytes) -> np.generic:
    f = _unpack_plain(data)
    if type(f) is not list or len(f) != 3 or type(f[0]) is not str or type(f[2]) is not bytes:
        raise _Corrupt("invalid numpy scalar payload")
    char, spec, raw = f
    dt = _parse_dtype(spec)
    if char not in _SCALAR_CHARS or np.dtype(char).kind != dt.kind or len(raw) != dt.itemsize:
        raise _Corrupt("invalid numpy scalar payload")
    value = np.frombuffer(raw, dtype=dt)[0]
    scalar_type = np.dtype(char).type  # e.g. longlong and int64 share a dtype, not a type
    if type(value) is not scalar_type:
        value = scalar_type(value)
    return value  # type: ignore[no-any-return]


_LEAF_DECODERS: Final[dict[int, Callable[[bytes], Any]]] = {
    EXT_BIGINT: _dec_bigint,
    EXT_BYTEARRAY: _dec_bytearray,
    EXT_DATETIME: _dec_datetime,
    EXT_DATE: _dec_date,
    EXT_TIME: _dec_time,
    EXT_TIMEDELTA: _dec_timedelta,
    EXT_DECIMAL: _dec_decimal,
    EXT_UUID: _dec_uuid,
    EXT_COMPLEX: _dec_complex,
    EXT_NDARRAY: _dec_ndarray,
    EXT_NUMPY_SCALAR: _dec_numpy_scalar,
}

# --------------------------------------------------------------------------------------------
# Tags: containers msgpack lacks are arrays whose first element is an empty ext of the tag id
# (no nested packb/unpackb, so decoding never recurses through Python).
# --------------------------------------------------------------------------------------------


class _Tag:
    """Decoded form of an empty tag ext; ``build`` turns ``[tag, *items]`` into the value."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code

    def build(self, items: list[Any], max_depth: int) -> Any:
        raise NotImplementedError


class _TupleTag(_Tag):
    __slots__ = ()

    def build(self, items: list[Any], max_depth: int) -> Any:
        return tuple(islice(items, 1, None))


class _SetTag(_Tag):
    __slots__ = ()

    def build(self, items: list[Any], max_depth: int) -> Any:
        return set(islice(items, 1, None))


class _FrozensetTag(_Tag):
    __slots__ = ()

    def build(self, items: list[Any], max_depth: int) -> Any:
        return frozenset(islice(items, 1, None))


_TUPLE_TAG: Final = ExtType(EXT_TUPLE, b"")
_SET_TAG: Final = ExtType(EXT_SET, b"")
_FROZENSET_TAG: Final = ExtType(EXT_FROZENSET, b"")


def _enc_tuple(t: tuple[Any, ...]) -> list[Any]:
    return [_TUPLE_TAG, *t]


def _enc_set(s: set[Any]) -> list[Any]:
    return [_SET_TAG, *s]


def _enc_frozenset(s: frozenset[Any]) -> list[Any]:
    return [_FROZENSET_TAG, *s]


# --------------------------------------------------------------------------------------------
# Codec registry (module level; copy-on-write so readers never take the lock)
# --------------------------------------------------------------------------------------------


class _Codec(_Tag):
    __slots__ = ("cls", "encode", "decode", "tag")

    def __init__(
        self,
        cls: type,
        type_id: int,
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
    ) -> None:
        super().__init__(type_id)
        self.cls = cls
        self.encode = encode
        self.decode = decode
        self.tag = ExtType(type_id, b"")

    def build(self, items: list[Any], max_depth: int) -> Any:
        if len(items) != 2:
            raise _Corrupt(f"invalid payload for codec id {self.code}")
        value = items[1]
        if type(value) in _CONTAINERS:
            _scan(value, max_depth)
        try:
            return self.decode(value)
        except SerializationError:
            raise
        except Exception as e:
            raise SerializationError(
                f"codec for {_type_name(self.cls)} (type id {self.code}) failed to decode: {e!r}",
                original_data=value,
                original_exception=e,
            ) from e


_registry_lock = threading.Lock()
_codecs_by_id: dict[int, _Codec] = {}
_codecs_by_cls: dict[type, _Codec] = {}
_tags_by_code: dict[int, _Tag] = {
    EXT_TUPLE: _TupleTag(EXT_TUPLE),
    EXT_SET: _SetTag(EXT_SET),
    EXT_FROZENSET: _FrozensetTag(EXT_FROZENSET),
}

_ENCODERS: Final[dict[type, Callable[[Any], Any]]] = {
    int: _enc_bigint,  # only reached for ints msgpack cannot hold (it calls default for them)
    tuple: _enc_tuple,
    set: _enc_set,
    frozenset: _enc_frozenset,
    _dt.datetime: _enc_datetime,
    _dt.date: _enc_date,
    _dt.time: _enc_time,
    _dt.timedelta: _enc_timedelta,
    decimal.Decimal: _enc_decimal,
    uuid.UUID: _enc_uuid,
    complex: _enc_complex,
    np.ndarray: _enc_ndarray,
}
for _char in sorted(_SCALAR_CHARS):
    _ENCODERS.setdefault(np.dtype(_char).type, _enc_numpy_scalar)
del _char

# Types with a built-in encoding (natively packed or in _ENCODERS): no codec may claim them.
_BUILTIN_TYPES: Final = frozenset(
    {type(None), bool, float, str, bytes, bytearray, list, dict, *_ENCODERS, *_REFUSED_PACKABLE}
)


def register_codec(
    cls: type,
    type_id: int,
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
) -> None:
    """Teach the msgpack format a type of your own (a dataclass, an enum, a domain object).

    ``encode(obj)`` returns any supported value (containers, numpy arrays, other registered
    types...), which is packed recursively; ``decode(value)`` receives that value back and
    rebuilds the object. ``type_id`` is the extension id written to Redis, in
    ``USER_TYPE_ID_MIN..USER_TYPE_ID_MAX`` (64-127): keep it stable, readers need the same
    registration. Only instances of exactly ``cls`` use the codec (subclasses need their own).

    Raises :class:`ValidationError` if the id is outside the user range or already taken (by a
    built-in type or another codec), if ``cls`` is already registered or has a built-in
    encoding, or if ``encode``/``decode`` are not callable. Thread-safe.
    """
    if not isinstance(cls, type):
        raise ValidationError(f"register_codec: cls must be a class, got {cls!r}")
    if type(type_id) is not int:
        raise ValidationError(
            f"register_codec: type_id must be an int, got {type(type_id).__name__}"
        )
    if type_id in _BUILTIN_EXT_NAMES:
        raise ValidationError(
            f"register_codec: type id {type_id} for {_type_name(cls)} clashes with the built-in "
            f"type id of {_BUILTIN_EXT_NAMES[type_id]}; use an id in "
            f"{USER_TYPE_ID_MIN}..{USER_TYPE_ID_MAX}"
        )
    if not USER_TYPE_ID_MIN <= type_id <= USER_TYPE_ID_MAX:
        raise ValidationError(
            f"register_codec: type id {type_id} for {_type_name(cls)} is outside the user range "
            f"{USER_TYPE_ID_MIN}..{USER_TYPE_ID_MAX} (0..{USER_TYPE_ID_MIN - 1} are reserved for "
            "built-in types, negative ids for msgpack)"
        )
    if cls in _BUILTIN_TYPES:
        raise ValidationError(
            f"register_codec: {_type_name(cls)} already has a built-in encoding and cannot "
            "take a codec"
        )
    if not callable(encode) or not callable(decode):
        raise ValidationError("register_codec: encode and decode must be callables")
    global _codecs_by_id, _codecs_by_cls, _tags_by_code
    with _registry_lock:
        existing = _codecs_by_id.get(type_id)
        if existing is not None:
            raise ValidationError(
                f"register_codec: type id {type_id} for {_type_name(cls)} is already registered "
                f"for {_type_name(existing.cls)}; unregister_codec({type_id}) first or pick "
                "another id"
            )
        same_cls = _codecs_by_cls.get(cls)
        if same_cls is not None:
            raise ValidationError(
                f"register_codec: {_type_name(cls)} is already registered with type id "
                f"{same_cls.code}; cannot register it again as {type_id}"
            )
        codec = _Codec(cls, type_id, encode, decode)
        _codecs_by_id = {**_codecs_by_id, type_id: codec}
        _codecs_by_cls = {**_codecs_by_cls, cls: codec}
        _tags_by_code = {**_tags_by_code, type_id: codec}


def unregister_codec(type_id: int) -> None:
    """Remove the codec registered under ``type_id``.

    Values already stored with that id can no longer be read until it is registered again.
    Raises :class:`ValidationError` for a built-in id or an id with no codec. Thread-safe.
    """
    global _codecs_by_id, _codecs_by_cls, _tags_by_code
    if type_id in _BUILTIN_EXT_NAMES:
        raise ValidationError(
            f"unregister_codec: type id {type_id} is the built-in id of "
            f"{_BUILTIN_EXT_NAMES[type_id]} and cannot be unregistered"
        )
    with _registry_lock:
        codec = _codecs_by_id.get(type_id)
        if codec is None:
            known = sorted(_codecs_by_id) or "none"
            raise ValidationError(
                f"unregister_codec: no codec is registered with type id {type_id!r} "
                f"(registered ids: {known})"
            )
        _codecs_by_id = {k: v for k, v in _codecs_by_id.items() if k != type_id}
        _codecs_by_cls = {k: v for k, v in _codecs_by_cls.items() if v is not codec}
        _tags_by_code = {k: v for k, v in _tags_by_code.items() if k != type_id}


def _unsupported(value: Any, fmt: str) -> _Refused:
    t = type(value)
    name = _type_name(t)
    base = next((b for b in t.__mro__[1:] if b in _BUILTIN_TYPES and b is not object), None)
    hint = ""
    if base is not None:
        hint = (
            f" {name} is a subclass of {_type_name(base)}; subclasses are refused because "
            f"they would not come back as {name} (convert it first, e.g. "
            f"{_type_name(base)}(value)"
            + (")." if fmt == "legacy-json" else ", or register a codec for it).")
        )
    if fmt == "legacy-json":
        return _Refused(
            f"cannot serialize {name} in the 0.4 'legacy-json' format.{hint} That format "
            f"holds only {_LEGACY_SUPPORTED_TEXT}. Use the default 'msgpack' format for "
            "other types."
        )
    registered = ", ".join(
        f"{_type_name(c.cls)} (id {i})" for i, c in sorted(_codecs_by_id.items())
    )
    return _Refused(
        f"cannot serialize {name}: unsupported type.{hint} Supported types: {_SUPPORTED_TEXT}. "
        "Register your own types with redis_toolkit.serialization.register_codec(cls, "
        f"type_id, encode, decode)" + (f" (registered: {registered})." if registered else ".")
    )


# --------------------------------------------------------------------------------------------
# Depth and type scan (recursion bounded by max_depth; C-level type sets for big containers)
# --------------------------------------------------------------------------------------------


def _scan(root: Any, max_depth: int) -> bool:
    """Check the nesting of ``root`` (a container); return True if it holds a bytearray.

    Raises _TooDeep beyond ``max_depth`` containers and _Refused for objects msgpack would
    pack although the toolkit cannot read them back (memoryview, raw ExtType, Timestamp).
    Objects rebuilt by registered codecs are leaves here; their content is checked on its own.
    Recursion is bounded by ``max_depth`` (at most MAX_DEPTH_LIMIT frames).
    """
    return _scan_into(root, 1, max_depth)


def _scan_into(obj: Any, depth: int, max_depth: int) -> bool:
    if depth > max_depth:
        raise _TooDeep(f"nested deeper than max_depth={max_depth} (or self-referencing)")
    found = False
    if type(obj) is dict:
        # Large containers of plain scalars are skipped with C-level type sets.
        if (
            len(obj) > 8
            and _SCAN_TYPES.isdisjoint(set(map(type, obj.values())))
            and _SCAN_TYPES.isdisjoint(set(map(type, obj)))
        ):
            return False
        for key, item in obj.items():
            if type(key) in _CONTAINERS:  # tuple or frozenset keys
                _scan_into(key, depth + 1, max_depth)
            found = _scan_child(item, depth, max_depth) or found
        return found
    if len(obj) > 8 and _SCAN_TYPES.isdisjoint(set(map(type, obj))):
        return False
    for item in obj:
        found = _scan_child(item, depth, max_depth) or found
    return found


def _scan_child(item: Any, depth: int, max_depth: int) -> bool:
    """One element of a container at ``depth``: True if it is or holds a bytearray."""
    t = type(item)
    if t not in _SCAN_TYPES:
        return False
    if t in _CONTAINERS:
        return _scan_into(item, depth + 1, max_depth)
    if t is bytearray:
        return True
    raise _unsupported(item, "msgpack")


def _convert(value: Any, bigints: bool) -> Any:
    """Slow path: a copy where bytearrays (and, if asked, huge ints) are explicit ExtTypes.

    Only called after :func:`_scan` bounded the depth.
    """
    t = type(value)
    if t is bytearray:
        return ExtType(EXT_BYTEARRAY, bytes(value))
    if t is list:
        return [_convert(v, bigints) for v in value]
    if t is tuple:
        return tuple(_convert(v, bigints) for v in value)
    if t is dict:
        if bigints:
            return {_convert(k, True): _convert(v, True) for k, v in value.items()}
        return {k: _convert(v, False) for k, v in value.items()}
    if bigints:
        if t is int and not _INT64_MIN <= value <= _UINT64_MAX:
            return _enc_bigint(value)
        if t is set or t is frozenset:
            return t(_convert(v, True) for v in value)
    return value


def _container_header_count(buf: bytes | bytearray) -> int:
    return len(buf) - len(buf.translate(None, _CONTAINER_HEADER_BYTES))


def _ext_hook_leaves(code: int, data: bytes) -> Any:
    """ext_hook for payloads without tags (the common case)."""
    decoder = _LEAF_DECODERS.get(code)
    if decoder is None:
        raise _unknown_ext(code)
    return decoder(data)


def _unknown_ext(code: int) -> _Corrupt:
    if code in _tags_by_code:
        return _Corrupt(f"misplaced container tag (extension type id {code})")
    if USER_TYPE_ID_MIN <= code <= USER_TYPE_ID_MAX:
        return _Corrupt(
            f"unknown extension type id {code}: register its codec with register_codec() "
            "before reading"
        )
    return _Corrupt(f"unknown extension type id {code}")


# --------------------------------------------------------------------------------------------
# Serializer
# --------------------------------------------------------------------------------------------


class Serializer:
    """Encodes values in one format and decodes values in any format, within limits.

    ``name`` is ``"msgpack"`` (default) or ``"legacy-json"`` (the 0.4 format, for rolling
    upgrades). ``loads`` of either reads both formats and raw values from other clients.

    Limits: ``max_depth`` bounds nesting of containers when writing and reading (1..500);
    ``max_decode_size`` is the largest payload ``loads`` accepts, in bytes. Instances are
    immutable and thread-safe.
    """

    __slots__ = ("_name", "_legacy", "_max_depth", "_max_decode_size", "_default")

    def __init__(
        self,
        name: str = "msgpack",
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
        self._name = name
        self._legacy = name == "legacy-json"
        self._max_depth = max_depth
        self._max_decode_size = max_decode_size
        self._default = self._encode_other

    @property
    def name(self) -> str:
        """The format this serializer writes: ``"msgpack"`` or ``"legacy-json"``."""
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

    # ---------------------------------------------------------------- writing

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` to bytes in this serializer's format.

        Raises :class:`SerializationError` (naming the type and listing what is supported)
        for values the format cannot hold exactly, values nested deeper than ``max_depth``
        and self-referencing values.
        """
        try:
            if self._legacy:
                return self._dumps_legacy(value)
            return self._dumps_msgpack(value)
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

    def _encode_other(self, obj: Any) -> Any:
        """msgpack ``default`` hook: everything msgpack does not pack natively comes here."""
        t = type(obj)
        encoder = _ENCODERS.get(t)
        if encoder is not None:
            return encoder(obj)
        codec = _codecs_by_cls.get(t)
        if codec is not None:
            return [codec.tag, self._encode_codec(codec, obj)]
        raise _unsupported(obj, "msgpack")

    def _encode_codec(self, codec: _Codec, obj: Any) -> Any:
        try:
            out = codec.encode(obj)
        except SerializationError:
            raise
        except Exception as e:
            raise SerializationError(
                f"codec for {_type_name(codec.cls)} (type id {codec.code}) failed to encode: {e!r}",
                original_data=obj,
                original_exception=e,
            ) from e
        t = type(out)
        if t is bytearray:
            return ExtType(EXT_BYTEARRAY, bytes(out))
        if t in _REFUSED_PACKABLE:
            raise _unsupported(out, "msgpack")
        if t in _CONTAINERS and _scan(out, self._max_depth):
            return _convert(out, False)
        return out

    def _pack(self, value: Any) -> bytes:
        return msgpack.packb(  # type: ignore[no-any-return]
            value, default=self._default, use_bin_type=True, strict_types=True
        )

    def _dumps_msgpack(self, value: Any) -> bytes:
        t = type(value)
        if t is bytearray:
            return MARKER + _packb_plain(ExtType(EXT_BYTEARRAY, bytes(value)))
        if t in _REFUSED_PACKABLE:
            raise _unsupported(value, "msgpack")
        try:
            body = self._pack(value)
        except OverflowError:
            # msgpack builds that raise instead of calling default for huge ints.
            if t in _CONTAINERS:
                _scan(value, self._max_depth)
            body = self._pack(_convert(value, True))
        if t in _CONTAINERS:
            n = len(body)
            if (
                n > _BYTE_BOUND_LIMIT
                or 0xC4 in body  # bin headers: a bytearray or memoryview may hide in there
                or 0xC5 in body
                or 0xC6 in body
                or _container_header_count(body) > self._max_depth
            ) and _scan(value, self._max_depth):
                body = self._pack(_convert(value, False))
        return MARKER + body

    # ---------------------------------------------------------------- reading

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
                return self._loads_msgpack(buf)
            return self._loads_legacy(buf)
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

    def _loads_msgpack(self, buf: bytes | bytearray) -> Any:
        n = len(buf) - len(MARKER)
        body = memoryview(buf)[len(MARKER) :]
        max_depth = self._max_depth
        # unpackb sets max_str/bin/ext/array_len to len(body) and max_map_len to half of it
        # (documented): a declared length can never reach past the payload, and no container
        # is preallocated beyond what the bytes could fill. The payload size itself is bounded
        # by max_decode_size before we get here.
        if n <= _BYTE_BOUND_LIMIT and 0xC7 not in buf:
            # No tag can be present (every tag is an empty ext8: c7 00 id): no list hook.
            value = msgpack.unpackb(
                body,
                ext_hook=_ext_hook_leaves,
                raw=False,
                strict_map_key=False,
                timestamp=3,
            )
        else:
            pending = 0
            tags = _tags_by_code

            def ext_hook(code: int, data: bytes) -> Any:
                nonlocal pending
                tag = tags.get(code)
                if tag is None:
                    return _ext_hook_leaves(code, data)
                if data:
                    raise _Corrupt(f"container tag {code} with a payload")
                pending += 1
                return tag

            def list_hook(items: list[Any]) -> Any:
                nonlocal pending
                if items and isinstance(items[0], _Tag):
                    pending -= 1
                    return items[0].build(items, max_depth)
                return items

            value = msgpack.unpackb(
                body,
                ext_hook=ext_hook,
                list_hook=list_hook,
                raw=False,
                strict_map_key=False,
                timestamp=3,
            )
            if pending:
                raise _Corrupt("misplaced container tag")
        if type(value) in _CONTAINERS and (
            n > _BYTE_BOUND_LIMIT or _container_header_count(buf) > max_depth
        ):
            _scan(value, max_depth)
        return value

    # ---------------------------------------------------------------- 0.4 format

    def _dumps_legacy(self, value: Any) -> bytes:
        # Mirrors redis-toolkit 0.4's serialize_value byte for byte, refusing what it could
        # not represent (and subclasses, which it mislabelled).
        if value is None:
            return LEGACY_NONE
        t = type(value)
        if t is bool or t is int or t is float or t is str:
            payload: dict[str, Any] = {"__type__": t.__name__, "__data__": value}
        elif t is bytes or t is bytearray:
            payload = {"__type__": "bytes", "__data__": base64.b64encode(value).decode("ascii")}
        elif t is dict or t is list or t is tuple:
            self._legacy_check(value)
            return json.dumps(
                {"__type__": t.__name__, "__data__": value},
                ensure_ascii=False,
                default=_legacy_json_default,
            ).encode("utf-8")
        elif t is np.ndarray:
            _check_legacy_array_dtype(value.dtype)
            payload = {
                "__type__": "numpy",
                "__dtype__": str(value.dtype),
                "__shape__": value.shape,
                "__data__": value.tolist(),
            }
        else:
            raise _unsupported(value, "legacy-json")
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _legacy_check(self, obj: Any, depth: int = 1) -> None:
        # Exact types only: json.dumps would silently write subclasses as their base type.
        if depth > self._max_depth:
            raise _TooDeep(f"nested deeper than max_depth={self._max_depth}")
        if type(obj) is dict:
            for key in obj:
                if type(key) not in _LEGACY_KEYS:
                    raise _Refused(
                        f"cannot serialize a dict key of type {_type_name(type(key))} in the "
                        "0.4 'legacy-json' format (JSON keys are str, int, float, bool or "
                        "None); use the default 'msgpack' format"
                    )
            items: Iterable[Any] = obj.values()
        else:
            items = obj
        for item in items:
            t = type(item)
            if t in _LEGACY_LEAVES:
                continue
            if t in _LEGACY_CONTAINERS:
                self._legacy_check(item, depth + 1)
            elif t is np.ndarray:
                raise _Refused(
                    "cannot serialize a numpy array nested in a container in the 0.4 "
                    "'legacy-json' format (0.4 stored arrays only at the top level); use the "
                    "default 'msgpack' format"
                )
            else:
                raise _unsupported(item, "legacy-json")

    def _loads_legacy(self, buf: bytes | bytearray) -> Any:
        # redis-toolkit 0.4's deserialize_value rules, with its errors turned into
        # SerializationError and its 0/1 -> bool bug fixed.
        if buf == LEGACY_NONE:
            return None
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError:
            return bytes(buf)
        try:
            obj = json.loads(text)
        except RecursionError as e:
            raise _TooDeep("JSON nested too deeply") from e
        except ValueError:
            return text
        if type(obj) is dict and "__type__" in obj:
            return self._legacy_unwrap(obj, len(buf))
        return self._legacy_walk(obj, 0)

    def _legacy_unwrap(self, obj: dict[str, Any], size: int) -> Any:
        kind = obj["__type__"]
        data = obj.get("__data__")
        if kind == "bytes":
            return base64.b64decode(data.encode("ascii"))  # type: ignore[union-attr]
        if kind == "bytearray":
            return bytearray(base64.b64decode(data.encode("ascii")))  # type: ignore[union-attr]
        if kind == "bool":
            return bool(data)
        if kind == "int":
            return int(data)  # type: ignore[arg-type]
        if kind == "float":
            return float(data)  # type: ignore[arg-type]
        if kind == "str":
            return str(data)
        if kind == "list" or kind == "dict":
            return self._legacy_walk(data, 0)
        if kind == "tuple":
            return tuple(self._legacy_walk(data, 0))
        if kind == "numpy":
            return self._legacy_array(obj, size)
        # Unknown wrapper type: 0.4 returned the data as it was.
        if type(data) is list or type(data) is dict:
            _scan(data, self._max_depth)
        return data

    def _legacy_walk(self, obj: Any, depth: int) -> Any:
        # 0.4's _decode_bytes_in_object: nested {"__type__": "bytes"|"bytearray"} become bytes.
        t = type(obj)
        if t is dict:
            kind = obj.get("__type__")
            if kind == "bytes" and "__data__" in obj:
                return base64.b64decode(obj["__data__"].encode("ascii"))
            if kind == "bytearray" and "__data__" in obj:
                return bytearray(base64.b64decode(obj["__data__"].encode("ascii")))
            depth += 1
            if depth > self._max_depth:
                raise _TooDeep(f"nested deeper than max_depth={self._max_depth}")
            return {k: self._legacy_walk(v, depth) for k, v in obj.items()}
        if t is list:
            depth += 1
            if depth > self._max_depth:
                raise _TooDeep(f"nested deeper than max_depth={self._max_depth}")
            return [self._legacy_walk(v, depth) for v in obj]
        return obj

    def _legacy_array(self, obj: dict[str, Any], size: int) -> np.ndarray[Any, Any]:
        spec = obj["__dtype__"]
        shape = obj["__shape__"]
        data = obj["__data__"]
        if type(spec) is not str or not _LEGACY_DTYPE_RE.fullmatch(spec):
            raise _Corrupt(f"invalid numpy dtype {str(spec)[:40]!r}")
        dt = np.dtype(spec)
        if dt.kind != "O":  # 0.4 also stored object arrays whose items JSON could hold
            try:
                _check_dtype(dt, _LEGACY_ARRAY_KINDS_READ, "an array")
            except _Refused as e:
                raise _Corrupt(str(e)) from None
        if type(shape) is not list or len(shape) > 64:
            raise _Corrupt("invalid numpy shape")
        count = 1
        for dim in shape:
            if type(dim) is not int or dim < 0:
                raise _Corrupt("invalid numpy shape")
            count *= dim
        if count > size:
            # Every element takes at least one character of JSON: the shape is a lie.
            raise _Corrupt(f"numpy shape {tuple(shape)[:8]} is larger than the payload")
        if dt.kind == "U":
            # The declared width multiplies every element: count them before allocating.
            leaves = _count_leaves(data, len(shape))
            if leaves != count or count * dt.itemsize > self._max_decode_size:
                raise _Corrupt("numpy str array does not match its shape or is too large")
        if dt.kind == "O":
            # Read as 0.4 did, once the nesting is known to match the shape exactly.
            if _count_leaves(data, len(shape)) != count:
                raise _Corrupt("numpy object array does not match its shape")
            out = np.empty(count, dtype=object)
            out[:] = _flatten(data, len(shape))
            return out.reshape(shape)
        return np.array(data, dtype=dt).reshape(shape)


def _flatten(data: Any, ndim: int) -> list[Any]:
    level = [data]
    for _ in range(ndim):
        level = [y for x in level for y in x]
    return level


def _count_leaves(data: Any, ndim: int) -> int:
    level = [data]
    for _ in range(ndim):
        if not all(type(x) is list for x in level):
            return -1
        level = [y for x in level for y in x]
    return len(level)


def _check_legacy_array_dtype(dt: np.dtype[Any]) -> None:
    try:
        _check_dtype(dt, _LEGACY_ARRAY_KINDS_WRITE, "a numpy array")
    except _Refused:
        raise _Refused(
            f"cannot serialize a numpy array of dtype {dt!s} in the 0.4 'legacy-json' format "
            "(it holds bool, int, uint, float, str and datetime64[ns]/timedelta64[ns] arrays); "
            "use the default 'msgpack' format"
        ) from None


def _legacy_json_default(obj: Any) -> Any:
    # 0.4's BytesAwareJSONEncoder.default, key order included.
    if type(obj) is bytes:
        return {"__type__": "bytes", "__data__": base64.b64encode(obj).decode("ascii")}
    if type(obj) is bytearray:
        return {"__type__": "bytearray", "__data__": base64.b64encode(obj).decode("ascii")}
    raise _unsupported(obj, "legacy-json")


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------

_DEFAULT_SERIALIZERS: Final = {name: Serializer(name) for name in FORMATS}


def get_serializer(
    name: str = "msgpack",
    *,
    max_depth: int | None = None,
    max_decode_size: int | None = None,
) -> Serializer:
    """Return a :class:`Serializer` writing format ``name`` (``"msgpack"`` or ``"legacy-json"``).

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


def serialize_value(value: Any, *, format: str = "msgpack") -> bytes:
    """Encode ``value`` for Redis: msgpack by default, ``format="legacy-json"`` for 0.4's format.

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
    return _DEFAULT_SERIALIZERS["msgpack"].loads(data)
