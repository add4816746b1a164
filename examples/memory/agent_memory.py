"""An agent's memory with the sync backend: remember, recall by meaning, forget.

python examples/memory/agent_memory.py                # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/memory/agent_memory.py

Embeddings here come from a toy hashing embedder (no model download); use a real one (for
example a 384-d sentence-transformers model) in an application.
"""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np

from redis_toolkit.memory import (
    MemoryConflictError,
    MemoryEntry,
    MemoryQuery,
    MemoryType,
    RedisMemoryBackend,
)

DIM = 64


def embed(text: str) -> np.ndarray:
    """A toy embedding: hashed bag of words, normalized."""
    vec = np.zeros(DIM, dtype=np.float32)
    for word in re.findall(r"[a-z]+", text.lower()):
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
        vec[h % DIM] += 1.0 if h & 1 << 31 else -1.0
    norm = np.linalg.norm(vec)
    return vec / norm if norm else vec + 1.0 / np.sqrt(DIM)


def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    with RedisMemoryBackend.from_url(url, key_prefix="example-agent", dimension=DIM) as memory:
        memory.clear("user-42")  # start the example from nothing
        facts = [
            ("User prefers tea over coffee", MemoryType.SEMANTIC, 0.8, ("preference",)),
            ("User's cat is called Miso", MemoryType.LONG_TERM, 0.6, ("pets",)),
            ("Meeting with the design team moved to Friday", MemoryType.EPISODIC, 0.7, ()),
            ("Currently drafting the quarterly report", MemoryType.WORKING, 0.4, ("task",)),
            ("User asked about tea shops nearby", MemoryType.SHORT_TERM, 0.3, ("preference",)),
        ]
        ids = memory.add_batch(
            [
                MemoryEntry(content=text, memory_type=kind, importance=imp, tags=tags,
                            embedding=embed(text), namespace="user-42")
                for text, kind, imp, tags in facts
            ]
        )  # fmt: skip
        print(f"remembered {len(ids)} memories; {memory.count('user-42')} live")

        question = "what does the user like to drink, tea?"
        results = memory.query(
            MemoryQuery(embedding=embed(question), namespace="user-42", limit=3)
        )
        print(f"recall for {question!r}:")
        for r in results:
            print(f"  {r.score:.3f}  [{r.memory_type.value}] {r.content}")

        prefs = memory.query(
            MemoryQuery(namespace="user-42", tags=["preference"], importance_weight=1.0,
                        recency_weight=0.5)
        )  # fmt: skip
        print("preferences, important and recent first:", [r.content for r in prefs])

        # Optimistic update: a stale copy is refused instead of overwriting a newer write.
        cat = memory.get(ids[1], namespace="user-42")
        assert cat is not None
        stale = memory.get(ids[1], namespace="user-42")
        assert stale is not None
        cat.content = "User's cat is called Miso; she is 3 years old"
        cat.embedding = embed(cat.content)
        memory.update(cat)
        try:
            stale.importance = 0.1
            memory.update(stale)
        except MemoryConflictError as e:
            print("conflict detected:", type(e).__name__, "- re-read and retry")
        print("now:", memory.get(ids[1], namespace="user-42"))

        memory.delete(ids[3], namespace="user-42")
        print(f"after forgetting the draft: {memory.count('user-42')} live")
        m = memory.get_metrics()
        print(f"operations: {m['total_operations']}, success rate: {m['success_rate']:.2f}, "
              f"avg latency: {m['avg_latency_ms']:.2f} ms")  # fmt: skip
        memory.clear("user-42")


if __name__ == "__main__":
    main()
