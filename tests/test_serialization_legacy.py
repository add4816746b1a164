"""Golden tests of the redis-toolkit 0.4 wire format: reading it, and writing it byte for byte.

Every byte literal below is what redis-toolkit 0.4.0 wrote (or what other clients write to
Redis), spelled out by hand. ``WRITE`` marks the value the legacy writer is given to reproduce
the literal exactly; ``READ`` is what decoding must return (0.4's result, except its bug that
turned ints 0 and 1 into bools).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import math
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from redis_toolkit.exceptions import SerializationError
from redis_toolkit.serialization import (
    LEGACY_NONE,
    deserialize_value,
    get_serializer,
    serialize_value,
)

NO_WRITE = object()  # the literal was not written by 0.4 (raw data from other clients)


def same(a: Any, b: Any) -> bool:
    """Equality with identical types, NaN-aware, arrays by dtype, shape and values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


# (literal, value read back, value written to reproduce it)
GOLDEN: list[tuple[str, bytes, Any, Any]] = [
    ("none", b"__NONE__", None, None),
    ("bool-true", b'{"__type__": "bool", "__data__": true}', True, True),
    ("bool-false", b'{"__type__": "bool", "__data__": false}', False, False),
    ("int-0", b'{"__type__": "int", "__data__": 0}', 0, 0),
    ("int-1", b'{"__type__": "int", "__data__": 1}', 1, 1),
    ("int-42", b'{"__type__": "int", "__data__": 42}', 42, 42),
    ("int-neg", b'{"__type__": "int", "__data__": -7}', -7, -7),
    (
        "int-big",
        b'{"__type__": "int", "__data__": 1180591620717411303424}',
        2**70,
        2**70,
    ),
    ("float", b'{"__type__": "float", "__data__": 1.5}', 1.5, 1.5),
    ("float-nan", b'{"__type__": "float", "__data__": NaN}', math.nan, math.nan),
    ("float-inf", b'{"__type__": "float", "__data__": Infinity}', math.inf, math.inf),
    ("float-neg-zero", b'{"__type__": "float", "__data__": -0.0}', -0.0, -0.0),
    (
        "str-non-ascii",
        b'{"__type__": "str", "__data__": '
        b'"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80"}',
        "h\u00e9llo w\u00f6rld \u2713 \U0001f600",
        "h\u00e9llo w\u00f6rld \u2713 \U0001f600",
    ),
    ("str-empty", b'{"__type__": "str", "__data__": ""}', "", ""),
    ("str-nul", b'{"__type__": "str", "__data__": "a\\u0000b"}', "a\x00b", "a\x00b"),
    ("bytes", b'{"__type__": "bytes", "__data__": "AP9hYg=="}', b"\x00\xffab", b"\x00\xffab"),
    ("bytes-empty", b'{"__type__": "bytes", "__data__": ""}', b"", b""),
    # 0.4 wrote a top-level bytearray as type "bytes" and read it back as bytes
    ("bytearray-top", b'{"__type__": "bytes", "__data__": "eHk="}', b"xy", bytearray(b"xy")),
    (
        "dict-nested-bytes",
        b'{"__type__": "dict", "__data__": {"a": 1, "b": [1, 2.5, null, true], "c": {"d": '
        b'{"__type__": "bytes", "__data__": "aGk="}, "e": {"__type__": "bytearray", '
        b'"__data__": "AQ=="}}}}',
        {"a": 1, "b": [1, 2.5, None, True], "c": {"d": b"hi", "e": bytearray(b"\x01")}},
        {"a": 1, "b": [1, 2.5, None, True], "c": {"d": b"hi", "e": bytearray(b"\x01")}},
    ),
    (
        "dict-bytes-in-list",
        b'{"__type__": "dict", "__data__": {"k": [{"__type__": "bytes", "__data__": "aGk="}]}}',
        {"k": [b"hi"]},
        {"k": [b"hi"]},
    ),
    ("dict-empty-nested", b'{"__type__": "dict", "__data__": {"": {}}}', {"": {}}, {"": {}}),
    (
        "dict-non-str-keys",  # 0.4 bug kept by the format: keys come back as strings
        b'{"__type__": "dict", "__data__": {"1": "b", "2.5": "f", "null": "n"}}',
        {"1": "b", "2.5": "f", "null": "n"},
        {1: "b", 2.5: "f", None: "n"},
    ),
    (
        "list",  # 0.4 bug kept by the format: nested tuples come back as lists
        b'{"__type__": "list", "__data__": [1, "two", [3, [4, 5]], {"k": {"__type__": "bytes", '
        b'"__data__": ""}}]}',
        [1, "two", [3, [4, 5]], {"k": b""}],
        [1, "two", [3, (4, 5)], {"k": b""}],
    ),
    (
        "list-non-ascii",
        b'{"__type__": "list", "__data__": ["\xc3\xa9", "\\u0000", "\xf0\x9f\x98\x80"]}',
        ["\u00e9", "\x00", "\U0001f600"],
        ["\u00e9", "\x00", "\U0001f600"],
    ),
    ("list-empty", b'{"__type__": "list", "__data__": []}', [], []),
    (
        "tuple",
        b'{"__type__": "tuple", "__data__": [1, "a", [2, 3], [{"__type__": "bytes", '
        b'"__data__": "eg=="}]]}',
        (1, "a", [2, 3], [b"z"]),
        (1, "a", (2, 3), [b"z"]),
    ),
    (
        "tuple-bytearray",
        b'{"__type__": "tuple", "__data__": [{"__type__": "bytearray", "__data__": "AAE="}]}',
        (bytearray(b"\x00\x01"),),
        (bytearray(b"\x00\x01"),),
    ),
    (
        "numpy-float32-2d",
        b'{"__type__": "numpy", "__dtype__": "float32", "__shape__": [2, 2], '
        b'"__data__": [[1.5, 2.0], [3.25, -4.0]]}',
        np.array([[1.5, 2.0], [3.25, -4.0]], dtype=np.float32),
        np.array([[1.5, 2.0], [3.25, -4.0]], dtype=np.float32),
    ),
    (
        "numpy-int64-2d",
        b'{"__type__": "numpy", "__dtype__": "int64", "__shape__": [2, 3], '
        b'"__data__": [[0, 1, 2], [3, 4, 5]]}',
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.arange(6, dtype=np.int64).reshape(2, 3),
    ),
    (
        "numpy-0d",
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [], "__data__": 3.5}',
        np.array(3.5),
        np.array(3.5),
    ),
    (
        "numpy-empty",
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [0, 3], "__data__": []}',
        np.zeros((0, 3)),
        np.zeros((0, 3)),
    ),
    (
        "numpy-bool",
        b'{"__type__": "numpy", "__dtype__": "bool", "__shape__": [2], "__data__": [true, false]}',
        np.array([True, False]),
        np.array([True, False]),
    ),
    (
        "numpy-float16",
        b'{"__type__": "numpy", "__dtype__": "float16", "__shape__": [2], "__data__": [1.5, -2.0]}',
        np.array([1.5, -2.0], dtype=np.float16),
        np.array([1.5, -2.0], dtype=np.float16),
    ),
    (
        "numpy-uint8",
        b'{"__type__": "numpy", "__dtype__": "uint8", "__shape__": [1, 2], "__data__": [[1, 255]]}',
        np.array([[1, 255]], dtype=np.uint8),
        np.array([[1, 255]], dtype=np.uint8),
    ),
    (
        "numpy-nan",
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [2], '
        b'"__data__": [NaN, Infinity]}',
        np.array([np.nan, np.inf]),
        np.array([np.nan, np.inf]),
    ),
    (
        "numpy-str",
        b'{"__type__": "numpy", "__dtype__": "<U2", "__shape__": [2], "__data__": ["ab", "c"]}',
        np.array(["ab", "c"]),
        np.array(["ab", "c"]),
    ),
    (
        "numpy-datetime64-ns",
        b'{"__type__": "numpy", "__dtype__": "datetime64[ns]", "__shape__": [1], '
        b'"__data__": [1577836800000000000]}',
        np.array(["2020-01-01T00:00:00"], dtype="datetime64[ns]"),
        np.array(["2020-01-01T00:00:00"], dtype="datetime64[ns]"),
    ),
    # Literals 0.4 never wrote itself but read: data of an unknown wrapper type is returned
    ("unknown-type", b'{"__type__": "weird", "__data__": [1]}', [1], NO_WRITE),
    ("unknown-type-no-data", b'{"__type__": "weird"}', None, NO_WRITE),
    ("bool-from-string", b'{"__type__": "bool", "__data__": "no"}', True, NO_WRITE),
    ("int-from-string", b'{"__type__": "int", "__data__": "12"}', 12, NO_WRITE),
    ("float-from-string", b'{"__type__": "float", "__data__": "nan"}', math.nan, NO_WRITE),
    # Raw values written by other clients
    ("raw-text", b"hello world", "hello world", NO_WRITE),
    ("raw-text-non-ascii", b"caf\xc3\xa9", "caf\u00e9", NO_WRITE),
    ("raw-empty", b"", "", NO_WRITE),
    ("incr-counter", b"42", 42, NO_WRITE),
    ("incr-counter-0", b"0", 0, NO_WRITE),
    ("incr-counter-1", b"1", 1, NO_WRITE),
    ("incr-counter-negative", b"-5", -5, NO_WRITE),
    ("incrbyfloat", b"3.14", 3.14, NO_WRITE),
    ("json-padded-int", b"  42 ", 42, NO_WRITE),
    ("json-object", b'{"a": 1, "b": [true, null]}', {"a": 1, "b": [True, None]}, NO_WRITE),
    ("json-array", b"[1, 2]", [1, 2], NO_WRITE),
    ("json-string", b'"str"', "str", NO_WRITE),
    ("json-true", b"true", True, NO_WRITE),
    ("json-null", b"null", None, NO_WRITE),
    ("json-nan", b"NaN", math.nan, NO_WRITE),
    (
        "json-nested-marker",
        b'{"x": {"__type__": "bytearray", "__data__": "AQI="}}',
        {"x": bytearray(b"\x01\x02")},
        NO_WRITE,
    ),
    ("json-bom", b"\xef\xbb\xbf{}", "\ufeff{}", NO_WRITE),
    ("json-int-too-long", b"1" * 5000, "1" * 5000, NO_WRITE),
    ("non-utf8", b"\xff\xfe\x00\x01", b"\xff\xfe\x00\x01", NO_WRITE),
    ("non-utf8-c1", b"\xc1\x00", b"\xc1\x00", NO_WRITE),
]


