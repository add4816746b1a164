"""The msgpack format's leaf extension types: encoders return ExtType, decoders take its bytes.

Each decoder checks its payload and raises ``_Corrupt`` for anything it did not write; none of
them allocates more than its payload justifies (arrays must match the bytes present).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any, Final

import msgpack
import numpy as np
from msgpack import ExtType

from ._common import (
    _ARRAY_KINDS,
    _COMPLEX,
    _DTYPE_RE,
    _NDARRAY_HEADER,
    _SCALAR_CHARS,
    _US,
    _ZONE_KEY_RE,
    EXT_BIGINT,
    EXT_BYTEARRAY,
    EXT_COMPLEX,
    EXT_DATE,
    EXT_DATETIME,
    EXT_DECIMAL,
    EXT_NDARRAY,
    EXT_NUMPY_SCALAR,
    EXT_TIME,
    EXT_TIMEDELTA,
    EXT_UUID,
    _check_dtype,
    _check_shape,
    _Corrupt,
    _Refused,
    _type_name,
)


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
    count = _check_shape(shape, "array")
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
