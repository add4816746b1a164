"""TLS end to end: ``rediss://`` and the ``ssl_*`` config fields against a real TLS redis-server.

A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate are made
with ``openssl`` once per module. Two private servers speak TLS on one port each, beside a
plaintext port that the readiness check (and the assertions) use: one accepts clients without a
certificate (``--tls-auth-clients optional``), the other requires one (``yes``). The tests show
that both APIs connect over TLS, that the server certificate is really verified, that a client
certificate is sent when configured, and that nothing silently falls back to plaintext.

Skipped, with the reason, when ``openssl`` is missing or the redis-server build has no TLS.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from redis_toolkit import (
    AsyncRedisToolkit,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisConnectionConfig,
    RedisToolkit,
    async_pool_manager,
    pool_manager,
)
from tests.servers import HOST, RedisServer, free_port, redis_binaries_present

VALUE = {"name": "tls", "n": 3, "nested": {"ok": True, "items": [1, 2.5, "x"]}}

# Fail fast and visibly: one attempt, a short connect timeout, no background health pings.
FAIL_FAST: dict[str, Any] = {
    "connection_timeout": 1,
    "max_retries": 0,
    "health_check_enabled": False,
}


# -- certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Certs:
    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


def _openssl(directory: Path, *args: str) -> None:
    result = subprocess.run(
        [shutil.which("openssl") or "openssl", *args],
        cwd=directory,
        capture_output=True,
        timeout=30,
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr.decode()}")


def _make_certs(directory: Path) -> Certs:
    """A CA, a server certificate (127.0.0.1, localhost) and a client certificate it signed."""
    new_ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        directory,
        "req", "-x509", *new_ec_key, "-days", "2",
        "-subj", "/CN=redis_toolkit test CA",
        "-keyout", "ca.key", "-out", "ca.crt",
    )  # fmt: skip
    leaf_extensions = {
        "server": "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        "client": "extendedKeyUsage=clientAuth\n",
    }
    for name, extensions in leaf_extensions.items():
        (directory / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyAgreement\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n" + extensions
        )
        _openssl(
            directory,
            "req", "-new", *new_ec_key, "-subj", f"/CN=redis_toolkit test {name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr",
        )  # fmt: skip
        _openssl(
            directory,
            "x509", "-req", "-in", f"{name}.csr", "-days", "2",
            "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-extfile", f"{name}.ext", "-out", f"{name}.crt",
        )  # fmt: skip
    return Certs(
        ca=str(directory / "ca.crt"),
        server_cert=str(directory / "server.crt"),
        server_key=str(directory / "server.key"),
        client_cert=str(directory / "client.crt"),
        client_key=str(directory / "client.key"),
    )


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if not redis_binaries_present():
        pytest.skip("redis-server is not installed: the TLS tests need a real server")
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed: cannot make test certificates")
    return _make_certs(tmp_path_factory.mktemp("tls-certs"))


# -- servers -------------------------------------------------------------------------------


@dataclass
class TLSServer:
    server: RedisServer  # its ``port`` is the plaintext port
    tls_port: int
    certs: Certs

    def config(self, **fields: Any) -> RedisConnectionConfig:
        """A config for the TLS port: ``ssl=True`` and the test CA unless told otherwise."""
        fields.setdefault("ssl", True)
        if fields["ssl"]:
            fields.setdefault("ssl_ca_certs", self.certs.ca)
        return RedisConnectionConfig(host=HOST, port=self.tls_port, **fields)


def _tls_unsupported(message: str) -> bool:
    lowered = message.lower()
    return "tls" in lowered and any(
        sign in lowered for sign in ("bad directive", "not supported", "not compiled")
    )


def _start_tls_server(workdir: Path, certs: Certs, auth_clients: str) -> TLSServer:
    last_error: RuntimeError | None = None
    for attempt in range(3):  # a picked port can be taken before the server binds it
        tls_port = free_port()
        server = RedisServer(
            workdir / f"try{attempt}",
            extra_args=[
                "--tls-port", str(tls_port),
                "--tls-cert-file", certs.server_cert,
                "--tls-key-file", certs.server_key,
                "--tls-ca-cert-file", certs.ca,
                "--tls-auth-clients", auth_clients,
            ],
        )  # fmt: skip
        try:
            server.start()
        except RuntimeError as e:
            server.stop()
            if _tls_unsupported(str(e)):
                pytest.skip(f"this redis-server build has no TLS support: {e}")
            last_error = e
            continue
        return TLSServer(server, tls_port, certs)
    raise RuntimeError(f"could not start a TLS redis-server: {last_error}")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[TLSServer]:
    """TLS server that accepts clients with or without a certificate."""
    tls = _start_tls_server(tmp_path_factory.mktemp("redis-tls"), certs, "optional")
    yield tls
    tls.server.stop()


@pytest.fixture(scope="module")
def mutual_tls_server(
    tmp_path_factory: pytest.TempPathFactory, certs: Certs
) -> Iterator[TLSServer]:
    """TLS server that requires a client certificate signed by the test CA."""
    tls = _start_tls_server(tmp_path_factory.mktemp("redis-mtls"), certs, "yes")
    yield tls
    tls.server.stop()


# -- toolkits, closed after each test ------------------------------------------------------


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


@pytest.fixture
async def open_async() -> AsyncIterator[Callable[..., AsyncRedisToolkit]]:
    """The async twin of ``open_sync``; pools of this test's loop are closed at the end."""
    made: list[AsyncRedisToolkit] = []

    def make(config: RedisConnectionConfig | None = None, **url_fields: Any) -> AsyncRedisToolkit:
        if config is None:
            toolkit = AsyncRedisToolkit.from_url(url_fields.pop("url"), **url_fields)
        else:
            toolkit = AsyncRedisToolkit(config=config)
        made.append(toolkit)
        return toolkit

    yield make
    for toolkit in made:
        await toolkit.aclose()
    await async_pool_manager.close_all_pools()


