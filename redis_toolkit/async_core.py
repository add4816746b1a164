"""The design's import path for the async client: ``from redis_toolkit.async_core import
AsyncRedisToolkit``. An alias only; the class lives in ``redis_toolkit._async.client``."""

from __future__ import annotations

from ._async.client import AsyncRedisToolkit

__all__ = ["AsyncRedisToolkit"]
