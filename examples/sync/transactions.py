"""Transactions and locks with the sync API: optimistic updates, atomic batches, a lease lock.

python examples/sync/transactions.py                # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/sync/transactions.py
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from redis_toolkit import ConflictError, LockTimeoutError, RedisToolkit

# One hash tag ({shop}) keeps every key in one cluster slot: a cluster runs a transaction on
# one slot only. On a single server the tag is just part of the name.
STOCK, ORDERS, HITS = "{shop}:stock", "{shop}:orders", "{shop}:hits"


def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    with RedisToolkit.from_url(url) as toolkit:
        # update(): read-modify-write, retried when another client changed the key meanwhile.
        toolkit.deleter(HITS)
        with ThreadPoolExecutor(8) as pool:
            # 8 threads on one key conflict a lot: allow more retries than the default 10.
            futures = [
                pool.submit(toolkit.update, HITS, lambda n: n + 1, default=0, retries=100)
                for _ in range(20)
            ]
            for future in futures:
                future.result()  # raises what the update raised, if anything
        print("hits after 20 updates from 8 threads:", toolkit.getter(HITS))

        # A transaction block: typed reads of watched keys, writes sent in one MULTI/EXEC.
        toolkit.batch_set({STOCK: {"apples": 10}, ORDERS: []}, atomic=True)
        for attempt in toolkit.transaction(STOCK, ORDERS, retries=5):
            with attempt as tx:
                stock = tx.get(STOCK)
                orders = tx.get(ORDERS)
                tx.set(STOCK, {"apples": stock["apples"] - 3})
                tx.set(ORDERS, [*orders, ("apples", 3)])
        print("after the order:", toolkit.batch_get([STOCK, ORDERS]))

        try:
            with toolkit.transaction(STOCK) as tx:
                stock = tx.get(STOCK)
                toolkit.setter(STOCK, {"apples": 0})  # another client, meanwhile
                tx.set(STOCK, {"apples": stock["apples"] - 1})
        except ConflictError as e:
            print("one-shot transaction refused:", type(e).__name__, "after", e.attempts, "attempt")

        # A lease lock that renews itself while the block runs, with a fencing token.
        with toolkit.lock("{shop}:restock", ttl=5, blocking_timeout=2) as lock:
            print("restocking under fencing token", lock.token)
            try:
                with toolkit.lock("{shop}:restock", ttl=5, blocking_timeout=0.3):
                    pass
            except LockTimeoutError as e:
                print("a second holder waits in vain:", type(e).__name__)
        print("metrics: conflicts =", toolkit.get_metrics()["conflicts"])
        toolkit.batch_delete([STOCK, ORDERS, HITS])
        # "{shop}:restock:fence" stays: deleting it would restart the fencing tokens at 1.


if __name__ == "__main__":
    main()
