# Generated from tests/_async/test_tls.py by tools/run_unasync.py. DO NOT EDIT.
"""TLS end to end: ``rediss://`` and the ``ssl_*`` config fields against a real TLS redis-server.

The servers and certificates are in tests/tls.py. These tests show that the toolkit connects
over TLS, that the server certificate is really verified, that a client certificate is sent when
configured, and that nothing silently falls back to plaintext. Checks of config plumbing that
one API shows for both are in tests/test_tls.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Callable
from typing import Any

import pytest

from redis_toolkit import (
    RedisToolkit,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisConnectionConfig,
    pool_manager,
)
from tests.servers import HOST
from tests.tls import FAIL_FAST, VALUE, TLSServer, causes, stored


@pytest.fixture
def open_toolkit() -> Iterator[Callable[..., RedisToolkit]]:
    """``open_toolkit(config=...)`` or ``open_toolkit(url=..., **fields)``: a toolkit.

    Each is closed, and its pool disconnected, at the end of the test.
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


# -- round trips over TLS ------------------------------------------------------------------


def test_round_trip_over_tls(tls_server: TLSServer, open_toolkit: Any, prefix: str) -> None:
    toolkit = open_toolkit(tls_server.config())
    key = prefix + "dict"
    toolkit.setter(key, VALUE)
    assert toolkit.getter(key) == VALUE
    assert stored(tls_server, key)
    assert toolkit.health_check() is True
    assert toolkit.client.connection_pool.connection_class.__name__ == "SSLConnection"


def test_rediss_url(tls_server: TLSServer, open_toolkit: Any, prefix: str) -> None:
    url = f"rediss://{HOST}:{tls_server.tls_port}/0"
    toolkit = open_toolkit(url=url, ssl_ca_certs=tls_server.certs.ca)
    assert toolkit.config.ssl is True
    key = prefix + "dict"
    toolkit.setter(key, VALUE)
    assert toolkit.getter(key) == VALUE
    assert stored(tls_server, key)


# -- client certificates -------------------------------------------------------------------


def test_client_certificate_required(
    mutual_tls_server: TLSServer, open_toolkit: Any, prefix: str
) -> None:
    without = open_toolkit(mutual_tls_server.config(**FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        without.getter(prefix + "k")

    certs = mutual_tls_server.certs
    with_cert = open_toolkit(
        mutual_tls_server.config(ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key)
    )
    with_cert.setter(prefix + "k", VALUE)
    assert with_cert.getter(prefix + "k") == VALUE
    assert stored(mutual_tls_server, prefix + "k")


# -- the server certificate is verified ----------------------------------------------------


def test_untrusted_server_certificate_fails(
    tls_server: TLSServer, open_toolkit: Any, prefix: str
) -> None:
    # No ssl_ca_certs: only the system's CAs are trusted, and they did not sign the server's.
    config = tls_server.config(ssl_ca_certs=None, ssl_cert_reqs="required", **FAIL_FAST)
    toolkit = open_toolkit(config)
    with pytest.raises(ConnectionFailedError) as caught:
        toolkit.getter(prefix + "k")
    assert "certificate verify failed" in causes(caught.value).lower()


# -- no silent downgrade -------------------------------------------------------------------


def test_plaintext_to_tls_port_fails(
    tls_server: TLSServer, open_toolkit: Any, prefix: str
) -> None:
    toolkit = open_toolkit(tls_server.config(ssl=False, **FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        toolkit.getter(prefix + "k")


def test_tls_to_plaintext_port_fails(
    tls_server: TLSServer, open_toolkit: Any, prefix: str
) -> None:
    """A TLS config pointed at a plaintext port fails instead of talking in the clear.

    The plaintext server either answers the ClientHello with a RESP error (when its random
    bytes hold a newline) or waits for more: a TLS error or a handshake timeout, never a reply.
    ``socket_timeout`` bounds the latter: redis-py's sync client runs the handshake under the
    socket (read) timeout, not the connect timeout, so without it that one would wait forever.
    """
    config = RedisConnectionConfig(
        host=HOST,
        port=tls_server.server.port,
        ssl=True,
        ssl_ca_certs=tls_server.certs.ca,
        socket_timeout=0.25,
        **{**FAIL_FAST, "connection_timeout": 0.25},
    )
    toolkit = open_toolkit(config)
    with pytest.raises((ConnectionFailedError, OperationTimeoutError)):
        toolkit.getter(prefix + "k")
    assert not stored(tls_server, prefix + "k")


# -- pools ---------------------------------------------------------------------------------


def test_tls_and_plain_configs_get_different_pools(tls_server: TLSServer) -> None:
    tls_config = tls_server.config()
    plain_config = tls_server.config(ssl=False)
    try:
        tls_pool = pool_manager.get_pool(tls_config)
        plain_pool = pool_manager.get_pool(plain_config)
        assert tls_pool is not plain_pool
        assert tls_pool.connection_class.__name__ == "SSLConnection"
        assert plain_pool.connection_class.__name__ == "Connection"
        # The same config keeps its pool.
        assert pool_manager.get_pool(tls_server.config()) is tls_pool
    finally:
        pool_manager.close_pool(tls_config)
        pool_manager.close_pool(plain_config)
