"""Support for tests/_async/test_hardening.py that its one source cannot spell: the asyncio
exception a handler sees when something it awaited was cancelled elsewhere (the generated sync
tests raise the same class from their plain handlers)."""

from __future__ import annotations

import asyncio

#: What an awaited future cancelled by another task raises in the handler awaiting it.
CancelledError = asyncio.CancelledError
