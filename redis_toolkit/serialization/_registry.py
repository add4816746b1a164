"""The msgpack format's container tags, registry of user codecs (``register_codec``), type scan.

The registry is module state, replaced copy-on-write under a lock so readers never lock: read
``_codecs_by_id``, ``_codecs_by_cls`` and ``_tags_by_code`` through this module (they are
rebound, so a ``from`` import would keep a stale copy).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import threading
import uuid
from collections.abc import Callable
from itertools import islice
from typing import Any, Final

import numpy as np
from msgpack import ExtType

from ..exceptions import SerializationError, ValidationError
from ._common import (
    _BUILTIN_EXT_NAMES,
    _CONTAINERS,
    _REFUSED_PACKABLE,
    _SCALAR_CHARS,
    _SCAN_TYPES,
    _SUPPORTED_TEXT,
    EXT_FROZENSET,
    EXT_SET,
    EXT_TUPLE,
    USER_TYPE_ID_MAX,
    USER_TYPE_ID_MIN,
    _check_collisions,
    _Corrupt,
    _Refused,
    _TooDeep,
    _type_name,
)
from ._ext_types import (
    _enc_bigint,
    _enc_complex,
    _enc_date,
    _enc_datetime,
    _enc_decimal,
    _enc_ndarray,
    _enc_numpy_scalar,
    _enc_time,
    _enc_timedelta,
    _enc_uuid,
)

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
        _check_collisions(islice(items, 1, None), len(items) - 1, "set")
        return set(islice(items, 1, None))


class _FrozensetTag(_Tag):
    __slots__ = ()

    def build(self, items: list[Any], max_depth: int) -> Any:
        _check_collisions(islice(items, 1, None), len(items) - 1, "frozenset")
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


def _unsupported(value: Any) -> _Refused:
    """The msgpack format's refusal of ``value``'s type (message ready for the user)."""
    t = type(value)
    name = _type_name(t)
    base = next((b for b in t.__mro__[1:] if b in _BUILTIN_TYPES and b is not object), None)
    hint = ""
    if base is not None:
        hint = (
            f" {name} is a subclass of {_type_name(base)}; subclasses are refused because "
            f"they would not come back as {name} (convert it first, e.g. "
            f"{_type_name(base)}(value), or register a codec for it)."
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
    raise _unsupported(item)
