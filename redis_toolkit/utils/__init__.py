"""0.4 import path: serialization functions and retry decorators."""

from __future__ import annotations

from ..resilience.retry import simple_retry, with_retry
from ..serialization import deserialize_value, serialize_value

__all__ = ["simple_retry", "with_retry", "serialize_value", "deserialize_value"]
