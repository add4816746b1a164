"""The server a benchmark runs against: ``--url`` if given, else a private redis-server.

With a private server the benchmark can also choose where the two processes run
(``placement``), because on a small machine that choice moves the figures more than any code
change: a round trip between two cores costs about three times one on a shared core (measured
here: ~115 us against ~32 us per sync setter+getter pair), and the kernel picks one or the
other at random from run to run unless told.

- ``"split"``: redis-server on the last CPU, the benchmark on the others, as with a server on
  another host, where every round trip pays a real latency;
- ``"shared"``: both on the first CPU, the cheapest possible round trip, and the two sharing
  one core's time;
- ``"os"``: the kernel decides (the default of the other benchmarks).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PLACEMENTS = ("split", "shared", "os")
#: What server_url did about placement, in words, for the benchmark's header.
placement_note = "placement: chosen by the OS"


@contextmanager
def server_url(url: str | None, placement: str = "os") -> Iterator[str]:
    """Yield ``url``, or start a private redis-server on a free loopback port and yield its URL,
    with the processes placed as ``placement`` says (see the module docstring)."""
    global placement_note
    if url is not None:
        placement_note = "placement: chosen by the OS (a server given by --url)"
        yield url
        return
    from tests.servers import RedisServer

    server = RedisServer(Path(tempfile.mkdtemp(prefix="bench-redis-"))).start()
    before = _affinity()
    try:
        assert server.process is not None
        placement_note = _place(server.process.pid, placement)
        yield server.url
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
        server.stop()


def _affinity() -> set[int] | None:
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None


def _place(server_pid: int, placement: str) -> str:
    if placement not in PLACEMENTS:
        raise SystemExit(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
    cpus = sorted(_affinity() or ())
    if placement == "os":
        return "placement: chosen by the OS"
    if len(cpus) < 2:
        return f"placement: chosen by the OS ({placement!r} needs 2 CPUs, this process has 1)"
    if placement == "split":
        os.sched_setaffinity(server_pid, {cpus[-1]})
        os.sched_setaffinity(0, set(cpus[:-1]))
        return (
            f"placement: split (redis-server on CPU {cpus[-1]}, the benchmark on CPU "
            f"{','.join(map(str, cpus[:-1]))}: every round trip crosses cores, as to another host)"
        )
    os.sched_setaffinity(server_pid, {cpus[0]})
    os.sched_setaffinity(0, {cpus[0]})
    return f"placement: shared (redis-server and the benchmark both on CPU {cpus[0]})"
