"""0.4 import path: ``from redis_toolkit.core import RedisToolkit`` keeps working."""

from __future__ import annotations

from ._sync.client import RedisToolkit

__all__ = ["RedisToolkit"]
