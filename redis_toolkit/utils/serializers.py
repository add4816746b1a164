"""0.4 import path: ``from redis_toolkit.utils.serializers import serialize_value``."""

from __future__ import annotations

from ..serialization import deserialize_value, serialize_value

__all__ = ["serialize_value", "deserialize_value"]