@pytest.mark.parametrize(
    ("literal", "expected"), [(g[1], g[2]) for g in GOLDEN], ids=[g[0] for g in GOLDEN]
)
def test_golden_literals_decode(literal: bytes, expected: Any) -> None:
    for data in (literal, bytearray(literal), memoryview(literal)):
        got = deserialize_value(data)
        assert same(expected, got), f"{got!r} != {expected!r}"
        assert same(expected, get_serializer("legacy-json").loads(data))


WRITABLE = [g for g in GOLDEN if g[3] is not NO_WRITE]


@pytest.mark.parametrize(
    ("literal", "value"), [(g[1], g[3]) for g in WRITABLE], ids=[g[0] for g in WRITABLE]
)
def test_legacy_writer_reproduces_golden_bytes(literal: bytes, value: Any) -> None:
    assert serialize_value(value, format="legacy-json") == literal
    assert get_serializer("legacy-json").dumps(value) == literal


def test_legacy_none_constant() -> None:
    assert LEGACY_NONE == b"__NONE__"
    assert deserialize_value(b"__NONE__") is None


def test_int_zero_and_one_are_ints_not_bools() -> None:
    # 0.4 returned False/True here (a bug users hit)
    for literal, expected in ((b'{"__type__": "int", "__data__": 0}', 0), (b"1", 1)):
        got = deserialize_value(literal)
        assert type(got) is int and got == expected
    assert type(deserialize_value(0)) is int and type(deserialize_value(1)) is int


