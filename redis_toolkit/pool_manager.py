"""0.4 import path: ``from redis_toolkit.pool_manager import pool_manager`` keeps working."""

from __future__ import annotations

from ._sync.pool import ConnectionPoolManager, pool_manager

__all__ = ["ConnectionPoolManager", "pool_manager"]
