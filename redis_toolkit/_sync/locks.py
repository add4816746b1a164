# Generated from redis_toolkit/_async/locks.py by tools/run_unasync.py. DO NOT EDIT.
"""The lease lock: redis-py's ``Lock`` plus auto-renewal, a fencing token and loss detection.

``RedisToolkit.lock`` makes an :class:`RedisLock` (``RedisLock`` in the generated
sync copy). redis-py keeps what it does well (SET NX PX with a random token, its blocking
loop, its Lua release and reacquire scripts); every call to Redis goes through the toolkit's
resilience path. The renewal is the house's background pattern: a poll loop with a stop
event, started by ``Runtime.spawn``, stopped by the event and ``Runtime.join``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from redis.exceptions import LockNotOwnedError

from .._compat import Event, RedisPyLock, Runtime
from .._validation import check_key, ttl_seconds
from ..cluster_slots import keyslot
from ..exceptions import LockError, LockTimeoutError, ValidationError

if TYPE_CHECKING:
    from .client import RedisToolkit

__all__ = ["RedisLock", "fence_key"]

logger = logging.getLogger("redis_toolkit.locks")

# KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token, ARGV[2] lease in ms. Acquires with SET NX
# PX as redis-py's Lock does and INCRs the fence in the same script, so fencing tokens follow the
# order of acquisitions. Sent again by the same holder (a retry after a lost reply), it answers
# the fence it already got instead of "taken".
_ACQUIRE_SCRIPT = """
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then
    return tonumber(redis.call('get', KEYS[2]) or '0')
