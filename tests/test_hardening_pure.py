"""Hardening (issue 11), the pure parts: log descriptions that never raise, serialization depth
at its exact bound, pool keys that tell credentials apart."""

from __future__ import annotations

from typing import Any

from redis_toolkit._logging import describe


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_describe_never_raises() -> None:
    assert describe(10**5000, 50) == "<int: repr failed with ValueError>"
    assert describe(_BrokenRepr(), 50) == "<_BrokenRepr: repr failed with RuntimeError>"
    assert describe(_deep_list(100_000), 50).startswith("<list: repr failed")
    assert describe("x" * 100, 10) == "'xxxxxxxxx... (102 chars)"
