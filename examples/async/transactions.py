"""Transactions and locks with the async API: optimistic updates, atomic batches, a lease lock.

python examples/async/transactions.py                # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/async/transactions.py
"""

from __future__ import annotations

import asyncio
import os

from redis_toolkit import ConflictError, LockTimeoutError
from redis_toolkit.asyncio import RedisToolkit  # the async class under its plain name

# One hash tag ({shop}) keeps every key in one cluster slot: a cluster runs a transaction on
# one slot only. On a single server the tag is just part of the name.
STOCK, ORDERS, HITS = "{shop}:stock", "{shop}:orders", "{shop}:hits"


async def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    async with RedisToolkit.from_url(url) as toolkit:
        # update(): read-modify-write, retried when another client changed the key meanwhile.
        await toolkit.deleter(HITS)
        # 20 tasks on one key conflict a lot: allow more retries than the default 10.
        await asyncio.gather(
            *(toolkit.update(HITS, lambda n: n + 1, default=0, retries=100) for _ in range(20))
        )
        print("hits after 20 concurrent updates:", await toolkit.getter(HITS))

        # A transaction block: typed reads of watched keys, writes sent in one MULTI/EXEC.
        await toolkit.batch_set({STOCK: {"apples": 10}, ORDERS: []}, atomic=True)
        async for attempt in toolkit.transaction(STOCK, ORDERS, retries=5):
            async with attempt as tx:
                stock = await tx.get(STOCK)
                orders = await tx.get(ORDERS)
                tx.set(STOCK, {"apples": stock["apples"] - 3})
                tx.set(ORDERS, [*orders, ("apples", 3)])
        print("after the order:", await toolkit.batch_get([STOCK, ORDERS]))

        try:
            async with toolkit.transaction(STOCK) as tx:
                stock = await tx.get(STOCK)
                await toolkit.setter(STOCK, {"apples": 0})  # another client, meanwhile
                tx.set(STOCK, {"apples": stock["apples"] - 1})
        except ConflictError as e:
            print("one-shot transaction refused:", type(e).__name__, "after", e.attempts, "attempt")

        # A lease lock that renews itself while the block runs, with a fencing token.
        async with toolkit.lock("{shop}:restock", ttl=5, blocking_timeout=2) as lock:
            print("restocking under fencing token", lock.token)
            try:
                async with toolkit.lock("{shop}:restock", ttl=5, blocking_timeout=0.3):
                    pass
            except LockTimeoutError as e:
                print("a second holder waits in vain:", type(e).__name__)
        print("metrics: conflicts =", toolkit.get_metrics()["conflicts"])
        await toolkit.batch_delete([STOCK, ORDERS, HITS])
        # "{shop}:restock:fence" stays: deleting it would restart the fencing tokens at 1.


if __name__ == "__main__":
    asyncio.run(main())
