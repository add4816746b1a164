"""The typed msgpack format (``serializer="msgpack"``): exact types, compact, fast.

``MARKER`` (``b"\\xc1RT\\x01"``) followed by one msgpack object. Types msgpack lacks are
extension types (ids 1-14, see ``EXT_*`` and :mod:`._ext_types`); tuples, sets, frozensets and
registered codecs are msgpack arrays whose first element is an empty extension "tag"
(:mod:`._registry`). 0xC1 is never used by msgpack and never starts valid UTF-8, so the marker
cannot be confused with 0.4 JSON or with text written by other clients.
"""

from __future__ import annotations

from typing import Any, Final

import msgpack
from msgpack import ExtType

from ..exceptions import SerializationError
from . import _registry
from ._common import (
    _BYTE_BOUND_LIMIT,
    _CONTAINERS,
    _INT64_MIN,
    _REFUSED_PACKABLE,
    _UINT64_MAX,
    CONTAINER_ALLOWANCE,
    CONTAINER_BYTES,
    EXT_BYTEARRAY,
    EXT_DATE,
    EXT_DATETIME,
    EXT_NDARRAY,
    EXT_SET,
    EXT_TIME,
    EXT_TIMEDELTA,
    MARKER,
    MAX_HASH_COLLISIONS,
    USER_TYPE_ID_MAX,
    USER_TYPE_ID_MIN,
    _check_collisions,
    _container_budget,
    _container_header_count,
    _Corrupt,
    _type_name,
)
from ._ext_types import _LEAF_DECODERS, _enc_bigint, _packb_plain
from ._registry import _ENCODERS, _Codec, _scan, _Tag, _unsupported


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


def _ext_hook_leaves(code: int, data: bytes) -> Any:
    """ext_hook for payloads without tags (the common case)."""
    decoder = _LEAF_DECODERS.get(code)
    if decoder is None:
        raise _unknown_ext(code)
    return decoder(data)


def _unknown_ext(code: int) -> _Corrupt:
    if code in _registry._tags_by_code:
        return _Corrupt(f"misplaced container tag (extension type id {code})")
    if USER_TYPE_ID_MIN <= code <= USER_TYPE_ID_MAX:
        return _Corrupt(
            f"unknown extension type id {code}: register its codec with register_codec() "
            "before reading"
        )
    return _Corrupt(f"unknown extension type id {code}")


