"""Helpers shared by the I/O tests (the sync copy is generated into tests/_sync/_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis_toolkit._compat import AsyncRuntime


async def poll_until(predicate: Callable[[], Any], timeout: float = 15, what: str = "") -> None:
    """Poll ``predicate()`` (awaited if it returns an awaitable) until it is truthy; fail the
    test after ``timeout`` seconds, naming ``what``."""
    deadline = AsyncRuntime.monotonic() + timeout
    while not await AsyncRuntime.call(predicate):
        assert AsyncRuntime.monotonic() < deadline, f"timed out waiting for {what}"
        await AsyncRuntime.sleep(0.02)