def test_legacy_written_none_reads_back_as_none() -> None:
    assert serialize_value(None, format="legacy-json") == b"__NONE__"


def test_json_is_the_default_writer() -> None:
    from redis_toolkit import RedisOptions

    value = {"a": 1, "b": [1.5, "x", None, b"\x00"]}
    expected = serialize_value(value, format="legacy-json")
    assert expected.startswith(b'{"__type__": "dict"')
    assert serialize_value(value) == expected
    assert serialize_value(value, format="json") == expected
    assert get_serializer().dumps(value) == expected
    assert RedisOptions().serializer == "json"
    assert RedisOptions(serializer="legacy-json").serializer == "legacy-json"  # alias accepted
    assert serialize_value(value, format="msgpack").startswith(b"\xc1RT")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 5, 1, 12, 0),
        dt.date(2024, 5, 1),
        dt.time(1, 2),
        dt.timedelta(seconds=3),
        {1, 2},
        frozenset({1}),
        Decimal("1.10"),
        uuid.UUID(int=7),
        1 + 2j,
        np.float32(1.5),
        [np.zeros(2)],
        {"k": dt.datetime(2024, 5, 1)},
        np.array([1j]),
    ],
    ids=repr,
)
def test_default_writer_refusal_names_the_type_and_msgpack(value: Any) -> None:
    with pytest.raises(SerializationError) as err:
        serialize_value(value)
    message = str(err.value)
    assert 'serializer="msgpack" stores' in message
    assert "subclass" not in message  # a datetime is not reported as a subclass of date
    leaf = value[0] if type(value) is list else value
    if type(value) is dict:
        leaf = value["k"]
    name = type(leaf).__name__
    assert name in message or "ndarray" in message
    back = deserialize_value(serialize_value(value, format="msgpack"))
    if type(value) is not list and type(leaf) is not np.ndarray:
        assert back == value


