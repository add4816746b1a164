"""Import path kept for earlier code: the retry decorators live in
:mod:`redis_toolkit.resilience.retry`."""

from __future__ import annotations

from .resilience.retry import simple_retry, with_retry

__all__ = ["simple_retry", "with_retry"]
