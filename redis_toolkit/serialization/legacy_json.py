"""The 0.4 JSON format (``serializer="json"``, alias ``"legacy-json"``): what redis-toolkit 0.4
wrote, byte for byte, so 0.4 readers keep working while a fleet upgrades.

``None`` is ``b"__NONE__"``; everything else is UTF-8 JSON ``{"__type__": T, "__data__": D}``
(bytes as base64, numpy arrays at the top level as nested lists). Lossy in the ways 0.4 was
(tuples nested in containers become lists, dict keys become strings); types 0.4 could not
store are refused. Reading follows 0.4's rules for everything without the msgpack marker.

This module holds everything about that format so that a future major version can delete it.
"""

from __future__ import annotations

import base64
import json
import json.encoder
from collections.abc import Callable, Iterable
from typing import Any, Final

import numpy as np

from ._common import (
    _LEGACY_ARRAY_KINDS_READ,
    _LEGACY_ARRAY_KINDS_WRITE,
    _LEGACY_CONTAINERS,
    _LEGACY_DTYPE_RE,
    _LEGACY_KEYS,
    _LEGACY_LEAVES,
    _LEGACY_SUPPORTED_TEXT,
    LEGACY_NONE,
    _check_dtype,
    _check_shape,
    _Corrupt,
    _Refused,
    _TooDeep,
    _type_name,
)
from ._registry import _ENCODERS, _scan

_SWITCH: Final = (
    'serializer="msgpack" stores {what} exactly (RedisOptions(serializer="msgpack") or '
    'serialize_value(value, format="msgpack")); switch to it once every reader runs '
    "redis-toolkit 0.5 (docs/SERIALIZATION.md)"
)
_LEGACY_BASES: Final = (bool, int, float, str, bytes, bytearray, list, tuple, dict, np.ndarray)
# json.loads's C scanner (shared as json.loads shares its default decoder's).
_scan_once: Final = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _refuse(value: Any) -> _Refused:
    """The 0.4 format's refusal of ``value``'s type, naming it and the msgpack alternative."""
    t = type(value)
    name = _type_name(t)
    head = (
        f'cannot serialize {name} with the default serializer "json" (redis-toolkit 0.4\'s '
        f"format, which 0.4 readers understand; it holds only {_LEGACY_SUPPORTED_TEXT})."
    )
    if t in _ENCODERS:
        return _Refused(f"{head} {_SWITCH.format(what=name)}.")
    base = next((b for b in _LEGACY_BASES if issubclass(t, b)), None)
    if base is not None:
        return _Refused(
            f"{head} {name} is a subclass of {_type_name(base)}: convert it first "
            f"({_type_name(base)}(value)) so that it does not come back as another type, or "
            'use serializer="msgpack" with a codec for it (register_codec).'
        )
    return _Refused(
        f'{head} Convert it to one of those types, or use serializer="msgpack" and teach it '
        "the type with redis_toolkit.serialization.register_codec(cls, type_id, encode, decode)."
    )


