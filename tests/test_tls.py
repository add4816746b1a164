"""TLS config plumbing that one API shows for both (the round trips of both APIs are in
tests/_async/test_tls.py and its generated sync copy; servers and certificates in tests/tls.py).

Written once, in sync: the URL and ``ssl_*`` fields become one RedisConnectionConfig, which both
APIs hand to redis-py the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from redis_toolkit import RedisConnectionConfig, RedisToolkit, pool_manager
from tests.servers import HOST
from tests.tls import VALUE, TLSServer


@pytest.fixture
def open_sync() -> Iterator[Callable[..., RedisToolkit]]:
    """``open_sync(config=...)`` or ``open_sync(url=..., **fields)``: a sync toolkit.

    Each is closed, and its shared pool disconnected, at the end of the test.
    """
    made: list[RedisToolkit] = []

    def make(config: RedisConnectionConfig | None = None, **url_fields: Any) -> RedisToolkit:
        if config is None:
            toolkit = RedisToolkit.from_url(url_fields.pop("url"), **url_fields)
        else:
            toolkit = RedisToolkit(config=config)
        made.append(toolkit)
        return toolkit

    yield make
    for toolkit in made:
        toolkit.close()
        assert toolkit.config is not None
        pool_manager.close_pool(toolkit.config)


def test_rediss_url_by_hostname(tls_server: TLSServer, open_sync: Any, prefix: str) -> None:
    """The hostname is checked against the certificate's DNS name, not just the IP."""
    toolkit = open_sync(
        url=f"rediss://localhost:{tls_server.tls_port}/0", ssl_ca_certs=tls_server.certs.ca
    )
    toolkit.setter(prefix + "k", VALUE)
    assert toolkit.getter(prefix + "k") == VALUE


def test_rediss_url_with_client_certificate(
    mutual_tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    certs = mutual_tls_server.certs
    toolkit = open_sync(
        url=f"rediss://{HOST}:{mutual_tls_server.tls_port}/0",
        ssl_ca_certs=certs.ca,
        ssl_certfile=certs.client_cert,
        ssl_keyfile=certs.client_key,
    )
    toolkit.setter(prefix + "k", VALUE)
    assert toolkit.getter(prefix + "k") == VALUE


def test_cert_reqs_none_skips_verification(
    tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    """``ssl_cert_reqs="none"`` reaches redis-py: the untrusted certificate is then accepted."""
    toolkit = open_sync(tls_server.config(ssl_ca_certs=None, ssl_cert_reqs="none"))
    toolkit.setter(prefix + "k", VALUE)
    assert toolkit.getter(prefix + "k") == VALUE
