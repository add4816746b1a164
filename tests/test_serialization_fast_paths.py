"""The 0.4 JSON format's fast paths give exactly what the plain ``json`` calls give.

``LegacyJsonFormat.dumps`` writes the wrapper's head, the data through an encoder built once and
the closing brace; ``loads`` scans an object with json's C scanner directly and skips the walk for
nested wrappers when the text cannot hold one. Each test here compares them with the plain
calls 0.4 made (``json.dumps`` / ``json.loads`` + the walk), on values and texts built to sit on
the edges: nested byte wrappers, keys spelled with ``\\u`` escapes, nesting at ``max_depth``,
whitespace around the object, and broken JSON.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_toolkit.exceptions import SerializationError
from redis_toolkit.serialization import Serializer
from redis_toolkit.serialization._common import LEGACY_NONE, _Refused, _TooDeep
from redis_toolkit.serialization.legacy_json import LegacyJsonFormat, _legacy_json_default

FMT = LegacyJsonFormat(max_depth=8, max_decode_size=1 << 20)
BUDGET = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_dumps(value: Any) -> bytes:
    """What 0.4 (and this package before the fast path) wrote."""
    return json.dumps(
        {"__type__": type(value).__name__, "__data__": value},
        ensure_ascii=False,
        default=_legacy_json_default,
    ).encode("utf-8")


def reference_loads(fmt: LegacyJsonFormat, buf: bytes) -> Any:
    """json.loads, then the unwrap and the walk, as before the fast path."""
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
        return fmt._unwrap(obj, len(buf))
    return fmt._walk(obj, 0)


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    """A comparable result: the value (NaN made equal to itself) or the error's type."""
    try:
        return ("value", canonical(fn(*args)))
    except (_TooDeep, _Refused) as e:
        return ("error", type(e).__name__)
    except Exception as e:  # the same malformed wrapper must fail the same way
        return ("error", type(e).__name__)


def canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return ("dict", [(canonical(k), canonical(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [canonical(v) for v in value])
    return (type(value).__name__, value)


keys = st.one_of(
    st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.sampled_from(["__type__", "__data__", "bytes", "\\u005f", "{[", "]}"]),
    st.binary(max_size=12),
    st.binary(max_size=12).map(bytearray),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


@BUDGET
@given(values)
def test_dumps_writes_what_json_dumps_wrote(value: Any) -> None:
    if isinstance(value, (bytes, bytearray)) or value is None:
        return  # top-level bytes and None do not take the fast path
    try:
        expected: Any = reference_dumps(value)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError
    try:
        if isinstance(value, (dict, list, tuple)):
            FMT._check(value)
    except _TooDeep:
        with pytest.raises(_TooDeep):
            FMT.dumps(value)
        return
    if expected is UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            FMT.dumps(value)
    else:
        assert FMT.dumps(value) == expected


@BUDGET
@given(values)
def test_loads_reads_what_the_walk_read(value: Any) -> None:
    try:
        payload = reference_dumps(value)
    except UnicodeEncodeError:
        return
    assert outcome(FMT.loads, payload) == outcome(reference_loads, FMT, payload)


# Texts made by hand around the fast path's conditions.
BYTES_B64 = base64.b64encode(b"\x00\xff").decode("ascii")
EDGE_TEXTS = [
    # a nested bytes wrapper, spelled plainly and with \u escapes in its key
    '{"__type__": "dict", "__data__": {"a": {"__type__": "bytes", "__data__": "@B64@"}}}',
    '{"__type__": "dict", "__data__": {"a": {"\\u005f_type__": "bytes", "__data__": "@B64@"}}}',
    '{"__type__": "list", "__data__": [{"__typ\\u0065__": "bytearray", "__data__": "@B64@"}]}',
    # the wrapper's own key escaped
    '{"\\u005f_type__": "dict", "__data__": {"a": 1}}',
    # whitespace around the object; extra data after it
    '  {"__type__": "dict", "__data__": {"a": 1}}',
    '{"__type__": "dict", "__data__": {"a": 1}}  \n',
    '{"__type__": "dict", "__data__": {"a": 1}} x',
    '{"__type__": "dict", "__data__": {"a": 1}}{}',
    # broken JSON that starts like an object
    "{",
    '{"__type__": "dict", "__data__": ',
    '{"__type__": "dict", "__data__": {"a": tru}}',
    "{'a': 1}",
    # wrapper kinds the fast path does not take, and odd data
    '{"__type__": "tuple", "__data__": [1, [2]]}',
    '{"__type__": "dict", "__data__": 5}',
    '{"__type__": "dict"}',
    '{"__type__": ["dict"], "__data__": {}}',
    '{"__type__": "dict", "__data__": {"__type__": "bytes", "__data__": 5}}',
    # brackets in strings (counted, harmless) and nesting around max_depth=8
    '{"__type__": "dict", "__data__": {"s": "[[[[[[[[[[[[{{{{"}}',
    *('{"__type__": "list", "__data__": ' + "[" * n + "]" * n + "}" for n in range(5, 12)),
    *('{"__type__": "dict", "__data__": ' + '{"a": ' * n + "1" + "}" * n + "}" for n in (7, 8, 9)),
    # not a wrapper at all
    '{"a": {"__type__": "bytes", "__data__": "@B64@"}}',
    "[1, 2]",
    '"text"',
    "text",
]


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_loads_edges_match_the_walk(text: str) -> None:
    payload = text.replace("@B64@", BYTES_B64).encode("utf-8")
    assert outcome(FMT.loads, payload) == outcome(reference_loads, FMT, payload)


def test_loads_reads_deep_nesting_as_too_deep_whatever_the_path() -> None:
    deep = '{"__type__": "list", "__data__": ' + "[" * 9 + "]" * 9 + "}"
    with pytest.raises(_TooDeep):
        FMT.loads(deep.encode())
    hostile = "{" + '"a": {' * 100_000 + "}" * 100_001  # deeper than the interpreter's stack
    with pytest.raises(_TooDeep):
        FMT.loads(hostile.encode())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]",:_typedaticbs\\u0 15', max_size=60))
def test_loads_random_texts_match_the_walk(text: str) -> None:
    payload = text.encode("utf-8")
    assert outcome(FMT.loads, payload) == outcome(reference_loads, FMT, payload)


SERIALIZER = Serializer("json", max_depth=8, max_decode_size=300)
MSGPACK = Serializer("msgpack", max_depth=8, max_decode_size=300)


def batch_items() -> st.SearchStrategy[list[Any]]:
    def payloads(value: Any) -> list[Any]:
        out: list[Any] = []
        for write in (reference_dumps, MSGPACK.dumps):
            try:
                out.append(write(value))
            except Exception:
                pass
        return out

    edge = st.sampled_from(EDGE_TEXTS).map(lambda t: t.replace("@B64@", BYTES_B64).encode())
    item = st.one_of(
        values.map(payloads).filter(bool).flatmap(st.sampled_from),
        edge,
        st.binary(max_size=40),
        st.text(min_size=290, max_size=320).map(lambda t: Serializer("msgpack").dumps([t])),
        st.text(min_size=280, max_size=320).map(lambda t: reference_dumps([t])),
        st.sampled_from([None, LEGACY_NONE, b"{", b"{\xff}", bytearray(b'{"a": 1}')]),
    )
    return st.lists(item, max_size=12)


@pytest.mark.parametrize("serializer", [SERIALIZER, MSGPACK], ids=["json", "msgpack"])
@BUDGET
@given(items=batch_items())
def test_batch_decoding_matches_one_value_at_a_time(
    serializer: Serializer, items: list[Any]
) -> None:
    # Either writer's batch reader (each has its own loop) reads every format as loads does.
    one_by_one = [outcome(serializer.loads, item) for item in items]
    if all(kind == "value" for kind, _ in one_by_one):
        assert [canonical(v) for v in serializer._loads_all(items)] == [v for _, v in one_by_one]
    else:
        with pytest.raises(SerializationError):
            serializer._loads_all(items)


def test_batch_decoding_takes_the_fast_loop_for_wrappers() -> None:
    # The loop decodes wrappers itself; every other item goes to the callback (counted here).
    items = [reference_dumps({"a": [1]}), reference_dumps((1, 2)), b"text", None, LEGACY_NONE]
    passed: list[Any] = []

    def loads(data: Any) -> Any:
        passed.append(data)
        return SERIALIZER.loads(data)

    got = SERIALIZER._legacy.loads_many(items, loads, 1 << 20)
    assert got == [{"a": [1]}, (1, 2), "text", None, None]
    assert passed == [b"text", None, LEGACY_NONE]


dict_values = st.dictionaries(keys, values, max_size=4)


@BUDGET
@given(st.lists(st.one_of(dict_values, values), max_size=6))
def test_a_batch_is_written_as_one_value_at_a_time(batch: list[Any]) -> None:
    one_by_one = [outcome(FMT.dumps, value) for value in batch]
    if all(kind == "value" for kind, _ in one_by_one):
        assert FMT.dumps_many(batch) == [FMT.dumps(value) for value in batch]
    else:  # some error (not always the first value's: the batch checks every dict first)
        assert outcome(FMT.dumps_many, batch)[0] == "error"


@pytest.mark.parametrize(
    "batch",
    [
        [{}, {}],
        [{"a": "}, {"}, {"b": 1}],  # the cut's pattern inside a string: one at a time
        [{"a": [{"x": 1}, {"y": 2}]}, {}],  # ... inside a nested list of dicts
        [{"é": "ü"}, {"b": b"\x00}, {"}],
        [{"a": 1}, [1], {"b": 2}],
        [{"a": 1}],
    ],
)
def test_batch_edges_are_written_as_one_value_at_a_time(batch: list[Any]) -> None:
    assert FMT.dumps_many(batch) == [FMT.dumps(value) for value in batch]