class LegacyJsonFormat:
    """Writer and reader of the 0.4 JSON format within the given limits (immutable)."""

    __slots__ = ("_max_depth", "_max_decode_size")

    def __init__(self, max_depth: int, max_decode_size: int) -> None:
        self._max_depth = max_depth
        self._max_decode_size = max_decode_size

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` as 0.4 did (internal errors: _Refused, _TooDeep)."""
        # Mirrors redis-toolkit 0.4's serialize_value byte for byte, refusing what it could
        # not represent (and subclasses, which it mislabelled). 0.4 wrote
        # json.dumps({"__type__": T, "__data__": D}, ensure_ascii=False): the same bytes are the
        # wrapper's fixed head, D through the same (prebuilt) encoder, and the closing brace.
        if value is None:
            return LEGACY_NONE
        t = type(value)
        head = _HEADS.get(t)
        if head is not None:
            if t is dict or t is list or t is tuple:
                self._check(value)
            return head + _encode(value).encode("utf-8") + b"}"
        if t is bytes or t is bytearray:
            payload: dict[str, Any] = {
                "__type__": "bytes",
                "__data__": base64.b64encode(value).decode("ascii"),
            }
        elif t is np.ndarray:
            _check_legacy_array_dtype(value.dtype)
            payload = {
                "__type__": "numpy",
                "__dtype__": str(value.dtype),
                "__shape__": value.shape,
                "__data__": value.tolist(),
            }
        else:
            raise _refuse(value)
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def dumps_many(self, values: list[Any]) -> list[bytes]:
        """``[self.dumps(v) for v in values]``, faster for a batch of dicts (the usual batch).

        Each dict is checked as :meth:`dumps` checks it; then the whole list goes through the
        encoder in one call and the text is cut between the dicts. Every two neighbours are
        joined by ``}, {``, a pattern that cannot overlap itself, so the cut is exact when the
        text holds it exactly ``len(values) - 1`` times; one more (inside a string) means
        encoding one at a time. Raises what :meth:`dumps` raises for one of the values, not
        always the first bad one (every dict is checked before any is encoded): to name it,
        encode them one at a time.
        """
        if len(values) < 2 or set(map(type, values)) != {dict}:
            return [self.dumps(value) for value in values]
        check = self._check
        for value in values:
            check(value)
        text = _encode(values).encode("utf-8")  # [{...}, {...}, ...]
        parts = text[2:-2].split(b"}, {")
        if len(parts) != len(values):
            return [self.dumps(value) for value in values]
        head = _HEADS[dict] + b"{"
        return [head + part + b"}}" for part in parts]

    def _check(self, obj: Any, depth: int = 1) -> None:
        # Exact types only: json.dumps would silently write subclasses as their base type.
        if depth > self._max_depth:
            raise _TooDeep(f"nested deeper than max_depth={self._max_depth}")
        if type(obj) is dict:
            for key in obj:
                if type(key) not in _LEGACY_KEYS:
                    raise _Refused(
                        f"cannot serialize a dict key of type {_type_name(type(key))} with "
                        'the default serializer "json" (0.4\'s format: JSON keys are str, '
                        "int, float, bool or None). "
                        + _SWITCH.format(what=f"{_type_name(type(key))} keys")
                    )
            items: Iterable[Any] = obj.values()
        else:
            items = obj
        for item in items:
            t = type(item)
            if t in _LEGACY_LEAVES:
                continue
            if t in _LEGACY_CONTAINERS:
                self._check(item, depth + 1)
            elif t is np.ndarray:
                raise _Refused(
                    "cannot serialize a numpy.ndarray nested in a container with the default "
                    'serializer "json" (0.4\'s format stores arrays only at the top level). '
                    + _SWITCH.format(what="nested arrays (as raw buffers)")
                )
            else:
                raise _refuse(item)

    def loads(self, buf: bytes | bytearray) -> Any:
        """Decode a payload without the msgpack marker by 0.4's rules."""
        # redis-toolkit 0.4's deserialize_value rules, with its errors turned into
        # SerializationError and its 0/1 -> bool bug fixed.
        if buf == LEGACY_NONE:
            return None
        try:
            text = buf.decode("utf-8")
        except UnicodeDecodeError:
            return bytes(buf)
        try:
            if text[:1] == "{":
                # What json.loads(text) does for a text that starts with an object, without its
                # per-call layers: the same C scanner (trailing whitespace takes the long way).
                obj, end = _scan_once(text, 0)
                if end != len(text):
                    obj = json.loads(text)
            else:
                obj = json.loads(text)
        except RecursionError as e:
            raise _TooDeep("JSON nested too deeply") from e
        except (ValueError, StopIteration):
            return text
        return self._value_of(obj, text, len(buf))

    def _value_of(self, obj: Any, text: str, size: int) -> Any:
        # The value of what json.loads made of ``text`` (``size`` bytes), by 0.4's rules.
        if type(obj) is dict and "__type__" in obj:
            kind = obj["__type__"]
            if (kind == "dict" or kind == "list") and self._plain(text):
                return obj.get("__data__")
            return self._unwrap(obj, size)
        return self._walk(obj, 0)

    def _plain(self, text: str) -> bool:
        # True when _walk would find nothing to do in the wrapper's data: no other "__type__"
        # key (none can hide behind a \u escape either) and too few brackets, in strings or
        # not, to nest deeper than max_depth (data nested max_depth + 1 deep, in the wrapper,
        # takes max_depth + 2 pairs of brackets). False only means "walk it".
        return (
            text.count("__type__") == 1
            and "\\u" not in text
            and (
                len(text) < 2 * self._max_depth + 4
                or text.count("{") + text.count("[") <= self._max_depth + 1
            )
        )

    def loads_many(self, items: list[Any], loads: Callable[[Any], Any], limit: int) -> list[Any]:
        """``[loads(item) for item in items]``, faster for the common item.

        The common item, a JSON object (a 0.4 wrapper) within ``limit`` bytes, is decoded here as
        :meth:`loads` decodes it; every other item, and every item whose decoding fails, goes
        to ``loads`` (the serializer's, which reads every format and raises the error that item
        raises alone).
        """
        out: list[Any] = []
        append = out.append
        scan = _scan_once
        for data in items:
            if type(data) is bytes and data[:1] == b"{" and len(data) <= limit:
                try:
                    text = data.decode("utf-8")
                    obj, end = scan(text, 0)
                    if end == len(text):
                        append(self._value_of(obj, text, len(data)))
                        continue
                except Exception:
                    pass
            append(loads(data))
        return out

    def _unwrap(self, obj: dict[str, Any], size: int) -> Any:
        kind = obj["__type__"]
        data = obj.get("__data__")
        if kind == "list" or kind == "dict":
            return self._walk(data, 0)
        if kind == "tuple":
            return tuple(self._walk(data, 0))
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
        if kind == "numpy":
            return self._array(obj, size)
        # Unknown wrapper type: 0.4 returned the data as it was.
        if type(data) is list or type(data) is dict:
            _scan(data, self._max_depth)
        return data

    def _walk(self, obj: Any, depth: int) -> Any:
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
            # In place (json.loads made these objects for us alone): the decoded value never
            # exists twice, so memory stays what json.loads needed.
            for k, v in obj.items():
                if type(v) is dict or type(v) is list:
                    obj[k] = self._walk(v, depth)
            return obj
        if t is list:
            depth += 1
            if depth > self._max_depth:
                raise _TooDeep(f"nested deeper than max_depth={self._max_depth}")
            for i, v in enumerate(obj):
                if type(v) is dict or type(v) is list:
                    obj[i] = self._walk(v, depth)
            return obj
        return obj

    def _array(self, obj: dict[str, Any], size: int) -> np.ndarray[Any, Any]:
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
        count = _check_shape(shape, "numpy")
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
            f"cannot serialize a numpy.ndarray of dtype {dt!s} with the default serializer "
            '"json" (0.4\'s format holds bool, int, uint, float, str and '
            "datetime64[ns]/timedelta64[ns] arrays). " + _SWITCH.format(what=f"{dt!s} arrays")
        ) from None


def _legacy_json_default(obj: Any) -> Any:
    # 0.4's BytesAwareJSONEncoder.default, key order included.
    if type(obj) is bytes:
        return {"__type__": "bytes", "__data__": base64.b64encode(obj).decode("ascii")}
    if type(obj) is bytearray:
        return {"__type__": "bytearray", "__data__": base64.b64encode(obj).decode("ascii")}
    raise _refuse(obj)


def _make_encoder() -> Callable[[Any], str]:
    """json.dumps(obj, ensure_ascii=False, default=_legacy_json_default), built once.

    json.dumps builds a JSONEncoder and a C encoder per call; this builds them once, with the
    same separators, escaping, float format and default hook, so the text is the same. The
    circular-reference check is off: ``_check`` has already walked the value, and a cycle is
    deeper than ``max_depth``.
    """
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # an interpreter without the C accelerator
        encoder = json.JSONEncoder(
            ensure_ascii=False, check_circular=False, default=_legacy_json_default
        )
        return encoder.encode
    make_chunks = c_make_encoder(
        None,  # markers: no circular check
        _legacy_json_default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        None,  # indent
        ": ",
        ", ",
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    join = "".join

    def encode(obj: Any) -> str:
        return join(make_chunks(obj, 0))

    return encode


_encode: Final = _make_encoder()
# '{"__type__": T, "__data__": ' for the types whose 0.4 payload is that wrapper around plain JSON.
_HEADS: Final = {
    t: b'{"__type__": "' + t.__name__.encode("ascii") + b'", "__data__": '
    for t in (bool, int, float, str, dict, list, tuple)
}
