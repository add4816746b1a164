"""TLS servers for the tests: a throwaway CA and certificates, and two TLS redis-servers.

A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate are made
with ``openssl`` once per session. Two private servers speak TLS on one port each, beside a
plaintext port that the readiness check (and the assertions) use: one accepts clients without a
certificate (``--tls-auth-clients optional``), the other requires one (``yes``). tests/conftest.py
makes the fixtures ``certs``, ``tls_server`` and ``mutual_tls_server`` visible to every test.

The fixtures skip, with the reason, when ``openssl`` is missing or the redis-server build has no
TLS.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redis_toolkit import RedisConnectionConfig
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


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory, certs: Certs) -> Iterator[TLSServer]:
    """TLS server that accepts clients with or without a certificate."""
    tls = _start_tls_server(tmp_path_factory.mktemp("redis-tls"), certs, "optional")
    yield tls
    tls.server.stop()


@pytest.fixture(scope="session")
def mutual_tls_server(
    tmp_path_factory: pytest.TempPathFactory, certs: Certs
) -> Iterator[TLSServer]:
    """TLS server that requires a client certificate signed by the test CA."""
    tls = _start_tls_server(tmp_path_factory.mktemp("redis-mtls"), certs, "yes")
    yield tls
    tls.server.stop()


def stored(tls: TLSServer, key: str) -> bool:
    """The key is on that server (read back over its plaintext port, with plain redis-py)."""
    with tls.server.admin() as admin:
        return bool(admin.exists(key))


def causes(error: BaseException) -> str:
    """The messages of ``error`` and every exception it was raised from."""
    parts = []
    current: BaseException | None = error
    while current is not None:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)