# ------------------------------------------------------------------------------------------
# The legacy writer against a restatement of 0.4's serializer, on random values
# ------------------------------------------------------------------------------------------


def _bytes_default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray)):
        name = "bytes" if isinstance(obj, bytes) else "bytearray"
        return {"__type__": name, "__data__": base64.b64encode(obj).decode("ascii")}
    raise TypeError(type(obj).__name__)


def reference_04(value: Any) -> bytes:
    """What 0.4's serialize_value returned, restated from its documented behaviour."""
    if value is None:
        return b"__NONE__"
    if isinstance(value, (bytes, bytearray)):
        value = {"__type__": "bytes", "__data__": base64.b64encode(value).decode("ascii")}
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    wrapper = {"__type__": type(value).__name__, "__data__": value}
    return json.dumps(wrapper, ensure_ascii=False, default=_bytes_default).encode("utf-8")


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    st.binary(),
    st.binary().map(bytearray),
)
json_values = st.recursive(
    json_leaves,
    lambda c: st.one_of(
        st.lists(c, max_size=4),
        st.lists(c, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), c, max_size=4),
    ),
    max_leaves=15,
)


def _as_04_reads(value: Any) -> Any:
    """What 0.4 returned after a round trip: nested tuples came back as lists."""
    if isinstance(value, tuple):
        return [_as_04_reads(v) for v in value]
    if isinstance(value, list):
        return [_as_04_reads(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_04_reads(v) for k, v in value.items()}
    return value


@given(json_values)
def test_legacy_writer_matches_04_on_random_values(value: Any) -> None:
    payload = serialize_value(value, format="legacy-json")
    assert payload == reference_04(value)
    back = deserialize_value(payload)
    if isinstance(value, bytearray):
        expected: Any = bytes(value)
    elif isinstance(value, tuple):
        expected = tuple(_as_04_reads(v) for v in value)
    else:
        expected = _as_04_reads(value)
    assert same(expected, back)


# ------------------------------------------------------------------------------------------
# What the legacy writer refuses
# ------------------------------------------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({1, 2}, "set"),
        (dt.date(2020, 1, 1), "datetime.date"),
        (1 + 2j, "complex"),
        (Color.RED, "Color"),
        (OrderedDict(a=1), "OrderedDict"),
        ([Color.RED], "Color"),
        ({"k": {1, 2}}, "set"),
        ([np.zeros(2)], "top level"),
        ({(1, 2): "tuple key"}, "dict key of type tuple"),
        ({b"k": 1}, "dict key of type bytes"),
        (np.array([1j]), "dtype complex128"),
        (np.array([object()], dtype=object), "dtype object"),
        (np.float64(1.5), "numpy.float64"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "date"),
    ],
)
def test_legacy_writer_refuses_what_04_could_not_hold(value: Any, match: str) -> None:
    with pytest.raises(SerializationError, match=match) as err:
        serialize_value(value, format="legacy-json")
    assert err.value.original_exception is not None


