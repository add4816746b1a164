"""Retry policy: how long to wait before each retry, and whether to retry at all (pure: no I/O).

:class:`RetryPolicy` holds no state and never sleeps: an executor asks :meth:`RetryPolicy.decide`
after each failure and gets the number of seconds to wait, or ``None`` to re-raise::

    attempt, started = 0, clock()
    while True:
        try:
            return operation()
        except Exception as e:
            wait = policy.decide(e, attempt=attempt, elapsed=clock() - started, command="GET")
            if wait is None:
                raise
            sleep(wait)
            attempt += 1
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..exceptions import ValidationError
from .classify import ErrorKind, classify, is_idempotent

if TYPE_CHECKING:
    from ..options import RedisConnectionConfig, RedisOptions

__all__ = ["RetryStrategy", "RetryPolicy", "cluster_retry_budget"]

#: Wait cap between retries in cluster mode's default budget: a failover ends at an unknown
#: moment, and a caller should see the new primary within half a second of it.
CLUSTER_MAX_DELAY = 0.5


def cluster_retry_budget(cluster_node_timeout: float) -> float:
    """Seconds a failover can take, the default retry deadline of ``cluster_mode``:
    ``2 x cluster-node-timeout + 2``.

    A replica is promoted about ``2 x node-timeout + 0.5-1 s`` after its master died (FAIL
    flag after one node-timeout, election after up to another); the 2 s cover the election,
    the ``CLUSTERDOWN`` window and the client's topology refresh.
    """
    return 2.0 * float(cluster_node_timeout) + 2.0


# Shared source of jitter when the caller passes none; random.Random methods are thread-safe.
_RNG = random.Random()


class RetryStrategy(str, Enum):
    """How the wait grows from one retry to the next (before jitter, capped at ``max_delay``)."""

    EXPONENTIAL_BACKOFF = "exponential_backoff"
    """``delay * backoff_factor**attempt``: 0.1, 0.2, 0.4, 0.8 ... with the defaults."""

    LINEAR_BACKOFF = "linear_backoff"
    """``delay * (attempt + 1)``: 0.1, 0.2, 0.3, 0.4 ... with the defaults."""

    FIXED_DELAY = "fixed_delay"
    """``delay`` every time."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(f"RetryPolicy: {message}")


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before retrying a failed Redis operation.

    ``max_retries`` retries follow the first call (``0`` disables retrying). Attempt ``n`` below
    is the ``n``-th retry counted from 0. ``strategy`` (a :class:`RetryStrategy` or its value)
    sets the nominal wait from ``delay`` and ``backoff_factor``; it never exceeds ``max_delay``.

    ``jitter`` spreads the waits of many clients that failed together (a server restart):

    * ``True`` (default) — *equal jitter*: uniform in ``[base/2, base]``. Never longer than the
      nominal wait and never shorter than half of it, so the schedule stays predictable.
    * a float ``j`` in ``(0, 1]`` — *proportional jitter*: uniform in ``[base*(1-j),
      base*(1+j)]``, then clamped to ``[0, max_delay]``.
    * ``False`` or ``0`` — exactly the nominal wait.

    ``deadline`` (seconds) bounds the whole operation across attempts: no retry is planned whose
    wait, plus ``attempt_timeout`` (the longest one attempt can take, 0 by default), would end
    past it. redis-py has no such overall limit.

    Which errors are retried is :func:`~redis_toolkit.resilience.classify.classify`'s call: errors
    raised before the command was sent always; errors after it may have been sent (timeouts,
    broken connections) only for idempotent commands, or for all commands when
    ``retry_on_timeout_for_all`` is set.

    Invalid values raise :class:`~redis_toolkit.exceptions.ValidationError` naming the field.
    """

    max_retries: int = 3
    strategy: RetryStrategy = RetryStrategy.EXPONENTIAL_BACKOFF
    delay: float = 0.1
    max_delay: float = 10.0
    jitter: bool | float = True
    deadline: float | None = None
    retry_on_timeout_for_all: bool = False
    backoff_factor: float = 2.0
    attempt_timeout: float = 0.0

    def __post_init__(self) -> None:
        _check(
            isinstance(self.max_retries, int)
            and not isinstance(self.max_retries, bool)
            and self.max_retries >= 0,
            f"max_retries must be an int >= 0, got {self.max_retries!r}",
        )
        strategy = self.strategy
        if not isinstance(strategy, RetryStrategy):
            try:
                strategy = RetryStrategy(str(strategy).lower())
            except ValueError:
                choices = ", ".join(s.value for s in RetryStrategy)
                raise ValidationError(
                    f"RetryPolicy: strategy must be one of {choices}, got {self.strategy!r}"
                ) from None
            object.__setattr__(self, "strategy", strategy)
        _check(
            _is_number(self.delay) and math.isfinite(self.delay) and self.delay >= 0,
            f"delay must be a finite number >= 0, got {self.delay!r}",
        )
        _check(
            _is_number(self.max_delay) and math.isfinite(self.max_delay) and self.max_delay >= 0,
            f"max_delay must be a finite number >= 0, got {self.max_delay!r}",
        )
        _check(
            self.max_delay >= self.delay,
            f"max_delay must be >= delay, got max_delay={self.max_delay!r} < delay={self.delay!r}",
        )
        _check(
            isinstance(self.jitter, bool) or (_is_number(self.jitter) and 0 <= self.jitter <= 1),
            f"jitter must be True, False or a fraction in [0, 1], got {self.jitter!r}",
        )
        _check(
            self.deadline is None
            or (_is_number(self.deadline) and math.isfinite(self.deadline) and self.deadline > 0),
            f"deadline must be None or a finite number > 0 (seconds), got {self.deadline!r}",
        )
        _check(
            isinstance(self.retry_on_timeout_for_all, bool),
            f"retry_on_timeout_for_all must be a bool, got {self.retry_on_timeout_for_all!r}",
        )
        _check(
            _is_number(self.backoff_factor)
            and math.isfinite(self.backoff_factor)
            and self.backoff_factor >= 1,
            f"backoff_factor must be a finite number >= 1, got {self.backoff_factor!r}",
        )
        _check(
            _is_number(self.attempt_timeout)
            and math.isfinite(self.attempt_timeout)
            and self.attempt_timeout >= 0,
            f"attempt_timeout must be a finite number >= 0, got {self.attempt_timeout!r}",
        )

    @classmethod
    def from_settings(
        cls, config: RedisConnectionConfig, options: RedisOptions | None = None
    ) -> RetryPolicy:
        """The toolkit's policy for ``config``, with ``options``' 0.4 retry fields applied.

        The real fields are the config's: ``max_retries``, ``retry_strategy``, ``retry_delay``,
        ``max_retry_delay``, ``retry_jitter``, ``retry_deadline``; ``attempt_timeout`` is the
        config's :attr:`~redis_toolkit.options.RedisConnectionConfig.attempt_timeout`, so that
        no retry starts that could not end by the deadline. With ``cluster_mode`` and
        ``retry_deadline`` left at its default (20 s; or ``None``), the budget covers a failover:
        retries keep starting for :func:`cluster_retry_budget` seconds (``2 x
        cluster_node_timeout + 2``), so the deadline is that plus ``attempt_timeout`` (the last
        retry's worst case); retries are bounded by it rather than counted (when ``max_retries``
        is left at 3) and waits capped at 0.5 s (when ``max_retry_delay`` is left at 10). A
        ``retry_deadline`` set to another value is kept as given. ``RedisOptions``' 0.4 fields
        are aliases that win when set (not ``None``): ``retry_attempts`` counts attempts in all
        (``max_retries = retry_attempts - 1``), ``retry_delay`` is the first wait and
        ``retry_backoff`` the exponential factor. Setting any of them selects 0.4's schedule:
        exponential, no jitter, ``max_delay`` at least the first wait.
        """
        fields: dict[str, Any] = {
            "max_retries": config.max_retries,
            "strategy": config.retry_strategy,
            "delay": config.retry_delay,
            "max_delay": config.max_retry_delay,
            "jitter": config.retry_jitter,
            "deadline": config.retry_deadline,
            "attempt_timeout": config.attempt_timeout,
        }
        cluster = bool(getattr(config, "cluster_mode", False))
        defaults = {f.name: f.default for f in dataclasses.fields(config)} if cluster else {}
        if cluster and config.retry_deadline in (None, defaults["retry_deadline"]):
            # Cluster mode: the default budget rides out a failover. The deadline bounds the
            # retries, not their count; waits stay short so the new primary is found quickly.
            # A retry starts only if it can end by the deadline (attempt_timeout, see
            # next_wait), so the deadline adds one attempt's worst case to the failover window:
            # otherwise retries would stop attempt_timeout (15 s by default) before the new
            # primary is elected. A field set to something else than its default is kept.
            fields["deadline"] = (
                cluster_retry_budget(config.cluster_node_timeout) + config.attempt_timeout
            )
            if config.max_retries == defaults["max_retries"]:
                fields["max_retries"] = 1000
            if config.max_retry_delay == defaults["max_retry_delay"]:
                fields["max_delay"] = max(CLUSTER_MAX_DELAY, float(config.retry_delay))
        if options is not None and options.sets_legacy_retry:
            if options.retry_attempts is not None:
                fields["max_retries"] = max(0, options.retry_attempts - 1)
            if options.retry_delay is not None:
                fields["delay"] = options.retry_delay
            if options.retry_backoff is not None:
                fields["backoff_factor"] = options.retry_backoff
            fields["strategy"] = RetryStrategy.EXPONENTIAL_BACKOFF
            fields["jitter"] = False
            if _is_number(fields["delay"]) and _is_number(fields["max_delay"]):
                fields["max_delay"] = max(fields["max_delay"], fields["delay"])
        return cls(**fields)

    @classmethod
    def from_legacy(
        cls,
        retry_attempts: int = 3,
        retry_delay: float = 0.1,
        retry_backoff: float = 2.0,
        **overrides: Any,
    ) -> RetryPolicy:
        """The policy equivalent to the 0.4 ``RedisOptions`` retry fields.

        ``retry_attempts`` is the number of retries here (0.4's option counted attempts in all:
        the toolkit passes ``retry_attempts - 1``), ``retry_delay`` the first wait and
        ``retry_backoff`` the exponential factor: the ``n``-th retry waits ``retry_delay *
        retry_backoff**n`` exactly as before (no jitter). New: waits are capped at
        ``max(10.0, retry_delay)`` seconds. ``overrides`` set any other field.
        """
        fields: dict[str, Any] = {
            "max_retries": retry_attempts,
            "strategy": RetryStrategy.EXPONENTIAL_BACKOFF,
            "delay": retry_delay,
            "backoff_factor": retry_backoff,
            "jitter": False,
        }
        if _is_number(retry_delay):
            fields["max_delay"] = max(10.0, float(retry_delay))
        fields.update(overrides)
        return cls(**fields)

    def base_delay(self, attempt: int) -> float:
        """The nominal wait in seconds before retry ``attempt`` (0 = first retry), no jitter."""
        if attempt < 0:
            raise ValidationError(f"RetryPolicy: attempt must be >= 0, got {attempt!r}")
        if self.strategy is RetryStrategy.FIXED_DELAY:
            value = self.delay
        elif self.strategy is RetryStrategy.LINEAR_BACKOFF:
            value = self.delay * (attempt + 1)
        else:
            try:
                value = self.delay * self.backoff_factor**attempt
            except OverflowError:
                value = math.inf
        return float(min(value, self.max_delay))

    def delay_for(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait in seconds before retry ``attempt``, jitter applied; in ``[0, max_delay]``.

        ``rng`` is the source of randomness (pass a seeded ``random.Random`` for repeatable waits).
        """
        base = self.base_delay(attempt)
        jitter = self.jitter
        if jitter is False or jitter == 0 or base == 0:
            return base
        source = rng if rng is not None else _RNG
        if jitter is True:
            value = source.uniform(base / 2, base)
        else:
            spread = base * float(jitter)
            value = source.uniform(base - spread, base + spread)
        return min(max(value, 0.0), self.max_delay)

    def is_retryable(
        self, error: BaseException, *, command: str | None = None, idempotent: bool | None = None
    ) -> bool:
        """Whether ``error`` may be retried at all, regardless of attempts and deadline.

        ``idempotent`` says whether ``command`` is safe to run twice: ``None`` looks ``command``
        up in :data:`~redis_toolkit.resilience.classify.IDEMPOTENT_COMMANDS` (and then
        ``retry_on_timeout_for_all`` opts every command in); ``True``/``False`` decide alone, so
        a caller can forbid repeating a ``SET NX`` even when all commands are opted in.
        """
        kind = classify(error)
        if kind is ErrorKind.NOT_SENT:
            return True
        if kind is ErrorKind.NOT_RETRYABLE:
            return False
        if idempotent is not None:
            return bool(idempotent)
        return self.retry_on_timeout_for_all or is_idempotent(command)

    def decide(
        self,
        error: BaseException,
        *,
        attempt: int,
        elapsed: float,
        command: str | None = None,
        idempotent: bool | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds to wait before retrying after ``error``, or ``None`` when it must be raised.

        ``attempt`` is the number of retries already made (0 after the first call failed) and
        ``elapsed`` the seconds since the first call started. ``None`` when: ``attempt >=
        max_retries``; the error is not retryable (see :meth:`is_retryable`); or ``deadline`` is
        set and ``elapsed`` plus the wait would pass it (a retry that would start at or after the
        deadline is not worth making).
        """
        if attempt >= self.max_retries:
            return None
        if not self.is_retryable(error, command=command, idempotent=idempotent):
            return None
        return self.next_wait(attempt=attempt, elapsed=elapsed, rng=rng)

    def next_wait(
        self, *, attempt: int, elapsed: float, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait before retry ``attempt`` of an error already judged retryable.

        ``None`` when ``attempt >= max_retries`` or when the wait would end at or past
        ``deadline``. :meth:`decide` is this plus the retryability check; executors with their
        own rule for which errors to retry call it directly.
        """
        if attempt >= self.max_retries:
            return None
        wait = self.delay_for(attempt, rng)
        if self.deadline is not None and (
            elapsed + wait >= self.deadline or elapsed + wait + self.attempt_timeout > self.deadline
        ):
            return None
        return wait
