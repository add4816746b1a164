"""The design's import path for the async pool manager (an alias module).

``AsyncConnectionPoolManager`` is a singleton: ``AsyncConnectionPoolManager()`` is
``async_pool_manager``. ``await close_all_pools()`` closes every pool and cluster client it holds.
"""

from __future__ import annotations

from ._async.pool import AsyncConnectionPoolManager, async_pool_manager

__all__ = ["AsyncConnectionPoolManager", "async_pool_manager", "close_all_pools"]


async def close_all_pools() -> None:
    """Close every pool and cluster client of the async pool manager (the singleton)."""
    await async_pool_manager.close_all_pools()