def _stored(tls: TLSServer, key: str) -> bool:
    """The key is on that server (read back over its plaintext port, with plain redis-py)."""
    with tls.server.admin() as admin:
        return bool(admin.exists(key))


def _causes(error: BaseException) -> str:
    """The messages of ``error`` and every exception it was raised from."""
    parts = []
    current: BaseException | None = error
    while current is not None:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


# -- round trips over TLS ------------------------------------------------------------------


def test_sync_round_trip_over_tls(tls_server: TLSServer, open_sync: Any, prefix: str) -> None:
    toolkit = open_sync(tls_server.config())
    key = prefix + "dict"
    toolkit.setter(key, VALUE)
    assert toolkit.getter(key) == VALUE
    assert _stored(tls_server, key)
    assert toolkit.health_check() is True
    assert toolkit.client.connection_pool.connection_class is redis.SSLConnection


async def test_async_round_trip_over_tls(
    tls_server: TLSServer, open_async: Any, prefix: str
) -> None:
    toolkit = open_async(tls_server.config())
    key = prefix + "dict"
    await toolkit.setter(key, VALUE)
    assert await toolkit.getter(key) == VALUE
    assert _stored(tls_server, key)
    assert await toolkit.health_check() is True
    assert toolkit.client.connection_pool.connection_class is redis.asyncio.SSLConnection


def test_sync_rediss_url(tls_server: TLSServer, open_sync: Any, prefix: str) -> None:
    url = f"rediss://{HOST}:{tls_server.tls_port}/0"
    toolkit = open_sync(url=url, ssl_ca_certs=tls_server.certs.ca)
    assert toolkit.config.ssl is True
    key = prefix + "dict"
    toolkit.setter(key, VALUE)
    assert toolkit.getter(key) == VALUE
    assert _stored(tls_server, key)


async def test_async_rediss_url(tls_server: TLSServer, open_async: Any, prefix: str) -> None:
    url = f"rediss://{HOST}:{tls_server.tls_port}/0"
    toolkit = open_async(url=url, ssl_ca_certs=tls_server.certs.ca)
    assert toolkit.config.ssl is True
    key = prefix + "dict"
    await toolkit.setter(key, VALUE)
    assert await toolkit.getter(key) == VALUE
    assert _stored(tls_server, key)


def test_rediss_url_by_hostname(tls_server: TLSServer, open_sync: Any, prefix: str) -> None:
    """The hostname is checked against the certificate's DNS name, not just the IP."""
    toolkit = open_sync(
        url=f"rediss://localhost:{tls_server.tls_port}/0", ssl_ca_certs=tls_server.certs.ca
    )
    toolkit.setter(prefix + "k", VALUE)
    assert toolkit.getter(prefix + "k") == VALUE


# -- client certificates -------------------------------------------------------------------


