"""The circuit breaker's state machine (pure: the clock is injected, nothing blocks or sleeps).

::

    CLOSED --failure_threshold consecutive failures--> OPEN
    OPEN   --recovery_timeout passed (or a health check succeeded)--> HALF_OPEN
    HALF_OPEN --success_threshold successful trial calls--> CLOSED
    HALF_OPEN --any counted failure--> OPEN (recovery timer restarted)

An executor wraps each call in :meth:`CircuitBreakerState.acquire` and then
:meth:`~CircuitBreakerState.record_success` or :meth:`~CircuitBreakerState.record_failure`::

    permit = state.acquire("GET")       # raises CircuitOpenError at once while OPEN
    try:
        result = operation()
    except BaseException as e:
        state.record_failure(e, permit)  # decides itself whether e counts
        raise
    state.record_success(permit)

Thread-safe: one ``threading.Lock`` guards a few integer updates; listeners run after it is
released, in the thread that caused the transition. Safe to share between asyncio tasks, since
nothing inside awaits or blocks.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from ..exceptions import CircuitOpenError, ValidationError
from .classify import counts_as_failure

__all__ = ["CircuitState", "CircuitBreakerState", "Permit", "StateListener"]

logger = logging.getLogger("redis_toolkit.resilience")

#: retry_after given to calls turned away because every HALF_OPEN trial slot is taken.
HALF_OPEN_BUSY_RETRY_AFTER = 0.1


class CircuitState(str, Enum):
    """The three states of a circuit breaker."""

    CLOSED = "closed"
    """Calls go through; consecutive failures are counted."""

    OPEN = "open"
    """Calls fail at once with ``CircuitOpenError``, without a network round trip."""

    HALF_OPEN = "half_open"
    """A bounded number of trial calls go through to test whether the server is back."""


#: A state-change listener: called as ``listener(old_state, new_state)``.
StateListener = Callable[[CircuitState, CircuitState], Any]


class Permit(NamedTuple):
    """Proof that :meth:`CircuitBreakerState.acquire` let a call through; hand it back after.

    ``generation`` identifies the breaker state the call started in: the outcome of a call that
    started before the breaker changed state (a slow call that fails after the breaker already
    opened) is ignored, since it tells nothing about the server now. ``trial`` is True when the
    permit holds one of the HALF_OPEN trial slots.
    """

    state: CircuitState
    generation: int
    trial: bool
    command: str | None = None


#: Builds a Permit without the Python-level ``__new__`` a NamedTuple class call goes through.
_new_permit = tuple.__new__


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(f"CircuitBreakerState: {message}")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class CircuitBreakerState:
    """A thread-safe circuit breaker state machine with an injected clock.

    * CLOSED: ``failure_threshold`` *consecutive* counted failures open it (a success resets
      the count).
    * OPEN: :meth:`acquire` raises :class:`~redis_toolkit.exceptions.CircuitOpenError` at once,
      with ``retry_after`` = seconds until a trial call is allowed. Once ``recovery_timeout``
      seconds have passed, the breaker turns HALF_OPEN lazily, the next time :attr:`state` is
      read or :meth:`acquire` is called.
    * HALF_OPEN: at most ``half_open_max_calls`` trial calls run at a time; other calls are
      turned away with a short ``retry_after``. ``success_threshold`` successful trials close
      it; any counted failure re-opens it and restarts the recovery timer.

    What counts as a failure is ``failure_predicate(error)``, by default
    :func:`~redis_toolkit.resilience.classify.counts_as_failure`: connection errors and timeouts
    count; a ``ResponseError`` (a bad command: the server answered), validation errors and
    cancellation do not. A non-counting error in HALF_OPEN still frees its trial slot.

    ``clock`` returns seconds (monotonic); ``name`` appears in error messages and snapshots.

    ``idle_permit`` is, while the breaker is CLOSED with no failure counted, one permit that
    every call may use instead of calling :meth:`acquire`; ``None`` otherwise (then call
    :meth:`acquire`). A call holding it that succeeds while it is still the breaker's
    ``idle_permit`` (the same object) changes nothing, so an executor may skip
    :meth:`record_success` then; every other outcome is reported as usual (a stale idle permit
    is ignored by generation like any other). It saves the hot path two calls and an allocation.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        half_open_max_calls: int = 1,
        success_threshold: int = 1,
        clock: Callable[[], float] = time.monotonic,
        name: str = "redis",
        failure_predicate: Callable[[BaseException], bool] | None = None,
    ) -> None:
        _check(
            _positive_int(failure_threshold),
            f"failure_threshold must be an int >= 1, got {failure_threshold!r}",
        )
        _check(
            isinstance(recovery_timeout, (int, float))
            and not isinstance(recovery_timeout, bool)
            and math.isfinite(recovery_timeout)
            and recovery_timeout >= 0,
            f"recovery_timeout must be a finite number >= 0 (seconds), got {recovery_timeout!r}",
        )
        _check(
            _positive_int(half_open_max_calls),
            f"half_open_max_calls must be an int >= 1, got {half_open_max_calls!r}",
        )
        _check(
            _positive_int(success_threshold),
            f"success_threshold must be an int >= 1, got {success_threshold!r}",
        )
        _check(callable(clock), f"clock must be callable, got {clock!r}")
        _check(isinstance(name, str) and bool(name), f"name must be a non-empty str, got {name!r}")
        self.failure_threshold = failure_threshold
        self.recovery_timeout = float(recovery_timeout)
        self.half_open_max_calls = half_open_max_calls
        self.success_threshold = success_threshold
        self.name = name
        self._clock = clock
        self._is_failure = failure_predicate or counts_as_failure
        self._lock = threading.Lock()
        # Copy-on-write, so that notifying needs no lock.
        self._listeners: tuple[StateListener, ...] = ()
        self._state = CircuitState.CLOSED
        self._generation = 0
        self._transitions = 0
        self._failures = 0  # consecutive counted failures while CLOSED
        self._half_open_in_flight = 0
        self._half_open_successes = 0
        self._opened_at: float | None = None
        self._last_failure_at: float | None = None
        self._forced = False
        self._rejected = 0
        # Replaced (never mutated) with the lock held; read without it (see the docstring).
        self.idle_permit: Permit | None = _new_permit(
            Permit, (CircuitState.CLOSED, self._generation, False, None)
        )

    def __repr__(self) -> str:
        return (
            f"CircuitBreakerState(name={self.name!r}, state={self._state.value}, "
            f"failures={self._failures}/{self.failure_threshold})"
        )

    # -- transitions (called with the lock held; return what listeners must hear) -----------

    def _move(self, new: CircuitState, now: float) -> tuple[CircuitState, CircuitState] | None:
        old = self._state
        if old is new:
            return None
        # Withdrawn before the state changes: a lock-free reader holding the idle permit knows
        # the breaker was CLOSED (and clean) at that moment, as acquire()'s own hot path does.
        self.idle_permit = None
        self._state = new
        self._generation += 1
        self._transitions += 1
        self._half_open_in_flight = 0
        self._half_open_successes = 0
        if new is CircuitState.OPEN:
            self._opened_at = now
        elif new is CircuitState.CLOSED:
            self._failures = 0
            self._opened_at = None
            self._forced = False
            self._idle()
        return (old, new)

    def _idle(self) -> None:
        """CLOSED with no failure counted (lock held): hand out a new idle permit."""
        self.idle_permit = _new_permit(Permit, (CircuitState.CLOSED, self._generation, False, None))

    def _open(self, now: float) -> tuple[CircuitState, CircuitState] | None:
        change = self._move(CircuitState.OPEN, now)
        # Re-opening from OPEN (forced) still restarts the timer.
        self._opened_at = now
        return change

    def _advance(self, now: float) -> tuple[CircuitState, CircuitState] | None:
        """OPEN turns HALF_OPEN once recovery_timeout has passed (unless forced open)."""
        if (
            self._state is CircuitState.OPEN
            and not self._forced
            and self._opened_at is not None
            and now - self._opened_at >= self.recovery_timeout
        ):
            return self._move(CircuitState.HALF_OPEN, now)
        return None

    def _retry_after(self, now: float) -> float:
        if self._state is CircuitState.OPEN:
            if self._forced or self._opened_at is None:
                return self.recovery_timeout
            return max(0.0, self._opened_at + self.recovery_timeout - now)
        if self._state is CircuitState.HALF_OPEN:
            if self._half_open_in_flight >= self.half_open_max_calls:
                return min(HALF_OPEN_BUSY_RETRY_AFTER, self.recovery_timeout)
        return 0.0

    def _notify(self, change: tuple[CircuitState, CircuitState] | None) -> None:
        if change is None:
            return
        old, new = change
        logger.log(
            logging.WARNING if new is CircuitState.OPEN else logging.INFO,
            "circuit breaker %r: %s -> %s",
            self.name,
            old.value,
            new.value,
        )
        for listener in self._listeners:
            try:
                result = listener(old, new)
            except Exception:
                logger.exception(
                    "listener %r of circuit breaker %r raised on %s -> %s",
                    listener,
                    self.name,
                    old.value,
                    new.value,
                )
                continue
            if inspect.iscoroutine(result):
                result.close()
                logger.error(
                    "listener %r of circuit breaker %r is a coroutine function; listeners must "
                    "be plain functions (it was not run)",
                    listener,
                    self.name,
                )

    # -- public API -------------------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state; an OPEN breaker past its recovery timeout turns HALF_OPEN here."""
        now = self._clock()
        with self._lock:
            change = self._advance(now)
            state = self._state
        self._notify(change)
        return state

    @property
    def transitions(self) -> int:
        """How many state changes happened since the breaker was created."""
        return self._transitions

    @property
    def failures(self) -> int:
        """Consecutive counted failures while CLOSED (reset by a success and by closing)."""
        return self._failures

    def acquire(self, command: str | None = None) -> Permit:
        """Let one call through, or raise :class:`~redis_toolkit.exceptions.CircuitOpenError`.

        Never does I/O. While OPEN (or HALF_OPEN with every trial slot taken) it raises at once;
        ``retry_after`` on the error is the number of seconds until a call may be let through.
        Return the permit to :meth:`record_success` or :meth:`record_failure`.
        """
        # Hot path: CLOSED needs no lock. A transition racing with this read bumps the
        # generation, so the permit is then stale and its outcome ignored, as for any call
        # that started before a transition.
        generation = self._generation
        if self._state is CircuitState.CLOSED:
            return _new_permit(Permit, (CircuitState.CLOSED, generation, False, command))
        now = self._clock()
        error: CircuitOpenError | None = None
        permit = None
        with self._lock:
            change = self._advance(now)
            state = self._state
            if state is CircuitState.CLOSED:
                permit = Permit(state, self._generation, False, command)
            elif (
                state is CircuitState.HALF_OPEN
                and self._half_open_in_flight < self.half_open_max_calls
            ):
                self._half_open_in_flight += 1
                permit = Permit(state, self._generation, True, command)
            else:
                self._rejected += 1
                error = self._rejection(now, command)
        self._notify(change)
        if error is not None:
            raise error
        assert permit is not None
        return permit

    def _rejection(self, now: float, command: str | None) -> CircuitOpenError:
        retry_after = self._retry_after(now)
        what = f"{command} refused: " if command else ""
        if self._state is CircuitState.HALF_OPEN:
            message = (
                f"{what}circuit breaker {self.name!r} is half_open and its "
                f"{self.half_open_max_calls} trial call(s) are in flight; "
                f"retry in {retry_after:.2f}s"
            )
        elif self._forced:
            message = (
                f"{what}circuit breaker {self.name!r} is open (forced open); it stays open "
                "until reset() is called"
            )
        else:
            message = (
                f"{what}circuit breaker {self.name!r} is open: Redis kept failing (connection "
                f"errors or timeouts), so calls fail at once for {retry_after:.2f}s more, then "
                "a trial call is let through"
            )
        return CircuitOpenError(message, retry_after=retry_after)

    def record_success(self, permit: Permit | None = None) -> None:
        """Report that the call holding ``permit`` succeeded.

        In CLOSED it resets the consecutive failure count; in HALF_OPEN it frees the trial slot
        and, at ``success_threshold`` successes, closes the breaker. ``permit=None`` applies to
        the current state (for callers that did not acquire). Stale permits are ignored.
        """
        if permit is not None and permit is self.idle_permit:
            return  # hot path: CLOSED, same generation, no failure counted: nothing to change
        if (
            self._failures == 0
            and self._state is CircuitState.CLOSED
            and permit is not None
            and permit.generation == self._generation
        ):
            return  # nothing to change either
        now = self._clock()
        change = None
        with self._lock:
            if permit is not None and permit.generation != self._generation:
                return
            if self._state is CircuitState.CLOSED:
                self._failures = 0
                if self.idle_permit is None:
                    self._idle()
            elif self._state is CircuitState.HALF_OPEN:
                if permit is not None and permit.trial:
                    self._half_open_in_flight = max(0, self._half_open_in_flight - 1)
                self._half_open_successes += 1
                if self._half_open_successes >= self.success_threshold:
                    change = self._move(CircuitState.CLOSED, now)
        self._notify(change)

    def record_failure(self, error: BaseException, permit: Permit | None = None) -> None:
        """Report that the call holding ``permit`` raised ``error``.

        Errors for which the failure predicate is False (a ``ResponseError``, a validation
        error, cancellation) change nothing, except that they free a HALF_OPEN trial slot. A
        counted failure adds to the consecutive count in CLOSED (opening the breaker at
        ``failure_threshold``) and re-opens a HALF_OPEN breaker. Stale permits are ignored.
        """
        try:
            counts = bool(self._is_failure(error))
        except Exception:
            logger.exception("failure predicate of circuit breaker %r raised", self.name)
            counts = False
        now = self._clock()
        change = None
        with self._lock:
            if permit is not None and permit.generation != self._generation:
                return
            if permit is not None and permit.trial and self._state is CircuitState.HALF_OPEN:
                self._half_open_in_flight = max(0, self._half_open_in_flight - 1)
            if not counts:
                return
            change = self._count_failure(now)
        self._notify(change)

    def _count_failure(self, now: float) -> tuple[CircuitState, CircuitState] | None:
        """One counted failure (lock held): may open a CLOSED breaker, re-opens a HALF_OPEN one."""
        self._last_failure_at = now
        if self._state is CircuitState.CLOSED:
            self.idle_permit = None  # before the count: the idle permit promises none
            self._failures += 1
            if self._failures >= self.failure_threshold:
                return self._open(now)
        elif self._state is CircuitState.HALF_OPEN:
            return self._open(now)
        return None

    def report_health(self, ok: bool) -> None:
        """Feed the result of a background health check (a PING) into the breaker.

        * failed check while CLOSED: counts as one failure (it may open the breaker);
        * failed check while HALF_OPEN: re-opens it and restarts the recovery timer;
        * failed check while OPEN: nothing (the recovery timer is not extended);
        * successful check while OPEN: the server is back, so the breaker turns HALF_OPEN at
          once, without waiting for ``recovery_timeout``; real trial calls then decide;
        * successful check while CLOSED or HALF_OPEN: nothing (a PING answering does not prove
          that real commands do).

        A breaker opened with :meth:`force_open` ignores health checks until :meth:`reset`.
        """
        now = self._clock()
        change = None
        with self._lock:
            advanced = self._advance(now)
            if self._forced:
                pass
            elif ok:
                if self._state is CircuitState.OPEN:
                    change = self._move(CircuitState.HALF_OPEN, now)
            else:
                change = self._count_failure(now)  # while OPEN it only notes the time
        self._notify(advanced)
        self._notify(change)

    def force_open(self) -> None:
        """Open the breaker and keep it open (no recovery, no health checks) until :meth:`reset`.

        For maintenance windows: every call fails at once with ``CircuitOpenError``.
        """
        now = self._clock()
        with self._lock:
            change = self._open(now)
            self._forced = True
        self._notify(change)

    def reset(self) -> None:
        """Close the breaker and clear its counters (also ends :meth:`force_open`)."""
        now = self._clock()
        with self._lock:
            change = self._move(CircuitState.CLOSED, now)
            self._failures = 0
            if self.idle_permit is None:
                self._idle()
            self._forced = False
            self._opened_at = None
            self._last_failure_at = None
        self._notify(change)

    def force_closed(self) -> None:
        """Same as :meth:`reset`: close the breaker now and clear its counters."""
        self.reset()

    def add_listener(self, callback: StateListener) -> None:
        """Call ``callback(old_state, new_state)`` after every state change.

        Listeners run outside the lock, in the thread that caused the change; they must be quick
        plain functions (not coroutine functions). One that raises is logged on
        ``redis_toolkit.resilience`` and does not affect the breaker or the other listeners.
        """
        if not callable(callback):
            raise ValidationError(
                f"CircuitBreakerState: listener must be callable, got {callback!r}"
            )
        with self._lock:
            self._listeners = (*self._listeners, callback)

    def remove_listener(self, callback: StateListener) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        with self._lock:
            listeners = list(self._listeners)
            if callback in listeners:
                listeners.remove(callback)
                self._listeners = tuple(listeners)

    def snapshot(self) -> dict[str, Any]:
        """The breaker's state as a dict, for logs, health endpoints and metrics.

        Keys: ``name``, ``state`` (its string value), ``failures`` (consecutive, CLOSED),
        ``failure_threshold``, ``last_failure_at`` and ``opened_at`` (clock readings or
        ``None``), ``retry_after`` (seconds until a call may pass; 0.0 when one may pass now),
        ``transitions``, ``half_open_in_flight``, ``rejected_calls``, ``forced``.
        """
        now = self._clock()
        with self._lock:
            change = self._advance(now)
            snap = {
                "name": self.name,
                "state": self._state.value,
                "failures": self._failures,
                "failure_threshold": self.failure_threshold,
                "last_failure_at": self._last_failure_at,
                "opened_at": self._opened_at,
                "retry_after": self._retry_after(now),
                "transitions": self._transitions,
                "half_open_in_flight": self._half_open_in_flight,
                "rejected_calls": self._rejected,
                "forced": self._forced,
            }
        self._notify(change)
        return snap
