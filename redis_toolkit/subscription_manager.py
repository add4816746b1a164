"""Dynamic subscriptions: which channels a subscriber wants, their handlers, and idle expiry.

Pure bookkeeping (clock injected, thread-safe, no I/O), as in redis-toolkit 0.4: channels added
with a callback, expired after ``expire_minutes`` without a message, kept in an "expired" list
that can be queried and resubscribed. The subscriber's listener applies what this registry says
to Redis (SUBSCRIBE / UNSUBSCRIBE) without restarting; see ``AsyncSubscriber``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ChannelInfo", "SubscriptionManager"]


@dataclass
class ChannelInfo:
    """One dynamically subscribed channel: its callback and activity."""

    name: str
    callback: Callable[[str, Any], Any] | None
    last_activity: float = field(default_factory=time.time)
    subscribe_time: float = field(default_factory=time.time)
    message_count: int = 0
    is_active: bool = True
    expired_time: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The 0.4 shape: ISO timestamps and counters."""
        info: dict[str, Any] = {
            "last_activity": datetime.fromtimestamp(self.last_activity).isoformat(),
            "subscribe_time": datetime.fromtimestamp(self.subscribe_time).isoformat(),
            "message_count": self.message_count,
            "is_active": self.is_active,
        }
        if self.expired_time is not None:
            info["expired_time"] = datetime.fromtimestamp(self.expired_time).isoformat()
        return info


class SubscriptionManager:
    """Registry of dynamic channels with idle expiry (0.4 API, also a context manager).

    ``expire_minutes``: a channel with no message for that long expires (the listener then
    unsubscribes it in Redis). ``check_interval``: how often the listener looks. ``auto_cleanup``
    and ``max_expired``: keep at most that many expired records (oldest dropped first).
    ``clock`` returns wall-clock seconds (injectable for tests). Expiry is checked by the
    listener of the toolkit the manager belongs to (0.4 ran a timer thread of its own).
    """

    def __init__(
        self,
        expire_minutes: float = 5.0,
        check_interval: float = 30.0,
        auto_cleanup: bool = True,
        max_expired: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.expire_minutes = expire_minutes
        self.check_interval = check_interval
        self.auto_cleanup = auto_cleanup
        self.max_expired = max_expired
        self._clock = clock
        self._lock = threading.RLock()
        self._channels: dict[str, ChannelInfo] = {}
        self._expired: dict[str, ChannelInfo] = {}
        self._total_subscribed = 0
        self._total_expired = 0
        self._running = False  # as in 0.4: started by start() or the first subscription

    # -- 0.4 lifecycle (the listener does the checking; these only flag the state) -------------

    def start(self) -> None:
        """Mark the manager running (expiry is checked by the subscriber's listener)."""
        self._running = True

    def stop(self) -> None:
        """Mark the manager stopped: no channel expires while stopped."""
        self._running = False

    @property
    def running(self) -> bool:
        """Whether idle channels expire."""
        return self._running

    # -- registry ----------------------------------------------------------------------------

    def subscribe_dynamic(self, channel: str, callback: Callable[[str, Any], Any] | None) -> bool:
        """Add ``channel`` with its callback (an expired record is revived). Always True."""
        now = self._clock()
        with self._lock:
            info = self._channels.get(channel) or self._expired.pop(channel, None)
            if info is None:
                info = ChannelInfo(channel, callback, last_activity=now, subscribe_time=now)
                self._total_subscribed += 1
            info.callback = callback
            info.last_activity = now
            info.is_active = True
            info.expired_time = None
            self._channels[channel] = info
        self._running = True
        return True

    def unsubscribe_dynamic(self, channel: str) -> bool:
        """Remove ``channel``; False if it was not subscribed. Its record joins the expired list."""
        with self._lock:
            info = self._channels.pop(channel, None)
            if info is None:
                return False
            self._retire(info)
            return True

    def _retire(self, info: ChannelInfo) -> None:
        info.is_active = False
        info.expired_time = self._clock()
        self._expired[info.name] = info
        if self.auto_cleanup:
            while len(self._expired) > self.max_expired:
                self._expired.pop(next(iter(self._expired)))

    def update_activity(self, channel: str) -> None:
        """Note a message on ``channel`` (keeps it from expiring)."""
        with self._lock:
            info = self._channels.get(channel)
            if info is not None:
                info.last_activity = self._clock()
                info.message_count += 1

    def is_subscribed(self, channel: str) -> bool:
        """Whether ``channel`` is an active dynamic channel."""
        with self._lock:
            return channel in self._channels

    def channels(self) -> list[str]:
        """The active dynamic channels."""
        with self._lock:
            return list(self._channels)

    def get_channel_callback(self, channel: str) -> Callable[[str, Any], Any] | None:
        """The callback of an active dynamic channel, or None."""
        with self._lock:
            info = self._channels.get(channel)
            return info.callback if info is not None else None

    def expire_idle(self) -> list[str]:
        """Move channels idle for ``expire_minutes`` to the expired list; return their names."""
        if not self._running:
            return []
        limit = self.expire_minutes * 60.0
        now = self._clock()
        with self._lock:
            idle = [n for n, info in self._channels.items() if now - info.last_activity >= limit]
            for name in idle:
                self._retire(self._channels.pop(name))
            self._total_expired += len(idle)
            return idle

    def resubscribe(self, channel: str) -> bool:
        """Revive an expired channel with its old callback; False if it is not in the list."""
        with self._lock:
            info = self._expired.get(channel)
            if info is None:
                return False
        return self.subscribe_dynamic(channel, info.callback)

    def clear_expired(self) -> int:
        """Forget every expired record; return how many there were."""
        with self._lock:
            count = len(self._expired)
            self._expired.clear()
            return count

    # -- reports -----------------------------------------------------------------------------

    def get_active_channels(self) -> dict[str, dict[str, Any]]:
        """Active channels with their activity (0.4 shape)."""
        with self._lock:
            return {name: info.as_dict() for name, info in self._channels.items()}

    def get_expired_channels(self) -> dict[str, dict[str, Any]]:
        """Expired or unsubscribed channels with their activity (0.4 shape)."""
        with self._lock:
            return {name: info.as_dict() for name, info in self._expired.items()}

    def get_statistics(self) -> dict[str, Any]:
        """Counts of active and expired channels and settings (0.4 shape)."""
        with self._lock:
            return {
                "active_channels": list(self._channels),
                "active_count": len(self._channels),
                "expired_channels": list(self._expired),
                "expired_count": len(self._expired),
                "total_subscribed": self._total_subscribed,
                "total_expired": self._total_expired,
                "total_messages": sum(info.message_count for info in self._channels.values()),
                "expire_minutes": self.expire_minutes,
                "check_interval": self.check_interval,
                "is_running": self._running,
            }

    def __enter__(self) -> SubscriptionManager:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<SubscriptionManager active={len(self._channels)} expired={len(self._expired)} "
            f"expire_minutes={self.expire_minutes}>"
        )
