"""The 0.4 logging options, mapped onto standard :mod:`logging` (pure: no Redis I/O).

redis-toolkit 0.4 configured its own logger from ``RedisOptions``; here the same fields act on
the ``redis_toolkit`` logger, and only when they differ from their defaults, so an application
that configures logging itself is never overridden by default options:

- ``log_path``: a file handler at ``log_level`` on the ``redis_toolkit`` logger (one per path);
  a directory gets a ``redis_toolkit.log`` file inside it, as 0.4 wrote its log into the directory;
- ``log_level`` other than ``"INFO"``: the level of the ``redis_toolkit`` logger;
- ``is_logger_info`` (default True): each setter/getter/publish is logged at INFO with its value
  cut to ``max_log_size`` characters, when the logger is enabled for INFO.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from .options import RedisOptions

__all__ = ["apply_legacy_logging", "describe", "log_file_path"]

_handlers: dict[str, logging.Handler] = {}
_lock = threading.Lock()


def apply_legacy_logging(options: RedisOptions) -> None:
    """Apply ``log_level`` and ``log_path`` of ``options`` to the ``redis_toolkit`` logger."""
    logger = logging.getLogger("redis_toolkit")
    level = options.logging_level
    if options.log_path is not None:
        path = log_file_path(options.log_path)
        with _lock:
            handler = _handlers.get(path)
            if handler is None:
                handler = logging.FileHandler(path, encoding="utf-8")
                handler.setFormatter(
                    logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
                )
                logger.addHandler(handler)
                _handlers[path] = handler
            handler.setLevel(level)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
    elif options.log_level != "INFO":
        logger.setLevel(level)


def log_file_path(log_path: str) -> str:
    """The file that ``log_path`` names: itself, or ``redis_toolkit.log`` inside a directory."""
    if os.path.isdir(log_path):
        return os.path.join(log_path, "redis_toolkit.log")
    return log_path


def describe(value: Any, max_size: int) -> str:
    """``repr(value)`` cut to ``max_size`` characters, for log lines. Never raises.

    A value whose ``repr`` fails (an int over 4,300 digits, a broken ``__repr__``, a structure too
    deep) is described by its type and the reason instead.
    """
    try:
        text = repr(value)
    except Exception as e:  # a log line must never break the call it describes
        return f"<{type(value).__name__}: repr failed with {type(e).__name__}>"
    if len(text) > max_size:
        return f"{text[:max_size]}... ({len(text)} chars)"
    return text
