"""Tests of redis_toolkit.serialization: round trips, property tests, errors, codec registry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib.util
import math
import threading
import uuid
import zoneinfo
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from redis_toolkit import serialization as ser
from redis_toolkit.exceptions import SerializationError, ValidationError
from redis_toolkit.serialization import (
    FORMATS,
    MARKER,
    Serializer,
    deserialize_value,
    get_serializer,
    register_codec,
    unregister_codec,
)
from redis_toolkit.serialization import serialize_value as _serialize_value


# This file tests the typed msgpack format, an explicit choice since the default writer became
# 0.4's JSON format (tests/test_serialization_legacy.py): its writer is named in every call.
def serialize_value(value: Any, *, format: str = "msgpack") -> bytes:
    """The public serialize_value with the msgpack format unless another is named."""
    return _serialize_value(value, format=format)

# ------------------------------------------------------------------------------------------
# Deep equality with type identity
# ------------------------------------------------------------------------------------------


def _f_only(a: np.ndarray) -> bool:
    return bool(a.flags.f_contiguous and not a.flags.c_contiguous)


def _expected_f_only(a: np.ndarray) -> bool:
    # Non-contiguous arrays are stored as numpy's order="K" copy: F-like layouts stay F.
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = a.copy(order="K")
    return _f_only(a)


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a):
        return math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _same_tz(a: dt.tzinfo | None, b: dt.tzinfo | None) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, zoneinfo.ZoneInfo):
        return a.key == b.key  # type: ignore[union-attr]
    if isinstance(a, dt.timezone):
        return a == b and a.tzname(None) == b.tzname(None)  # type: ignore[union-attr]
    return a is None


def assert_same(a: Any, b: Any, path: str = "value") -> None:
    """Assert ``b`` equals ``a`` with identical types all the way down (NaN-aware)."""
    assert type(a) is type(b), f"{path}: type {type(b)!r} != {type(a)!r}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.dtype.str == b.dtype.str, f"{path}: dtype"
        assert a.shape == b.shape, f"{path}: shape {b.shape} != {a.shape}"
        assert a.tobytes() == b.tobytes(), f"{path}: array values differ"
        assert _expected_f_only(a) == _f_only(b), f"{path}: Fortran order not kept"
        assert b.flags.writeable, f"{path}: decoded array is read-only"
    elif isinstance(a, np.generic):
        assert a.tobytes() == b.tobytes(), f"{path}: {b!r} != {a!r}"
    elif isinstance(a, float):
        assert _same_float(a, b), f"{path}: {b!r} != {a!r}"
    elif isinstance(a, complex):
        assert _same_float(a.real, b.real) and _same_float(a.imag, b.imag), f"{path}: {b!r}"
    elif isinstance(a, decimal.Decimal):
        assert str(a) == str(b), f"{path}: {b!r} != {a!r}"
    elif isinstance(a, dt.datetime):
        fields = ("year", "month", "day", "hour", "minute", "second", "microsecond", "fold")
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields], path
        assert _same_tz(a.tzinfo, b.tzinfo), f"{path}: tzinfo {b.tzinfo!r} != {a.tzinfo!r}"
    elif isinstance(a, dt.time):
        assert (a.hour, a.minute, a.second, a.microsecond, a.fold) == (
            b.hour,
            b.minute,
            b.second,
            b.microsecond,
            b.fold,
        ), path
        assert _same_tz(a.tzinfo, b.tzinfo), f"{path}: tzinfo {b.tzinfo!r} != {a.tzinfo!r}"
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(b)} != {len(a)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert len(a) == len(b), f"{path}: {len(b)} keys != {len(a)}"
        keys = {k: k for k in b}
        for k, v in a.items():
            assert k in keys, f"{path}: missing key {k!r}"
            assert_same(k, keys[k], f"{path}.key({k!r})")
            assert_same(v, b[k], f"{path}[{k!r}]")
    elif isinstance(a, (set, frozenset)):
        assert len(a) == len(b), f"{path}: size"
        items = {x: x for x in b}
        for x in a:
            assert x in items, f"{path}: missing {x!r}"
            assert_same(x, items[x], f"{path}{{{x!r}}}")
    else:
        assert a == b, f"{path}: {b!r} != {a!r}"


def roundtrip(value: Any, **kwargs: Any) -> Any:
    payload = serialize_value(value, **kwargs)
    assert isinstance(payload, bytes)
    return deserialize_value(payload)


# ------------------------------------------------------------------------------------------
# Explicit examples
# ------------------------------------------------------------------------------------------

NY = zoneinfo.ZoneInfo("America/New_York")
PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))
F_ARRAY = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))

EXAMPLES: list[tuple[str, Any]] = [
    ("none", None),
    ("true", True),
    ("false", False),
    ("int-0", 0),
    ("int-1", 1),
    ("int-neg", -1),
    ("int64-min", -(2**63)),
    ("uint64-max", 2**64 - 1),
    ("int-2**64", 2**64),
    ("int-below-int64", -(2**63) - 1),
    ("int-2**200", 2**200),
    ("int--2**70", -(2**70)),
    ("float", 1.5),
    ("float-neg-zero", -0.0),
    ("float-nan", float("nan")),
    ("float-inf", float("inf")),
    ("float-ninf", float("-inf")),
    ("float-tiny", 5e-324),
    ("complex", complex(1.5, -0.0)),
    ("str-empty", ""),
    ("str-nul-nonbmp", "a\x00b\U0001f600\u00e9"),
    ("bytes", b"\x00\xff\xc1RT\x01"),
    ("bytes-empty", b""),
    ("bytearray", bytearray(b"\x00abc")),
    ("list", [1, "a", None]),
    ("tuple", (1, "a", None)),
    ("tuple-empty", ()),
    ("tuple-nested", (1, (2, (3, ())), [4, (5,)])),
    ("list-of-tuples", [(1, 2), (3, 4)]),
    ("dict-str", {"a": 1, "b": [1, 2]}),
    ("dict-keys", {1: "int", (1, "x"): "tuple", b"k": "bytes", frozenset({1, 2}): "fs", None: 0}),
    ("dict-float-bool-keys", {1.5: "f", True: "b", dt.date(2020, 1, 1): "date"}),
    ("set-of-tuples", {(1, 2), (3, 4), ("a", (5,))}),
    ("set-empty", set()),
    ("frozenset", frozenset({1, "a", b"b"})),
    ("nested-bytearray", [bytearray(b"a"), (bytearray(b"b"),), {"k": bytearray()}]),
    ("datetime-naive", dt.datetime(2024, 2, 29, 23, 59, 59, 999999)),
    ("datetime-utc", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)),
    ("datetime-offset", dt.datetime(2024, 1, 2, tzinfo=PLUS_0530)),
    (
        "datetime-named-offset",
        dt.datetime(2024, 1, 2, tzinfo=dt.timezone(-dt.timedelta(hours=3), "BRT")),
    ),
    ("datetime-zoneinfo-fold", dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NY)),
    ("datetime-min", dt.datetime.min),
    ("date", dt.date(1, 1, 1)),
    ("time", dt.time(23, 59, 59, 1)),
    ("time-tz", dt.time(12, 0, tzinfo=dt.timezone.utc)),
    ("timedelta", dt.timedelta(days=-3, seconds=5, microseconds=7)),
    ("timedelta-max", dt.timedelta.max),
    ("decimal", decimal.Decimal("1.2300")),
    ("decimal-nan", decimal.Decimal("NaN")),
    ("decimal-snan", decimal.Decimal("-sNaN12")),
    ("decimal-inf", decimal.Decimal("-Infinity")),
    ("decimal-neg-zero", decimal.Decimal("-0E+3")),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    ("array-f32", np.arange(12, dtype=np.float32).reshape(3, 4)),
    ("array-fortran", F_ARRAY),
    ("array-strided", np.arange(40, dtype=np.int16).reshape(4, 10)[::2, ::3]),
    ("array-reversed", np.arange(5, dtype=np.uint32)[::-1]),
    ("array-fortran-strided", F_ARRAY[:, ::2]),
    ("array-0d", np.array(3.5)),
    ("array-empty-0x3", np.zeros((0, 3), dtype=np.float64)),
    ("array-bool", np.array([[True, False]])),
    ("array-complex", np.array([1 + 2j, np.nan], dtype=np.complex64)),
    ("array-f16-nan", np.array([np.nan, -0.0, np.inf], dtype=np.float16)),
    ("array-big-endian", np.array([1, 2, 3], dtype=">i4")),
    ("array-uint64", np.array([2**64 - 1, 0], dtype=np.uint64)),
    ("array-datetime64", np.array(["2020-01-01", "NaT"], dtype="datetime64[ms]")),
    ("array-str", np.array(["ab", "c\U0001f600"])),
    ("array-bytes", np.array([b"ab", b"c"])),
    ("np-float32", np.float32(1.5)),
    ("np-float16", np.float16(-0.0)),
    ("np-int8", np.int8(-3)),
    ("np-uint64", np.uint64(2**64 - 1)),
    ("np-bool", np.bool_(True)),
    ("np-float64", np.float64("nan")),
    ("np-longlong", np.longlong(7)),
    ("np-complex128", np.complex128(1 - 1j)),
    ("np-datetime64", np.datetime64("2020-01-01T00:00:00.123", "ns")),
    ("np-str", np.str_("hi")),
    ("array-in-dict-in-list", [{"emb": np.ones((2, 3), dtype=np.float32), "n": 1}, (np.int64(5),)]),
    ("deep-64", None),  # replaced below: 64 nested lists, the default limit
]
_deep: Any = []
for _ in range(63):
    _deep = [_deep]
EXAMPLES[-1] = ("deep-64", _deep)


@pytest.mark.parametrize("value", [v for _, v in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_roundtrip_examples(value: Any) -> None:
    payload = serialize_value(value)
    assert payload.startswith(MARKER)
    assert_same(value, deserialize_value(payload))


@pytest.mark.parametrize("value", [0, 1, -1, 2])
def test_zero_and_one_stay_int(value: int) -> None:
    back = roundtrip(value)
    assert type(back) is int and back == value
    assert type(deserialize_value(value)) is int  # an int handed in is returned as an int


def test_nested_tuples_and_keys_keep_types() -> None:
    value = {(1, (2, 3)): [(4,), {"x": (5, 6)}], frozenset({(7, 8)}): {9}}
    assert_same(value, roundtrip(value))


def test_decoded_arrays_are_writable_and_independent() -> None:
    arr = np.arange(6, dtype=np.float32)
    payload = serialize_value(arr)
    first = deserialize_value(payload)
    first[0] = 42
    second = deserialize_value(payload)
    assert second[0] == 0 and first.flags.writeable and first.flags.aligned


def test_array_payload_is_raw_buffer_plus_small_header() -> None:
    arr = np.random.default_rng(0).standard_normal((256, 384), dtype=np.float32)
    payload = serialize_value(arr)
    assert len(payload) <= arr.nbytes + 64
    assert arr.tobytes() in payload


def test_fortran_array_keeps_order_and_buffer() -> None:
    back = roundtrip(F_ARRAY)
    assert back.flags.f_contiguous and not back.flags.c_contiguous
    np.testing.assert_array_equal(back, F_ARRAY)


def test_numpy_scalar_types_are_kept() -> None:
    for value in (np.float32(1.5), np.int16(-2), np.uint8(255), np.bool_(False), np.float16(2)):
        back = roundtrip(value)
        assert type(back) is type(value) and back == value


def test_zoneinfo_datetime_keeps_the_zone() -> None:
    value = dt.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    back = roundtrip(value)
    assert back.tzinfo is zoneinfo.ZoneInfo("Europe/Paris")
    assert back.utcoffset() == dt.timedelta(hours=2)


def test_input_kinds() -> None:
    payload = serialize_value({"a": (1, 2)})
    for data in (payload, bytearray(payload), memoryview(payload)):
        assert deserialize_value(data) == {"a": (1, 2)}
    assert deserialize_value(memoryview(b"xx" + payload)[2:]) == {"a": (1, 2)}
    assert deserialize_value("text") == "text"  # str is returned as is, like 0.4
    assert deserialize_value(None) is None
    assert deserialize_value(True) is True
    assert deserialize_value(2.5) == 2.5
    with pytest.raises(SerializationError) as err:
        deserialize_value([1, 2])
    assert "list" in str(err.value)


def test_marker_is_not_utf8_and_not_msgpack() -> None:
    with pytest.raises(UnicodeDecodeError):
        MARKER.decode("utf-8")
    with pytest.raises(Exception):  # noqa: B017 - 0xC1 is "never used" in msgpack
        msgpack.unpackb(MARKER[:1])
    assert MARKER == b"\xc1RT\x01"


def test_other_msgpack_timestamp_reads_as_datetime() -> None:
    # ext -1 is msgpack's standard timestamp; we never write it but read it as UTC datetime.
    value = deserialize_value(MARKER + msgpack.packb(msgpack.Timestamp(1, 0)))
    assert value == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------------------------------
# Property tests
# ------------------------------------------------------------------------------------------

ARRAY_DTYPES = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.complex64,
    np.complex128,
]


def _layout(args: tuple[np.ndarray, str]) -> np.ndarray:
    arr, layout = args
    if layout == "F":
        return np.asfortranarray(arr)
    if layout == "strided" and arr.ndim:
        return arr[::2]
    if layout == "reversed" and arr.ndim:
        return arr[..., ::-1]
    if layout == "big-endian":
        return arr.astype(arr.dtype.newbyteorder(">"))
    return arr


arrays = st.tuples(
    st.sampled_from(ARRAY_DTYPES).flatmap(
        lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    ),
    st.sampled_from(["C", "F", "strided", "reversed", "big-endian"]),
).map(_layout)

numpy_scalars = st.sampled_from(ARRAY_DTYPES).flatmap(
    lambda d: hnp.from_dtype(np.dtype(d)).map(np.dtype(d).type)
)

offsets = st.timedeltas(
    min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
)
tzinfos = st.one_of(
    st.none(),
    st.just(dt.timezone.utc),
    st.builds(dt.timezone, offsets),
    st.builds(dt.timezone, offsets, st.text(min_size=1, max_size=5)),
    st.timezones(),
)

hashables = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.binary(max_size=8),
        st.dates(),
        st.uuids(),
        st.decimals(allow_nan=False),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple), st.frozensets(inner, max_size=3)
    ),
    max_leaves=6,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(),
    st.complex_numbers(),
    st.text(),
    st.binary(),
    st.binary().map(bytearray),
    st.datetimes(timezones=tzinfos),
    st.dates(),
    st.times(timezones=tzinfos),
    st.timedeltas(),
    st.decimals(),
    st.uuids(),
    numpy_scalars,
    arrays,
)

values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(hashables, children, max_size=4),
        st.sets(hashables, max_size=4),
        st.frozensets(hashables, max_size=4),
    ),
    max_leaves=12,
)

# Example counts come from the hypothesis profile (tests/conftest.py: dev or thorough).


@given(values)
def test_property_roundtrip(value: Any) -> None:
    assert_same(value, roundtrip(value))


@given(arrays)
def test_property_arrays(arr: np.ndarray) -> None:
    back = roundtrip(arr)
    assert_same(arr, back)
    assert len(serialize_value(arr)) <= arr.nbytes + 64


@given(values)
def test_property_serializer_loads_reads_both_formats(value: Any) -> None:
    for name in FORMATS:
        assert_same(value, get_serializer(name).loads(serialize_value(value)))


# ------------------------------------------------------------------------------------------
# Unsupported types and encoding limits
# ------------------------------------------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


class MyStr(str):
    pass


class Opaque:
    pass


class MyDatetime(dt.datetime):
    pass


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (OrderedDict(a=1), "collections.OrderedDict"),
        (defaultdict(list), "collections.defaultdict"),
        (Color.RED, "Color"),
        (MyStr("x"), "MyStr"),
        (Opaque(), "Opaque"),
        (MyDatetime(2020, 1, 1), "MyDatetime"),
        (np.ma.masked_array([1]), "numpy.ma.MaskedArray"),
        (memoryview(b"x"), "memoryview"),
        ([1, {"k": memoryview(b"x")}], "memoryview"),
        ([Opaque()], "Opaque"),
        ({"k": (1, Color.RED)}, "Color"),
        (msgpack.ExtType(1, b""), "ExtType"),
        (object, "type"),
        (lambda: 1, "function"),
    ],
)
def test_unsupported_types_are_refused_with_a_helpful_message(value: Any, name: str) -> None:
    with pytest.raises(SerializationError) as err:
        serialize_value(value)
    message = str(err.value)
    assert name in message
    assert "register_codec" in message
    assert "Supported types" in message and "datetime" in message
    assert err.value.original_exception is not None


def test_subclass_message_suggests_conversion() -> None:
    with pytest.raises(SerializationError, match=r"subclass of dict"):
        serialize_value(OrderedDict())


@pytest.mark.parametrize(
    "value",
    [
        np.array([object()], dtype=object),
        np.zeros(2, dtype=[("a", "i4"), ("b", "f4")]),
        np.zeros(2, dtype="V4"),
    ],
    ids=["object", "structured", "void"],
)
def test_unsupported_array_dtypes(value: np.ndarray) -> None:
    with pytest.raises(SerializationError, match="dtype"):
        serialize_value(value)


def test_unsupported_tzinfo_is_refused() -> None:
    class FixedTz(dt.tzinfo):
        def utcoffset(self, d: Any) -> dt.timedelta:
            return dt.timedelta(hours=1)

        def dst(self, d: Any) -> dt.timedelta:
            return dt.timedelta(0)

        def tzname(self, d: Any) -> str:
            return "X"

    with pytest.raises(SerializationError, match="FixedTz"):
        serialize_value(dt.datetime(2020, 1, 1, tzinfo=FixedTz()))


def test_lone_surrogate_is_an_error_not_a_crash() -> None:
    with pytest.raises(SerializationError):
        serialize_value("\ud800")


def test_self_referencing_values_raise_serialization_error() -> None:
    lst: list[Any] = []
    lst.append(lst)
    d: dict[str, Any] = {}
    d["self"] = d
    for value in (lst, d, (lst,), [bytearray(b"x"), lst]):
        with pytest.raises(SerializationError) as err:
            serialize_value(value)
        assert not isinstance(err.value, RecursionError)


def _nest(depth: int, leaf: Any = 0, kind: type = list) -> Any:
    value = leaf
    for _ in range(depth):
        value = kind([value]) if kind is not dict else {"k": value}
    return value


@pytest.mark.parametrize("kind", [list, tuple, dict])
def test_encode_depth_limit(kind: type) -> None:
    assert_same(_nest(64, kind=kind), roundtrip(_nest(64, kind=kind)))
    for depth in (65, 300, 5000):
        with pytest.raises(SerializationError, match="nested"):
            serialize_value(_nest(depth, kind=kind))


def test_encode_depth_limit_with_large_payload() -> None:
    value = _nest(70, leaf="x" * 10_000)
    with pytest.raises(SerializationError, match="max_depth"):
        serialize_value(value)


def test_custom_max_depth() -> None:
    shallow = get_serializer("msgpack", max_depth=3)
    assert shallow.loads(shallow.dumps([[[1]]])) == [[[1]]]
    with pytest.raises(SerializationError):
        shallow.dumps([[[[1]]]])
    deep_payload = serialize_value([[[[1]]]])
    with pytest.raises(SerializationError, match="max_depth=3"):
        shallow.loads(deep_payload)


def test_overflow_error_fallback_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Some msgpack builds raise OverflowError instead of calling default for huge ints.
    real_packb = msgpack.packb

    def packb(value: Any, **kwargs: Any) -> bytes:
        def check(v: Any) -> None:
            if type(v) is int and not -(2**63) <= v < 2**64:
                raise OverflowError("Integer value out of range")
            if type(v) in (list, tuple, set, frozenset):
                for x in v:
                    check(x)
            if type(v) is dict:
                for k, x in v.items():
                    check(k)
                    check(x)

        check(value)
        return real_packb(value, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(ser.msgpack, "packb", packb)
    value = [2**100, {-(2**80): (2**70,)}, {2**65}, bytearray(b"z")]
    payload = get_serializer("msgpack").dumps(value)
    monkeypatch.undo()
    assert_same(value, deserialize_value(payload))


# ------------------------------------------------------------------------------------------
# Decoding errors
# ------------------------------------------------------------------------------------------


def _ext(code: int, data: bytes) -> bytes:
    return MARKER + msgpack.packb(msgpack.ExtType(code, data))


def _array_ext(spec: str, shape: list[int], raw: bytes, order: int = 0) -> bytes:
    header = msgpack.packb([spec, shape, order])
    return _ext(ser.EXT_NDARRAY, len(header).to_bytes(2, "big") + header + raw)


def _decode_error(data: Any, match: str | None = None) -> SerializationError:
    with pytest.raises(SerializationError, match=match) as err:
        deserialize_value(data)
    assert err.value.original_exception is not None
    return err.value


def test_huge_declared_array_is_refused_without_allocating() -> None:
    err = _decode_error(_array_ext("<f8", [10**9, 10**9], b""), "needs")
    assert "payload holds 0" in str(err)
    _decode_error(_array_ext("<f8", [2**62, 2**62, 2**62], b"\x00" * 8))
    _decode_error(_array_ext("<f8", [3], b"\x00" * 23))
    _decode_error(_array_ext("<f8", [-1], b""))


@pytest.mark.parametrize("spec", ["|O", "O", "<V8", "f4,f4", "(2,)f8", "<U0", "bogus", 5])
def test_bad_array_dtypes_are_refused(spec: Any) -> None:
    _decode_error(_array_ext(spec, [1], b"\x00" * 8))


def test_valid_hand_built_array_ext() -> None:
    value = deserialize_value(_array_ext("<i2", [2, 2], b"\x01\x00\x02\x00\x03\x00\x04\x00", 1))
    np.testing.assert_array_equal(value, np.array([[1, 3], [2, 4]], dtype="<i2"))
    assert value.flags.f_contiguous


def test_depth_bombs() -> None:
    _decode_error(MARKER + b"\x91" * 65 + b"\xc0", "max_depth")
    _decode_error(MARKER + b"\x91" * 100_000 + b"\xc0")
    _decode_error(MARKER + b"\x81\xa1k" * 200 + b"\xc0")
    # 200 nested tuples: arrays whose first element is the empty tuple tag
    tag = b"\xc7\x00" + bytes([ser.EXT_TUPLE])
    _decode_error(MARKER + (b"\x92" + tag) * 200 + b"\xc0")
    assert deserialize_value(MARKER + b"\x91" * 64 + b"\xc0") == _nest(64, None)


def test_truncated_and_overlong_payloads() -> None:
    good = serialize_value({"a": [1, 2, 3], "b": "x" * 50, "c": b"\x00" * 20})
    for cut in range(len(MARKER), len(good)):
        _decode_error(good[:cut])
    _decode_error(good + b"\xc0")  # trailing data
    _decode_error(MARKER + b"\xdb\xff\xff\xff\xff" + b"abc")  # str32 declaring 4 GiB
    _decode_error(MARKER + b"\xdd\xff\xff\xff\xff")  # array32 declaring 4 billion items
    _decode_error(MARKER + b"\xc6\x7f\xff\xff\xff")  # bin32 past the end


def test_unknown_and_misplaced_ext_codes() -> None:
    _decode_error(_ext(63, b"x"), "unknown extension type id 63")
    _decode_error(_ext(99, b""), "register its codec")
    _decode_error(_ext(ser.EXT_TUPLE, b""), "tag")  # a tag outside its array
    _decode_error(MARKER + msgpack.packb([1, msgpack.ExtType(ser.EXT_SET, b"")]), "tag")
    _decode_error(MARKER + msgpack.packb([msgpack.ExtType(ser.EXT_SET, b"x")]), "tag")


@pytest.mark.parametrize(
    ("code", "data"),
    [
        (ser.EXT_BIGINT, b""),
        (ser.EXT_DATETIME, msgpack.packb([2020, 13, 1, 0, 0, 0, 0, 0, None])),
        (ser.EXT_DATETIME, msgpack.packb([2020, 1, 1, 0, 0, 0, 0, 0, "../../etc/passwd"])),
        (ser.EXT_DATETIME, msgpack.packb([2020, 1, 1, 0, 0, 0, 0, 0, "No/Such_Zone"])),
        (ser.EXT_DATETIME, msgpack.packb([2020, 1, 1, 0, 0, 0, 0, 0, 10**12])),
        (ser.EXT_DATETIME, msgpack.packb([2020, 1, 1, 0, 0, 0, 0])),
        (ser.EXT_DATE, msgpack.packb(["2020", 1, 1])),
        (ser.EXT_TIME, b"\xc1"),
        (ser.EXT_TIMEDELTA, msgpack.packb([10**10, 0, 0])),
        (ser.EXT_DECIMAL, b"not a number"),
        (ser.EXT_DECIMAL, b"\xff"),
        (ser.EXT_UUID, b"short"),
        (ser.EXT_COMPLEX, b"\x00" * 15),
        (ser.EXT_NDARRAY, b"\x00"),
        (ser.EXT_NDARRAY, b"\xff\xff"),
        (ser.EXT_NUMPY_SCALAR, msgpack.packb(["f", "<f4", b"\x00" * 3])),
        (ser.EXT_NUMPY_SCALAR, msgpack.packb(["O", "|O", b"\x00" * 8])),
    ],
)
def test_corrupt_extension_payloads(code: int, data: bytes) -> None:
    _decode_error(_ext(code, data))


def test_unhashable_decoded_keys_and_set_items() -> None:
    _decode_error(MARKER + b"\x81\x90\x01")  # map with an array key
    tag = b"\xc7\x00" + bytes([ser.EXT_SET])
    _decode_error(MARKER + b"\x92" + tag + b"\x90")  # set containing a list


def test_max_decode_size() -> None:
    small = get_serializer("msgpack", max_decode_size=100)
    payload = serialize_value(b"x" * 200)
    with pytest.raises(SerializationError, match="max_decode_size=100"):
        small.loads(payload)
    with pytest.raises(SerializationError, match="max_decode_size"):
        small.loads(b"{" * 150)
    assert small.loads(serialize_value(b"x" * 50)) == b"x" * 50


def test_unknown_format_version() -> None:
    _decode_error(b"\xc1RT\x02" + msgpack.packb(1), "version 2")
    _decode_error(b"\xc1RT", "truncated")


def test_oversized_memoryview_is_refused_before_copying() -> None:
    small = get_serializer("msgpack", max_decode_size=10)
    with pytest.raises(SerializationError, match="max_decode_size=10"):
        small.loads(memoryview(bytearray(11)))


# ------------------------------------------------------------------------------------------
# Codec registry
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: float
    tags: tuple[str, ...] = ()


@dataclasses.dataclass
class Box:
    items: list[Any]
    blob: bytearray


class Point3(Point):
    pass


@pytest.fixture
def point_codec() -> Any:
    register_codec(Point, 100, lambda p: [p.x, p.y, p.tags], lambda v: Point(*v))
    yield 100
    unregister_codec(100)


def test_registered_dataclass_roundtrips_nested(point_codec: int) -> None:
    value = [
        Point(1, 2.5, ("a",)),
        {"p": Point(-3, float("nan"))},
        {Point(0, 0.0): (Point(9, 9.0),)},
    ]
    back = roundtrip(value)
    assert type(back[0]) is Point and back[0] == Point(1, 2.5, ("a",))
    assert math.isnan(back[1]["p"].y) and back[1]["p"].x == -3
    assert list(back[2]) == [Point(0, 0.0)] and back[2][Point(0, 0.0)] == (Point(9, 9.0),)


def test_codec_output_may_hold_any_supported_value(point_codec: int) -> None:
    register_codec(
        Box,
        101,
        lambda b: {"items": b.items, "blob": b.blob},
        lambda v: Box(v["items"], v["blob"]),
    )
    try:
        box = Box([Point(1, 1.0), np.arange(3), (1, 2)], bytearray(b"\x00\x01"))
        back = roundtrip([box])[0]
        assert type(back) is Box and type(back.blob) is bytearray and back.blob == box.blob
        assert back.items[0] == Point(1, 1.0) and back.items[2] == (1, 2)
        np.testing.assert_array_equal(back.items[1], np.arange(3))
    finally:
        unregister_codec(101)


def test_codec_for_a_builtin_subclass() -> None:
    # Subclasses of builtins reach the codec (msgpack packs with strict_types).
    register_codec(Color, 90, int, Color)
    register_codec(OrderedDict, 91, lambda d: list(d.items()), OrderedDict)
    try:
        value = {Color.RED: [Color.RED], "od": OrderedDict([("b", 1), ("a", (Color.RED,))])}
        back = roundtrip(value)
        assert_same(value, back)
        assert list(back["od"]) == ["b", "a"]
    finally:
        unregister_codec(90)
        unregister_codec(91)


def test_codec_applies_to_exact_class_only(point_codec: int) -> None:
    with pytest.raises(SerializationError, match="Point3"):
        serialize_value(Point3(1, 2.0))


def test_codec_clashes_name_both_sides(point_codec: int) -> None:
    class Other:
        pass

    with pytest.raises(ValidationError, match=r"Point.*|Other.*") as err:
        register_codec(Other, 100, str, str)
    assert "Other" in str(err.value) and "Point" in str(err.value) and "100" in str(err.value)
    with pytest.raises(ValidationError) as err:
        register_codec(Point, 110, str, str)
    assert "Point" in str(err.value) and "100" in str(err.value) and "110" in str(err.value)
    with pytest.raises(ValidationError) as err:
        register_codec(Other, ser.EXT_NDARRAY, str, str)
    assert "numpy.ndarray" in str(err.value) and "Other" in str(err.value)


@pytest.mark.parametrize(
    ("cls", "type_id", "match"),
    [
        (Opaque, 0, "built-in|outside"),
        (Opaque, 30, "outside the user range"),
        (Opaque, 128, "outside the user range"),
        (Opaque, -1, "outside the user range"),
        (Opaque, True, "must be an int"),
        (Opaque, "70", "must be an int"),
        (dict, 70, "built-in encoding"),
        (dt.datetime, 70, "built-in encoding"),
        (np.float32, 70, "built-in encoding"),
        (msgpack.ExtType, 70, "built-in encoding"),
        (memoryview, 70, "built-in encoding"),
        ("Opaque", 70, "must be a class"),
    ],
)
def test_register_codec_validation(cls: Any, type_id: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        register_codec(cls, type_id, str, str)


def test_register_codec_needs_callables() -> None:
    with pytest.raises(ValidationError, match="callable"):
        register_codec(Opaque, 70, None, str)  # type: ignore[arg-type]


def test_unregister_codec() -> None:
    register_codec(Opaque, 77, lambda o: None, lambda v: Opaque())
    payload = serialize_value([Opaque()])
    assert type(deserialize_value(payload)[0]) is Opaque
    unregister_codec(77)
    with pytest.raises(SerializationError, match="register its codec"):
        deserialize_value(payload)
    with pytest.raises(SerializationError, match="register_codec"):
        serialize_value(Opaque())
    with pytest.raises(ValidationError, match="no codec"):
        unregister_codec(77)
    with pytest.raises(ValidationError, match="built-in"):
        unregister_codec(ser.EXT_TUPLE)


def test_codec_errors_are_wrapped() -> None:
    def bad_encode(o: Any) -> Any:
        raise RuntimeError("boom")

    def bad_decode(v: Any) -> Any:
        raise KeyError("bang")

    register_codec(Opaque, 78, bad_encode, bad_decode)
    try:
        with pytest.raises(SerializationError, match="boom") as err:
            serialize_value(Opaque())
        assert isinstance(err.value.original_exception, RuntimeError)
        unregister_codec(78)
        register_codec(Opaque, 78, lambda o: 1, bad_decode)
        payload = serialize_value({"o": Opaque()})
        with pytest.raises(SerializationError, match="bang") as err:
            deserialize_value(payload)
        assert isinstance(err.value.original_exception, KeyError)
    finally:
        unregister_codec(78)


def test_codec_returning_itself_is_bounded() -> None:
    register_codec(Opaque, 79, lambda o: o, lambda v: v)
    try:
        with pytest.raises(SerializationError):
            serialize_value(Opaque())
    finally:
        unregister_codec(79)


def test_concurrent_registration() -> None:
    classes = [type(f"T{i}", (), {}) for i in range(40)]
    errors: list[Exception] = []
    barrier = threading.Barrier(len(classes))

    def work(i: int) -> None:
        barrier.wait()
        try:
            # ids 80..99 are each claimed by two threads: exactly one of each pair wins
            register_codec(classes[i], 80 + i % 20, lambda o: 0, lambda v: v)
        except ValidationError as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(classes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(errors) == 20
        assert sorted(ser._registry._codecs_by_id) == list(range(80, 100))
    finally:
        for type_id in range(80, 100):
            unregister_codec(type_id)


def test_concurrent_roundtrips() -> None:
    value = {"a": [1, (2, 3)], "arr": np.arange(10), "b": bytearray(b"x"), "s": {1, 2}}
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                assert_same(value, roundtrip(value))
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# ------------------------------------------------------------------------------------------
# Serializer objects and public API
# ------------------------------------------------------------------------------------------


def test_formats_and_get_serializer() -> None:
    assert FORMATS == ("json", "msgpack", "legacy-json")
    assert get_serializer().name == "json"
    assert get_serializer("legacy-json").name == "json"  # the 0.5.0 name is an alias
    assert get_serializer() is get_serializer("json")
    assert get_serializer("msgpack").name == "msgpack"
    custom = get_serializer("msgpack", max_depth=10, max_decode_size=1000)
    assert (custom.max_depth, custom.max_decode_size) == (10, 1000)
    assert "max_depth=10" in repr(custom)
    with pytest.raises(ValidationError) as err:
        get_serializer("pickle")
    assert "msgpack" in str(err.value) and "json" in str(err.value)
    with pytest.raises(ValidationError):
        serialize_value(1, format="pickle")


@pytest.mark.parametrize(
    "kwargs",
    [{"max_depth": 0}, {"max_depth": 501}, {"max_depth": 1.5}, {"max_decode_size": 0}],
)
def test_serializer_limits_are_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Serializer("msgpack", **kwargs)


def test_both_serializers_read_both_formats() -> None:
    value = {"a": [1, 2], "b": b"\x00"}
    for writer in FORMATS:
        payload = get_serializer(writer).dumps(value)
        for reader in FORMATS:
            assert get_serializer(reader).loads(payload) == value
    assert get_serializer("legacy-json").dumps(value).startswith(b'{"__type__": "dict"')


def test_public_names_have_docstrings() -> None:
    for name in ser.__all__:
        obj = getattr(ser, name)
        if callable(obj):
            assert obj.__doc__, name
    for name in ("dumps", "loads", "name", "max_depth", "max_decode_size"):
        assert getattr(Serializer, name).__doc__, name


def test_module_never_imports_pickle() -> None:
    files = sorted(Path(ser.__file__).parent.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        source = path.read_text()
        for banned in ("import pickle", "from pickle", "import asyncio", "open(", "socket"):
            assert banned not in source, (path.name, banned)


# ------------------------------------------------------------------------------------------
# Benchmark smoke test (no timing assertions)
# ------------------------------------------------------------------------------------------


def test_benchmark_quick_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_serialization.py"
    spec = importlib.util.spec_from_file_location("bench_serialization_smoke", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "float32 array 256x384" in out and "nested dict" in out