def test_legacy_writer_depth_and_cycles() -> None:
    lst: list[Any] = []
    lst.append(lst)
    with pytest.raises(SerializationError, match="max_depth"):
        serialize_value(lst, format="legacy-json")
    deep: Any = 0
    for _ in range(65):
        deep = [deep]
    with pytest.raises(SerializationError, match="max_depth"):
        serialize_value(deep, format="legacy-json")


def test_legacy_writer_lone_surrogate() -> None:
    with pytest.raises(SerializationError):
        serialize_value("\ud800", format="legacy-json")


# ------------------------------------------------------------------------------------------
# Malformed or hostile 0.4-shaped data
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal",
    [
        # numpy wrappers: absurd shapes, bad dtypes, data not matching the shape
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [1000000000, 1000000000], '
        b'"__data__": []}',
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [-1], "__data__": [1, 2]}',
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [3], "__data__": [1, 2]}',
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [2, 2], '
        b'"__data__": [[1, 2], [3]]}',
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": "2", "__data__": [1, 2]}',
        b'{"__type__": "numpy", "__dtype__": "f4,f4", "__shape__": [1], "__data__": [1]}',
        b'{"__type__": "numpy", "__dtype__": "(99999999,)f8", "__shape__": [1], "__data__": [1]}',
        b'{"__type__": "numpy", "__dtype__": "<U999999999", "__shape__": [3], '
        b'"__data__": ["a", "b", "c"]}',
        b'{"__type__": "numpy", "__dtype__": "<U99999", "__shape__": [1], '
        b'"__data__": ["a", "b", "c", "d"]}',
        b'{"__type__": "numpy", "__dtype__": "no such type", "__shape__": [1], "__data__": [1]}',
        b'{"__type__": "numpy", "__dtype__": 5, "__shape__": [1], "__data__": [1]}',
        b'{"__type__": "numpy", "__dtype__": "int8", "__shape__": [1], "__data__": [1000]}',
        b'{"__type__": "numpy", "__dtype__": "float64", "__shape__": [1], "__data__": [{}]}',
        b'{"__type__": "numpy", "__shape__": [1], "__data__": [1]}',
        # wrappers with data of the wrong kind
        b'{"__type__": "bytes", "__data__": 5}',
        b'{"__type__": "bytes", "__data__": "abc"}',
        b'{"__type__": "bytes", "__data__": "\xc3\xa9"}',
        b'{"__type__": "bytearray"}',
        b'{"__type__": "int", "__data__": "x"}',
        b'{"__type__": "int", "__data__": null}',
        b'{"__type__": "int", "__data__": Infinity}',
        b'{"__type__": "float", "__data__": [1]}',
        b'{"__type__": "tuple", "__data__": null}',
        b'{"__type__": "dict", "__data__": {"k": {"__type__": "bytes", "__data__": null}}}',
        b'[{"__type__": "bytes", "__data__": "a"}]',
        # nesting beyond max_depth (0.4 crashed with RecursionError on the deepest ones)
        b"[" * 65 + b"]" * 65,
        b'{"__type__": "list", "__data__": ' + b"[" * 65 + b"]" * 65 + b"}",
        b'{"__type__": "weird", "__data__": ' + b"[" * 65 + b"]" * 65 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ],
)
def test_hostile_legacy_payloads_raise_serialization_error(literal: bytes) -> None:
    with pytest.raises(SerializationError) as err:
        deserialize_value(literal)
    assert err.value.original_exception is not None


def test_legacy_depth_limit_is_exact() -> None:
    ok = b"[" * 64 + b"]" * 64
    value = deserialize_value(ok)
    for _ in range(63):
        value = value[0]
    assert value == []
    custom = get_serializer(max_depth=500)
    assert isinstance(custom.loads(b"[" * 300 + b"]" * 300), list)


def test_object_arrays_0_4_stored_read_back() -> None:
    raw = b'{"__type__": "numpy", "__dtype__": "object", "__shape__": [2], "__data__": [1, "a"]}'
    value = deserialize_value(raw)
    assert value.dtype == object and value.tolist() == [1, "a"]
    lie = b'{"__type__": "numpy", "__dtype__": "object", "__shape__": [5], "__data__": [1, "a"]}'
    with pytest.raises(SerializationError, match="shape"):
        deserialize_value(lie)