def test_sync_client_certificate_required(
    mutual_tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    without = open_sync(mutual_tls_server.config(**FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        without.getter(prefix + "k")

    certs = mutual_tls_server.certs
    with_cert = open_sync(
        mutual_tls_server.config(ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key)
    )
    with_cert.setter(prefix + "k", VALUE)
    assert with_cert.getter(prefix + "k") == VALUE
    assert _stored(mutual_tls_server, prefix + "k")


async def test_async_client_certificate_required(
    mutual_tls_server: TLSServer, open_async: Any, prefix: str
) -> None:
    without = open_async(mutual_tls_server.config(**FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        await without.getter(prefix + "k")

    certs = mutual_tls_server.certs
    with_cert = open_async(
        mutual_tls_server.config(ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key)
    )
    await with_cert.setter(prefix + "k", VALUE)
    assert await with_cert.getter(prefix + "k") == VALUE
    assert _stored(mutual_tls_server, prefix + "k")


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


# -- the server certificate is verified ----------------------------------------------------


def test_sync_untrusted_server_certificate_fails(
    tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    # No ssl_ca_certs: only the system's CAs are trusted, and they did not sign the server's.
    config = tls_server.config(ssl_ca_certs=None, ssl_cert_reqs="required", **FAIL_FAST)
    toolkit = open_sync(config)
    with pytest.raises(ConnectionFailedError) as caught:
        toolkit.getter(prefix + "k")
    assert "certificate verify failed" in _causes(caught.value).lower()


async def test_async_untrusted_server_certificate_fails(
    tls_server: TLSServer, open_async: Any, prefix: str
) -> None:
    config = tls_server.config(ssl_ca_certs=None, ssl_cert_reqs="required", **FAIL_FAST)
    toolkit = open_async(config)
    with pytest.raises(ConnectionFailedError) as caught:
        await toolkit.getter(prefix + "k")
    assert "certificate verify failed" in _causes(caught.value).lower()


def test_cert_reqs_none_skips_verification(
    tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    """``ssl_cert_reqs="none"`` reaches redis-py: the untrusted certificate is then accepted."""
    toolkit = open_sync(tls_server.config(ssl_ca_certs=None, ssl_cert_reqs="none"))
    toolkit.setter(prefix + "k", VALUE)
    assert toolkit.getter(prefix + "k") == VALUE


# -- no silent downgrade -------------------------------------------------------------------


def test_sync_plaintext_to_tls_port_fails(
    tls_server: TLSServer, open_sync: Any, prefix: str
) -> None:
    toolkit = open_sync(tls_server.config(ssl=False, **FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        toolkit.getter(prefix + "k")


async def test_async_plaintext_to_tls_port_fails(
    tls_server: TLSServer, open_async: Any, prefix: str
) -> None:
    toolkit = open_async(tls_server.config(ssl=False, **FAIL_FAST))
    with pytest.raises(ConnectionFailedError):
        await toolkit.getter(prefix + "k")


def test_tls_to_plaintext_port_fails(tls_server: TLSServer, open_sync: Any, prefix: str) -> None:
    """A TLS config pointed at a plaintext port fails instead of talking in the clear.

    The plaintext server either answers the ClientHello with a RESP error (when its random
    bytes hold a newline) or waits for more: a TLS error or a handshake timeout, never a reply.
    The sync API needs ``socket_timeout`` for the latter: redis-py runs the handshake under the
    socket (read) timeout, not the connect timeout, so without it this would wait forever.
    """
    config = RedisConnectionConfig(
        host=HOST,
        port=tls_server.server.port,
        ssl=True,
        ssl_ca_certs=tls_server.certs.ca,
        socket_timeout=0.25,
        **{**FAIL_FAST, "connection_timeout": 0.25},
    )
    toolkit = open_sync(config)
    with pytest.raises((ConnectionFailedError, OperationTimeoutError)):
        toolkit.getter(prefix + "k")
    assert not _stored(tls_server, prefix + "k")


async def test_async_tls_to_plaintext_port_fails(
    tls_server: TLSServer, open_async: Any, prefix: str
) -> None:
    # The async handshake runs under the connect timeout: no socket_timeout needed.
    config = RedisConnectionConfig(
        host=HOST,
        port=tls_server.server.port,
        ssl=True,
        ssl_ca_certs=tls_server.certs.ca,
        **{**FAIL_FAST, "connection_timeout": 0.25},
    )
    toolkit = open_async(config)
    with pytest.raises((ConnectionFailedError, OperationTimeoutError)):
        await toolkit.getter(prefix + "k")


# -- pools ---------------------------------------------------------------------------------


def test_tls_and_plain_configs_get_different_pools(tls_server: TLSServer) -> None:
    tls_config = tls_server.config()
    plain_config = tls_server.config(ssl=False)
    try:
        tls_pool = pool_manager.get_pool(tls_config)
        plain_pool = pool_manager.get_pool(plain_config)
        assert tls_pool is not plain_pool
        assert tls_pool.connection_class is redis.SSLConnection
        assert plain_pool.connection_class is redis.Connection
        # The same config keeps its pool.
        assert pool_manager.get_pool(tls_server.config()) is tls_pool
    finally:
        pool_manager.close_pool(tls_config)
        pool_manager.close_pool(plain_config)


async def test_async_tls_and_plain_configs_get_different_pools(tls_server: TLSServer) -> None:
    tls_config = tls_server.config()
    plain_config = tls_server.config(ssl=False)
    try:
        tls_pool = async_pool_manager.get_pool(tls_config)
        plain_pool = async_pool_manager.get_pool(plain_config)
        assert tls_pool is not plain_pool
        assert tls_pool.connection_class is redis.asyncio.SSLConnection
        assert plain_pool.connection_class is redis.asyncio.Connection
    finally:
        await async_pool_manager.close_all_pools()