end
if current then
    return false
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('incr', KEYS[2])
"""


def fence_key(name: str) -> str:
    """The fence counter's key: ``name``'s hash tag if it has one, else ``{name}:fence``."""
    for candidate in (f"{name}:fence", f"{{{name}}}:fence"):
        if keyslot(candidate) == keyslot(name):
            return candidate
    raise ValidationError(
        f"lock name {name!r}: no fence key shares its cluster slot; use a name without braces or "
        "with a hash tag, e.g. '{orders}:lock'",
        key=name,
    )


class _FencedPyLock(RedisPyLock):  # type: ignore[misc,valid-type]
    """redis-py's Lock with acquire (plus the fence), release and reacquire on the toolkit path.

    redis-py keeps its blocking loop, its token handling and its release/reacquire scripts; only
    the calls to Redis go through the toolkit (breaker, retries, metrics).
    """

    lua_acquire: Any = None

    def __init__(self, owner: RedisLock, **kwargs: Any) -> None:
        self._owner = owner
        super().__init__(**kwargs)

    def register_scripts(self) -> None:
        super().register_scripts()
        cls = type(self)
        if cls.lua_acquire is None:
            cls.lua_acquire = self.redis.register_script(_ACQUIRE_SCRIPT)

    def do_acquire(self, token: Any) -> bool:
        return bool(self._owner._do_acquire(token))

    def do_release(self, expected_token: Any) -> None:
        self._owner._do_release(expected_token)

    def do_reacquire(self) -> Any:
        return self._owner._do_renew()


class RedisLock:
    """A lease lock on Redis that renews itself while its holder lives, with a fencing token.

    Made by :meth:`RedisToolkit.lock`; ``with toolkit.lock("jobs:nightly", ttl=10,
    blocking_timeout=5) as lock:`` (``with`` in the sync API). Built on redis-py's ``Lock`` (SET
    NX PX with a random token; Lua release and reacquire), plus:

    - ``auto_renew``: a background loop (a task in async, a daemon thread in sync) resets the
      lease to ``ttl`` every ``ttl / 3`` while the block runs. It stops when the block exits,
      when the holder's task or thread has ended, or when the lock is found lost.
    - ``token``: the fencing token, an integer that grows with every acquisition of this name
      (INCR of a counter key in the lock's slot, in the acquiring script). Pass it to systems
      you write to, and have them refuse a token lower than one they have seen.
    - ``lost``: True once the lease may have expired (a renewal found the key gone or owned by
      someone else, or renewals failed until the lease ran out by the local clock).

    Entering raises :class:`~redis_toolkit.exceptions.LockTimeoutError` when the lock stays
    taken for ``blocking_timeout`` seconds; leaving raises
    :class:`~redis_toolkit.exceptions.LockError` if the lock was lost (unless the block raised:
    that error is kept and the loss logged). A lease lock is not a consensus lock: see
    docs/TRANSACTIONS.md.
    """

    def __init__(
        self,
        toolkit: RedisToolkit,
        name: str,
        *,
        ttl: float | timedelta = 30.0,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        auto_renew: bool = True,
        sleep: float = 0.1,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise ValidationError(f"lock name must be a str, got {type(name).__name__}: {name!r}")
        check_key(name, toolkit.options)
        self.name = name
        self.ttl = ttl_seconds(ttl, name)
        if blocking_timeout is not None and (
            isinstance(blocking_timeout, bool)
            or not isinstance(blocking_timeout, (int, float))
            or blocking_timeout < 0
        ):
            raise ValidationError(
                f"lock {name!r}: blocking_timeout must be seconds >= 0 or None, got "
                f"{blocking_timeout!r}",
                key=name,
            )
        if on_error is not None:
            Runtime.check_callable(on_error, "on_error")
        self.fence_key = fence_key(name)
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.auto_renew = auto_renew
        self.renew_interval = self.ttl / 3
        self._toolkit = toolkit
        self._on_error = on_error
        self._py = _FencedPyLock(
            self,
            redis=toolkit._client,
            name=name,
            timeout=self.ttl,
            sleep=sleep,
            blocking=blocking,
            blocking_timeout=blocking_timeout,
            thread_local=False,  # the renewal runs in another thread in the sync API
        )
        self.token: int | None = None
        self._held = False
        self._lost = False
        self._expires_at = 0.0
        self._attempt_started = 0.0
        self._stop = Event()
        self._renewer: Any = None
        self._holder: Any = None

    def _lease_ms(self) -> int:
        return max(1, round(self.ttl * 1000))

    # -- state -------------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether this object acquired the lock and has not released it (it may be lost)."""
        return self._held

    @property
    def lost(self) -> bool:
        """Whether the lease may have expired while held: stop acting on the lock's behalf."""
        if not self._held:
            return self._lost
        return self._lost or Runtime.monotonic() >= self._expires_at

    @property
    def renewing(self) -> bool:
        """Whether the background renewal runs."""
        return self._renewer is not None and not Runtime.finished(self._renewer)

    def owned(self) -> bool:
        """Ask Redis whether the lock key still holds this holder's token."""
        return bool(
            self._toolkit._run("LOCK_OWNED", self._py.owned, key=self.name, idempotent=True)
        )

    # -- redis-py's hooks, on the toolkit path --------------------------------------------------

    def _do_acquire(self, token: bytes) -> bool:
        started = Runtime.monotonic()
        fence = self._toolkit._run(
            "LOCK_ACQUIRE",
            self._py.lua_acquire,
            keys=[self.name, self.fence_key],
            args=[token, self._lease_ms()],
            client=self._toolkit._client,
            key=self.name,
            idempotent=True,  # the script answers a repeat by the same holder with its fence
        )
        if fence is None:
            return False
        self.token = int(fence)
        self._expires_at = started + self.ttl
        return True

    def _do_release(self, token: bytes) -> None:
        released = self._toolkit._run(
            "LOCK_RELEASE",
            cast(Any, self._py.lua_release),
            keys=[self.name],
            args=[token],
            client=self._toolkit._client,
            key=self.name,
            idempotent=False,  # a repeat would answer "not owned" for its own release
        )
        if not released:
            raise LockNotOwnedError("Cannot release a lock that's no longer owned")

    def _do_renew(self) -> bool:
        started = Runtime.monotonic()
        token = self._py.local.token
        if token is None:
            raise LockNotOwnedError("Cannot reacquire an unlocked lock")
        renewed = self._toolkit._run(
            "LOCK_RENEW",
            cast(Any, self._py.lua_reacquire),
            keys=[self.name],
            args=[token, self._lease_ms()],
            client=self._toolkit._client,
            key=self.name,
            idempotent=True,  # resets the lease to an absolute ttl
        )
        if not renewed:
            raise LockNotOwnedError("Cannot reacquire a lock that's no longer owned")
        self._expires_at = started + self.ttl
        return True

    # -- acquire and release -----------------------------------------------------------------

    def acquire(
        self, blocking: bool | None = None, blocking_timeout: float | None = None
    ) -> bool:
        """Take the lock; False if it stayed taken (``blocking_timeout``) or, non-blocking, was.

        Starts the renewal when ``auto_renew`` is set. ``token`` is the new fencing token.
        """
        if self._held:
            raise LockError(f"lock {self.name!r} is already held by this object", name=self.name)
        if not self._py.acquire(blocking=blocking, blocking_timeout=blocking_timeout):
            return False
        self._held = True
        self._lost = False
        self._holder = Runtime.current_handle()
        if self.auto_renew:
            self._stop = Event()
            self._renewer = Runtime.spawn(
                self._renew_loop, name=f"redis_toolkit-lock-{self.name}"
            )
        return True

    def release(self) -> None:
        """Stop renewing and release the lock.

        Raises :class:`~redis_toolkit.exceptions.LockError` when the lock was no longer held
        (its lease expired and maybe another holder took it): whatever was done under it since
        the lease ran out was not protected.
        """
        if not self._held:
            raise LockError(f"lock {self.name!r} is not held by this object", name=self.name)
        self.stop_renewal()
        was_lost = self.lost
        self._held = False
        try:
            self._py.release()
        except LockNotOwnedError:
            self._lost = True
            raise LockError(
                f"lock {self.name!r} (fencing token {self.token}) was lost before its release: "
                "its lease expired (renewal stopped or failed, or the holder paused too long) "
                "and another holder may have acquired it since",
                name=self.name,
            ) from None
        except BaseException:
            self._lost = was_lost
            raise
        self._lost = False

    def extend(self, ttl: float | timedelta | None = None) -> None:
        """Reset the lease to ``ttl`` seconds (default: the lock's ``ttl``) now."""
        if not self._held:
            raise LockError(f"lock {self.name!r} is not held by this object", name=self.name)
        if ttl is not None:
            self.ttl = ttl_seconds(ttl, self.name)
            self._py.timeout = self.ttl
            self.renew_interval = self.ttl / 3
        try:
            self._do_renew()
        except LockNotOwnedError:
            self._lost = True
            raise LockError(
                f"lock {self.name!r} (fencing token {self.token}) is no longer held: its lease "
                "expired",
                name=self.name,
            ) from None

    def stop_renewal(self) -> bool:
        """Stop the background renewal (the lease then runs out after ``ttl``); True if ended."""
        if self._renewer is None:
            return True
        self._stop.set()
        finished = Runtime.join(self._renewer, self.renew_interval + 5.0)
        self._renewer = None
        return finished

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_interval):
            if Runtime.finished(self._holder):
                logger.warning(
                    "lock %r: its holder ended without releasing it; renewal stops and the lease "
                    "runs out in %.1fs",
                    self.name,
                    max(0.0, self._expires_at - Runtime.monotonic()),
                )
                return
            try:
                self._do_renew()
            except LockNotOwnedError:
                self._lost = True
                self._report(
                    LockError(
                        f"lock {self.name!r} (fencing token {self.token}) was lost: the key "
                        "expired or another holder owns it; renewal stops",
                        name=self.name,
                    )
                )
                return
            except Exception as e:
                self._report(e)
                if Runtime.monotonic() >= self._expires_at:
                    self._lost = True
                    self._report(
                        LockError(
                            f"lock {self.name!r} (fencing token {self.token}): renewals failed "
                            "until the lease ran out; the lock is lost",
                            name=self.name,
                        )
                    )
                    return

    def _report(self, error: BaseException) -> None:
        logger.warning("lock %r renewal: %s", self.name, error)
        if self._on_error is not None:
            try:
                Runtime.call(self._on_error, error)
            except Exception:
                logger.exception("lock %r: on_error callback raised", self.name)

    def __enter__(self) -> RedisLock:
        started = Runtime.monotonic()
        if not self.acquire():
            waited = Runtime.monotonic() - started
            if self.blocking:
                how = f"within blocking_timeout={self.blocking_timeout}s (waited {waited:.2f}s)"
            else:
                how = "(blocking=False)"
            raise LockTimeoutError(
                f"lock {self.name!r} is held by another client: not acquired {how}",
                name=self.name,
            )
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if not self._held:
            return
        try:
            self.release()
        except LockError as e:
            if exc_type is None:
                raise
            logger.warning("%s (the block's own error is raised)", e)

    def __repr__(self) -> str:
        state = "lost" if self.lost else ("held" if self._held else "free")
        return f"<{type(self).__name__} {self.name!r} token={self.token} {state}>"
