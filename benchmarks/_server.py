"""The server a benchmark runs against: ``--url`` if given, else a private redis-server."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def server_url(url: str | None) -> Iterator[str]:
    """Yield ``url``, or start a private redis-server on a free loopback port and yield its URL."""
    if url is not None:
        yield url
        return
    from tests.servers import RedisServer

    server = RedisServer(Path(tempfile.mkdtemp(prefix="bench-redis-"))).start()
    try:
        yield server.url
    finally:
        server.stop()
