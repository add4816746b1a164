"""0.4 import path: ``from redis_toolkit.utils.retry import simple_retry, with_retry``."""

from __future__ import annotations

from ..resilience.retry import simple_retry, with_retry

__all__ = ["simple_retry", "with_retry"]