class MsgpackFormat:
    """Writer and reader of the msgpack format within one ``max_depth`` (immutable)."""

    __slots__ = ("_max_depth", "_default")

    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        self._default = self._encode_other

    # ---------------------------------------------------------------- writing

    def _encode_other(self, obj: Any) -> Any:
        """msgpack ``default`` hook: everything msgpack does not pack natively comes here."""
        t = type(obj)
        encoder = _ENCODERS.get(t)
        if encoder is not None:
            return encoder(obj)
        codec = _registry._codecs_by_cls.get(t)
        if codec is not None:
            return [codec.tag, self._encode_codec(codec, obj)]
        raise _unsupported(obj)

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
            raise _unsupported(out)
        if t in _CONTAINERS and _scan(out, self._max_depth):
            return _convert(out, False)
        return out

    def _pack(self, value: Any) -> bytes:
        return msgpack.packb(  # type: ignore[no-any-return]
            value, default=self._default, use_bin_type=True, strict_types=True
        )

    def dumps(self, value: Any) -> bytes:
        """Encode ``value`` (internal errors: _Refused, _TooDeep, SerializationError)."""
        t = type(value)
        if t is bytearray:
            return MARKER + _packb_plain(ExtType(EXT_BYTEARRAY, bytes(value)))
        if t in _REFUSED_PACKABLE:
            raise _unsupported(value)
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

    def loads(self, buf: bytes | bytearray) -> Any:
        """Decode a payload that starts with ``MARKER`` (internal errors are wrapped by callers).

        Bounded in memory and time (docs/SERIALIZATION.md, "Decoding bounds"): unpackb caps
        every declared length at the payload's size (max_map_len at half of it), so nothing is
        preallocated beyond what the bytes could fill; payloads over 4 KiB may decode into at
        most one container per CONTAINER_BYTES bytes plus CONTAINER_ALLOWANCE (smaller ones
        cannot hold more); no set, and no map of a payload with many hashable extensions, may
        hold more than MAX_HASH_COLLISIONS keys whose hash equals another's.
        """
        n = len(buf) - len(MARKER)
        body = memoryview(buf)[len(MARKER) :]
        max_depth = self._max_depth
        if n <= _BYTE_BOUND_LIMIT and 0xC7 not in buf:
            # No tag can be present (every tag is an empty ext8: c7 00 id): no list hook. At
            # most 4096 containers and 1365 extensions: within every bound.
            value = msgpack.unpackb(
                body,
                ext_hook=_ext_hook_leaves,
                raw=False,
                strict_map_key=False,
                timestamp=3,
            )
        else:
            try:
                value = self._decode(body, _container_budget(n), check_keys=False)
            except _Recheck:
                # Many extensions with hashes an attacker can choose: decode again, building
                # every map from its pairs after a collision check.
                value = self._decode(body, _container_budget(n), check_keys=True)
        # Every container takes a header byte: a body of max_depth bytes or fewer cannot nest
        # deeper, and is not counted.
        if type(value) in _CONTAINERS and (
            n > _BYTE_BOUND_LIMIT or (n > max_depth and _container_header_count(buf) > max_depth)
        ):
            _scan(value, max_depth)
        return value

    def _decode(self, body: memoryview, budget: int, *, check_keys: bool) -> Any:
        """unpackb with hooks that build tags, count containers and (if asked) check map keys.

        Without ``check_keys``, raises ``_Recheck`` once the payload has decoded more than
        ``_KEY_EXT_LIMIT`` extensions whose hash is not randomized (the only values that could
        collide as map keys in numbers); with fewer, a map's worst case costs milliseconds.
        """
        max_depth = self._max_depth
        pending = 0
        containers = 0
        key_exts = 0
        tags = _registry._tags_by_code

        def over_budget() -> _Corrupt:
            return _Corrupt(
                f"payload of {len(body)} bytes decodes into more than {budget} containers "
                f"(the bound is one per {CONTAINER_BYTES} bytes plus {CONTAINER_ALLOWANCE}: an "
                "empty-container flood)"
            )

        def ext_hook(code: int, data: bytes) -> Any:
            nonlocal pending, key_exts
            if code not in _RANDOM_HASH_EXTS:
                key_exts += 1
                if key_exts > _KEY_EXT_LIMIT and not check_keys:
                    raise _Recheck
            tag = tags.get(code)
            if tag is None:
                return _ext_hook_leaves(code, data)
            if data:
                raise _Corrupt(f"container tag {code} with a payload")
            pending += 1
            return tag

        def list_hook(items: list[Any]) -> Any:
            nonlocal pending, containers
            containers += 1
            if containers > budget:
                raise over_budget()
            if items and isinstance(items[0], _Tag):
                pending -= 1
                return items[0].build(items, max_depth)
            return items

        def object_hook(obj: dict[Any, Any]) -> dict[Any, Any]:
            nonlocal containers
            containers += 1
            if containers > budget:
                raise over_budget()
            return obj

        def pairs_hook(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
            nonlocal containers
            containers += 1
            if containers > budget:
                raise over_budget()
            if len(pairs) > MAX_HASH_COLLISIONS:
                _check_collisions([k for k, _ in pairs], len(pairs), "map")
            return dict(pairs)

        map_hook: dict[str, Any] = (
            {"object_pairs_hook": pairs_hook} if check_keys else {"object_hook": object_hook}
        )
        value = msgpack.unpackb(
            body,
            ext_hook=ext_hook,
            list_hook=list_hook,
            raw=False,
            strict_map_key=False,
            timestamp=3,
            **map_hook,
        )
        if pending:
            raise _Corrupt("misplaced container tag")
        return value


class _Recheck(Exception):
    """Internal: decode again with every map's keys checked for hash collisions."""


# Extensions whose decoded values hash with Python's randomized string hash (datetime, date,
# time, timedelta), are unhashable (bytearray, ndarray) or cannot be map keys (set): however
# many a payload holds, they cannot collide as map keys. Every other extension (big ints,
# Decimal, UUID, complex, numpy scalars, tuples, frozensets, codecs) counts toward the limit.
_RANDOM_HASH_EXTS: Final = frozenset(
    {EXT_BYTEARRAY, EXT_DATETIME, EXT_DATE, EXT_TIME, EXT_TIMEDELTA, EXT_NDARRAY, EXT_SET, -1}
)
_KEY_EXT_LIMIT: Final = 1024
