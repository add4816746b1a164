"""Basic usage of the async API: the same calls as the sync one, awaited.

python examples/async/basic_usage.py                # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/async/basic_usage.py
"""

from __future__ import annotations

import asyncio
import os

import numpy as np

from redis_toolkit import RedisOptions
from redis_toolkit.asyncio import RedisToolkit  # the async class under its plain name


async def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    # serializer="msgpack": exact sets and numpy arrays as raw buffers (readers must run 0.5;
    # the default "json" writes redis-toolkit 0.4's format).
    options = RedisOptions(serializer="msgpack")
    async with RedisToolkit.from_url(url, options=options) as toolkit:
        await toolkit.setter("example:async:profile", {"name": "Grace", "langs": {"COBOL"}})
        print("profile:", await toolkit.getter("example:async:profile"))

        # numpy arrays are stored as raw buffers with dtype and shape.
        embedding = np.linspace(0, 1, 8, dtype=np.float32)
        await toolkit.setter("example:async:embedding", embedding)
        back = await toolkit.getter("example:async:embedding")
        print("embedding:", back.dtype, back.shape, np.array_equal(back, embedding))

        # Many tasks share one toolkit and its connection pool.
        await asyncio.gather(*(toolkit.setter(f"example:async:n:{i}", i) for i in range(10)))
        values = await toolkit.batch_get([f"example:async:n:{i}" for i in range(10)])
        print("values:", list(values.values()))

        keys = ["example:async:profile", "example:async:embedding", *values]
        print("deleted", await toolkit.batch_delete(keys), "keys")


if __name__ == "__main__":
    asyncio.run(main())
