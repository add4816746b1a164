"""Operation metrics with bounded memory, cheap enough to leave on (pure: no I/O).

Latencies go into a fixed log-scale histogram (buckets 10% wide from 10 microseconds to 60
seconds, plus one below and one above), so percentiles cost O(buckets) whatever the traffic and
are accurate to within 10%. A command is labelled by its first word, upper-cased, only when that
is a known Redis command (:mod:`~redis_toolkit.resilience.commands`), and the number of labels is
capped: anything else (a key or a password passed as the command) is counted under ``"OTHER"``.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from operator import add
from typing import Any

from ..exceptions import ValidationError
from .commands import OTHER_COMMAND, command_label

__all__ = ["RedisMetrics", "LATENCY_BUCKET_BOUNDS", "OTHER_COMMAND"]

_MIN_LATENCY = 1e-5  # 10 microseconds
_MAX_TRACKED = 60.0
_GROWTH = 1.1
_CLAMP = 86400.0  # latencies above a day are clamped (a clock jump, not a command)


def _bounds() -> tuple[float, ...]:
    bounds = [_MIN_LATENCY]
    while bounds[-1] < _MAX_TRACKED:
        bounds.append(bounds[-1] * _GROWTH)
    return tuple(bounds)


#: Upper bounds (seconds) of the latency buckets; bucket ``i`` holds ``[bounds[i-1], bounds[i])``,
#: bucket 0 everything below 10 us and the last bucket everything from 60 s up.
LATENCY_BUCKET_BOUNDS: tuple[float, ...] = _bounds()
_N_BUCKETS = len(LATENCY_BUCKET_BOUNDS) + 1

_MAX_ERROR_TYPES = 64
#: Successful latencies buffered per command name before they are added to its figures.
_BATCH = 64
_OTHER_ERROR = "Other"


class _Stats:
    """Counters and a latency histogram for one command (or for all of them)."""

    __slots__ = (
        "total",
        "failures",
        "retries",
        "conflicts",
        "latency_sum",
        "min",
        "max",
        "buckets",
    )

    def __init__(self) -> None:
        self.total = 0
        self.failures = 0
        self.retries = 0
        self.conflicts = 0
        self.latency_sum = 0.0
        self.min = math.inf
        self.max = 0.0
        self.buckets = [0] * _N_BUCKETS

    def copy(self) -> _Stats:
        other = _Stats()
        other.total = self.total
        other.failures = self.failures
        other.retries = self.retries
        other.conflicts = self.conflicts
        other.latency_sum = self.latency_sum
        other.min = self.min
        other.max = self.max
        other.buckets = list(self.buckets)
        return other

    @staticmethod
    def total_of(parts: Iterable[_Stats], *, buckets: bool = True) -> _Stats:
        """A new ``_Stats`` holding the sum of ``parts`` (min of the mins, max of the maxes);
        with ``buckets=False`` its histogram stays empty (the counters only, for less work)."""
        total = _Stats()
        histogram = total.buckets
        for part in parts:
            total.total += part.total
            total.failures += part.failures
            total.retries += part.retries
            total.conflicts += part.conflicts
            total.latency_sum += part.latency_sum
            if part.min < total.min:
                total.min = part.min
            if part.max > total.max:
                total.max = part.max
            if buckets:
                histogram = list(map(add, histogram, part.buckets))
        total.buckets = histogram
        return total

    def percentile(self, fraction: float) -> float:
        """Estimated latency (seconds) below which ``fraction`` of the samples lie."""
        count = sum(self.buckets)
        if count == 0:
            return 0.0
        rank = max(1, math.ceil(fraction * count))
        seen = 0
        for index, in_bucket in enumerate(self.buckets):
            if in_bucket == 0 or seen + in_bucket < rank:
                seen += in_bucket
                continue
            low = LATENCY_BUCKET_BOUNDS[index - 1] if index > 0 else 0.0
            high = LATENCY_BUCKET_BOUNDS[index] if index < len(LATENCY_BUCKET_BOUNDS) else self.max
            estimate = low + (high - low) * (rank - seen) / in_bucket
            return min(max(estimate, self.min), self.max)
        return self.max  # pragma: no cover - the ranks always land in a bucket


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _state_value(state: Any) -> str:
    return str(getattr(state, "value", state))


class RedisMetrics:
    """Counts and latencies of Redis operations: totals, success rate, percentiles, retries,
    circuit breaker state, and the same per command name.

    Thread-safe, and cheap on the hot path: :meth:`record` of a success appends the latency to
    a short buffer of its command, without a lock; every 64 samples, and before anything is
    read, the buffer is added to the figures under the lock, so every figure read counts every
    call recorded before. Failures are counted at once. Memory is bounded whatever the
    traffic: at most ``max_commands`` command names (then ``"OTHER"``), 64 error type names, a
    fixed histogram per name and at most 64 buffered latencies per name.

    ``clock`` (seconds, monotonic) is only used for ``uptime_seconds``; latencies are measured
    by the caller.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_commands: int = 256):
        if not isinstance(max_commands, int) or isinstance(max_commands, bool) or max_commands < 1:
            raise ValidationError(
                f"RedisMetrics: max_commands must be an int >= 1, got {max_commands!r}"
            )
        self.max_commands = max_commands
        self._clock = clock
        self._lock = threading.Lock()
        self._breaker_state: str | None = None
        self._clear()

    def _clear(self) -> None:
        self._started = self._clock()
        self._commands: dict[str, _Stats] = {}
        # Raw names as passed -> their stats, so that the common path skips normalising. Bounded:
        # past 4 x max_commands raw spellings, new ones are normalised on every call.
        self._lookup: dict[Any, _Stats] = {}
        # Raw names -> latencies of successful calls not yet added to the figures (at most
        # _BATCH each, for at most max_commands names; appended to without the lock).
        self._pending: dict[Any, list[float]] = {}
        self._errors: dict[str, int] = {}
        self._breaker_transitions = 0
        self._breaker_opens = 0
        self._topology_refreshes = 0
        self._failovers = 0

    # -- recording --------------------------------------------------------------------------

    def _stats_for(self, command: Any) -> _Stats:
        """The stats of ``command`` (lock held), creating them within the cap."""
        if command is None:
            name = "UNKNOWN"
        else:
            name = command_label(command)
        stats = self._commands.get(name)
        if stats is None:
            if len(self._commands) >= self.max_commands and name != OTHER_COMMAND:
                name = OTHER_COMMAND
                stats = self._commands.get(name)
            if stats is None:
                stats = self._commands[name] = _Stats()
        if len(self._lookup) < 4 * self.max_commands:
            self._lookup[command] = stats
        return stats

    def record(
        self,
        command: str,
        latency_seconds: float,
        ok: bool,
        error: BaseException | None = None,
    ) -> None:
        """Count one operation of ``command`` that took ``latency_seconds``.

        ``ok=False`` counts a failure; ``error`` (if given) is counted by its class name in
        ``errors_by_type``. Negative or NaN latencies count as 0.
        """
        if ok and latency_seconds.__class__ is float:
            # The hot path: the latency joins the command's buffer (one atomic append, no lock);
            # every _BATCH of them are added to the figures at once (see _fold).
            pending = self._pending.get(command)
            if pending is not None:
                pending.append(latency_seconds)
                if len(pending) >= _BATCH:
                    with self._lock:
                        self._fold(command, pending)
                return
        latency = latency_seconds
        if not 0.0 <= latency <= _CLAMP:
            latency = _CLAMP if latency > _CLAMP else 0.0
        index = bisect_right(LATENCY_BUCKET_BOUNDS, latency)
        with self._lock:
            stats = self._lookup.get(command)
            if stats is None:
                stats = self._stats_for(command)
            if ok and command not in self._pending and len(self._pending) < self.max_commands:
                self._pending[command] = []  # this name's next successes take the hot path
            # Only the command's own figures: the overall ones are their sum, added up when read.
            stats.total += 1
            stats.latency_sum += latency
            stats.buckets[index] += 1
            if latency > stats.max:
                stats.max = latency
            if latency < stats.min:
                stats.min = latency
            if not ok:
                stats.failures += 1
                if error is not None:
                    kind = type(error).__name__
                    if kind not in self._errors and len(self._errors) >= _MAX_ERROR_TYPES:
                        kind = _OTHER_ERROR
                    self._errors[kind] = self._errors.get(kind, 0) + 1

    def _fold(self, command: Any, pending: list[float]) -> None:
        """Add the successful latencies buffered for ``command`` to its figures (lock held).

        Appends made meanwhile by other threads (without the lock) stay in the buffer: only the
        samples taken out here are removed, each list operation being atomic.
        """
        taken = len(pending)
        if not taken:
            return
        samples = pending[:taken]
        del pending[:taken]
        stats = self._lookup.get(command)
        if stats is None:
            stats = self._stats_for(command)
        samples.sort()
        low = samples[0]
        high = samples[-1]
        added = sum(samples)
        buckets = stats.buckets
        if 0.0 <= low and high <= _CLAMP and added == added:  # (no NaN)
            # Sorted: one bisect per occupied bucket, not per sample.
            last = len(LATENCY_BUCKET_BOUNDS)
            start = 0
            while start < taken:
                index = bisect_right(LATENCY_BUCKET_BOUNDS, samples[start])
                end = (
                    bisect_left(samples, LATENCY_BUCKET_BOUNDS[index], start)
                    if index < last
                    else taken
                )
                buckets[index] += end - start
                start = end
        else:  # a bad reading among them: clamp each, as record does
            added = 0.0
            low = math.inf
            high = 0.0
            for latency in samples:
                if not 0.0 <= latency <= _CLAMP:
                    latency = _CLAMP if latency > _CLAMP else 0.0
                buckets[bisect_right(LATENCY_BUCKET_BOUNDS, latency)] += 1
                added += latency
                if latency > high:
                    high = latency
                if latency < low:
                    low = latency
        stats.total += taken
        stats.latency_sum += added
        if low < stats.min:
            stats.min = low
        if high > stats.max:
            stats.max = high

    def _fold_all(self) -> None:
        """Fold every command's buffered latencies (lock held): before anything is read."""
        for command, pending in self._pending.items():
            if pending:
                self._fold(command, pending)

    def record_retry(self, command: str | None = None) -> None:
        """Count one retry of ``command`` (call it once per retry, before waiting)."""
        with self._lock:
            stats = self._lookup.get(command)
            if stats is None:
                stats = self._stats_for(command)
            stats.retries += 1

    def record_conflict(self, command: str | None = "EXEC") -> None:
        """Count one optimistic-transaction conflict (a WATCHed key changed, EXEC did nothing).

        A conflict is not a failure: the server answered, and the transaction is retried or
        reported to the caller. It counts under ``conflicts``, not ``failed_operations``.
        """
        with self._lock:
            stats = self._lookup.get(command)
            if stats is None:
                stats = self._stats_for(command)
            stats.conflicts += 1

    def record_breaker_transition(self, old: Any, new: Any) -> None:
        """Count a circuit breaker state change; usable directly as a breaker listener."""
        value = _state_value(new)
        with self._lock:
            self._breaker_state = value
            self._breaker_transitions += 1
            if value == "open":
                self._breaker_opens += 1

    def set_breaker_state(self, state: Any) -> None:
        """Set the breaker state shown in snapshots, without counting a transition."""
        value = None if state is None else _state_value(state)
        with self._lock:
            self._breaker_state = value

    def record_topology_refresh(self) -> None:
        """Count one cluster topology refresh (slot map re-read) made by the toolkit."""
        with self._lock:
            self._topology_refreshes += 1

    def record_failover(self, count: int = 1) -> None:
        """Count ``count`` cluster failovers seen (a node became the primary of a shard)."""
        with self._lock:
            self._failovers += count

    def reset(self) -> None:
        """Zero every counter and histogram and restart ``uptime_seconds``.

        The breaker state is kept: it describes the breaker now, not past traffic.
        """
        with self._lock:
            self._clear()

    # -- reading ----------------------------------------------------------------------------

    # There are no overall figures to read: recording updates the command's own only (half the
    # work on the hot path), and the overall ones are their sum, added up here.

    @property
    def _all(self) -> _Stats:
        """Every command's figures added up, histogram included (a new object)."""
        with self._lock:
            self._fold_all()
            parts = [stats.copy() for stats in self._commands.values()]
        return _Stats.total_of(parts)

    def _overall(self) -> _Stats:
        """Every command's counters, sum, min and max added up (no histogram)."""
        with self._lock:
            self._fold_all()
            return _Stats.total_of(self._commands.values(), buckets=False)

    @property
    def total_operations(self) -> int:
        """Operations recorded so far (successful and failed)."""
        return self._overall().total

    @property
    def successful_operations(self) -> int:
        """Operations that succeeded."""
        stats = self._overall()
        return stats.total - stats.failures

    @property
    def failed_operations(self) -> int:
        """Operations that failed."""
        return self._overall().failures

    @property
    def success_rate(self) -> float:
        """Successful / total operations, in ``[0, 1]`` (1.0 when nothing ran)."""
        stats = self._overall()
        return (stats.total - stats.failures) / stats.total if stats.total else 1.0

    @property
    def avg_latency_ms(self) -> float:
        """Mean latency of all operations in milliseconds (0.0 when nothing ran)."""
        stats = self._overall()
        return _ms(stats.latency_sum / stats.total) if stats.total else 0.0

    @property
    def p50_latency_ms(self) -> float:
        """Estimated median latency in milliseconds."""
        return _ms(self._all.percentile(0.50))

    @property
    def p95_latency_ms(self) -> float:
        """Estimated 95th percentile latency in milliseconds."""
        return _ms(self._all.percentile(0.95))

    @property
    def p99_latency_ms(self) -> float:
        """Estimated 99th percentile latency in milliseconds."""
        return _ms(self._all.percentile(0.99))

    @property
    def max_latency_ms(self) -> float:
        """Slowest operation recorded, in milliseconds."""
        return _ms(self._overall().max)

    @property
    def retries(self) -> int:
        """Retries made so far."""
        return self._overall().retries

    @property
    def breaker_state(self) -> str | None:
        """The circuit breaker state last reported (``None`` until a breaker reported one)."""
        with self._lock:
            return self._breaker_state

    @property
    def breaker_opens(self) -> int:
        """How many times the breaker opened."""
        with self._lock:
            return self._breaker_opens

    @property
    def uptime_seconds(self) -> float:
        """Seconds since the metrics were created or last :meth:`reset`."""
        with self._lock:
            started = self._started
        return max(0.0, self._clock() - started)

    def snapshot(self) -> dict[str, Any]:
        """All figures as a plain dict (latencies in milliseconds).

        Keys: ``total_operations``, ``successful_operations``, ``failed_operations``,
        ``success_rate`` (1.0 when nothing ran), ``avg_latency_ms``, ``p50_latency_ms``,
        ``p95_latency_ms``, ``p99_latency_ms``, ``max_latency_ms``, ``retries``, ``conflicts``
        (optimistic transactions that found a watched key changed),
        ``breaker_state`` (``None`` until a breaker reported one), ``breaker_transitions``,
        ``breaker_opens``, ``errors_by_type`` ({class name: count}), ``topology_refreshes`` and
        ``failovers`` (cluster only: slot-map re-reads and shards that changed primary),
        ``commands`` ({NAME: {total, failures, avg_latency_ms, p50_latency_ms, p95_latency_ms,
        p99_latency_ms, retries, conflicts}}) and ``uptime_seconds``. The headline figures are
        also attributes (``metrics.success_rate``, ``metrics.avg_latency_ms``,
        ``metrics.total_operations``, ...).
        """
        now = self._clock()
        with self._lock:
            self._fold_all()
            commands = {name: stats.copy() for name, stats in self._commands.items()}
            errors = dict(self._errors)
            breaker_state = self._breaker_state
            transitions = self._breaker_transitions
            opens = self._breaker_opens
            refreshes = self._topology_refreshes
            failovers = self._failovers
            started = self._started
        overall = _Stats.total_of(commands.values())
        total = overall.total
        failed = overall.failures
        return {
            "total_operations": total,
            "successful_operations": total - failed,
            "failed_operations": failed,
            "success_rate": (total - failed) / total if total else 1.0,
            "avg_latency_ms": _ms(overall.latency_sum / total) if total else 0.0,
            "p50_latency_ms": _ms(overall.percentile(0.50)),
            "p95_latency_ms": _ms(overall.percentile(0.95)),
            "p99_latency_ms": _ms(overall.percentile(0.99)),
            "max_latency_ms": _ms(overall.max),
            "retries": overall.retries,
            "conflicts": overall.conflicts,
            "breaker_state": breaker_state,
            "breaker_transitions": transitions,
            "breaker_opens": opens,
            "errors_by_type": errors,
            "topology_refreshes": refreshes,
            "failovers": failovers,
            "commands": {
                name: {
                    "total": s.total,
                    "failures": s.failures,
                    "avg_latency_ms": _ms(s.latency_sum / s.total) if s.total else 0.0,
                    "p50_latency_ms": _ms(s.percentile(0.50)),
                    "p95_latency_ms": _ms(s.percentile(0.95)),
                    "p99_latency_ms": _ms(s.percentile(0.99)),
                    "retries": s.retries,
                    "conflicts": s.conflicts,
                }
                for name, s in sorted(commands.items())
            },
            "uptime_seconds": max(0.0, now - started),
        }
