"""Basic usage of the sync API: typed values, TTLs and batches.

python examples/sync/basic_usage.py                 # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/sync/basic_usage.py
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from redis_toolkit import RedisOptions, RedisToolkit


def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    # serializer="msgpack" stores exact types (tuples, datetimes, sets, Decimal, numpy). Only
    # redis-toolkit 0.5 reads it: the default, "json", writes 0.4's format for mixed fleets.
    with RedisToolkit.from_url(url, options=RedisOptions(serializer="msgpack")) as toolkit:
        # Values come back with the type they had.
        toolkit.setter(
            "example:user",
            {"name": "Ada", "roles": ("admin",), "since": datetime.now(timezone.utc)},
        )
        user = toolkit.getter("example:user")
        print("user:", user)
        assert isinstance(user["roles"], tuple)

        # A stored None is not a missing key.
        toolkit.setter("example:nothing", None)
        print("stored None:", toolkit.getter("example:nothing", default="missing"))
        print("missing key:", toolkit.getter("example:absent", default="missing"))

        # Expiry.
        toolkit.setter_with_ttl("example:session", {"token": "abc"}, ttl=30)
        print("session expires in", toolkit.get_ttl("example:session"), "s")

        # Batches: one round trip per 1,000 keys.
        toolkit.batch_set({f"example:item:{i}": {"n": i} for i in range(5)}, ttl=60)
        items = toolkit.batch_get([f"example:item:{i}" for i in range(6)])
        print("batch:", items)
        assert items["example:item:5"] is None

        # One call in 0.4's format (what a 0.4 reader of this key needs): per-call options.
        toolkit.setter("example:for-04", {"n": 1}, options=RedisOptions(serializer="json"))
        print("0.4 format:", toolkit.client.get("example:for-04"))
        toolkit.deleter("example:for-04")

        deleted = toolkit.batch_delete(
            ["example:user", "example:nothing", "example:session", *items]
        )
        print("deleted", deleted, "keys")


if __name__ == "__main__":
    main()
