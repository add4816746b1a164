# Generated from tests/_async/_helpers.py by tools/run_unasync.py. DO NOT EDIT.
"""Helpers shared by the I/O tests (the sync copy is generated into tests/_sync/_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis_toolkit._compat import Runtime


def poll_until(predicate: Callable[[], Any], timeout: float = 15, what: str = "") -> None:
    """Poll ``predicate()`` (awaited if it returns an awaitable) until it is truthy; fail the
    test after ``timeout`` seconds, naming ``what``."""
    deadline = Runtime.monotonic() + timeout
    while not Runtime.call(predicate):
        assert Runtime.monotonic() < deadline, f"timed out waiting for {what}"
        Runtime.sleep(0.02)
