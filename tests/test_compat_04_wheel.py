"""The public redis-toolkit 0.4.0 wheel against this package, both ways, on the private server.

Slow the first time only (marker ``compat04``): the test installs ``redis-toolkit==0.4.0`` from
the package index into a throwaway venv kept in pytest's cache
(``.pytest_cache/d/redis-toolkit-0.4.0``, reused while it still imports; ``make clean`` or
``pytest --cache-clear`` removes it). It is skipped, saying so, only when the index cannot be
reached. 0.4 runs in a subprocess of that venv as

- a reader of what this package writes by default: the bytes are identical to what 0.4 writes
  for the same value, and 0.4 reads every value back as it reads its own writes (including its
  bug: ints 0 and 1 come back as False and True);
- a writer of what this package reads: every value 0.4 can store comes back here as it was
  (0 and 1 stay ints).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from redis_toolkit import RedisOptions, RedisToolkit
from tests.servers import RedisServer

pytestmark = pytest.mark.compat04

#: Every kind of value 0.4 can store (exec'd here and in the 0.4 subprocess).
VALUES_SOURCE = textwrap.dedent(
    """
    import numpy as np

    VALUES = {
        "int0": 0,
        "int1": 1,
        "int": 42,
        "negative": -7,
        "big_int": 2**70,
        "float": 1.5,
        "true": True,
        "false": False,
        "none": None,
        "str": "héllo \\u00e9 🎉",
        "empty_str": "",
        "digits_str": "123",
        "bytes": b"\\x00\\xff\\x80binary",
        "empty_bytes": b"",
        "list": [1, "a", None, 2.5, [True, False]],
        "dict": {"a": 1, "b": [1, 2], "c": {"d": None}},
        "tuple": (1, "x"),
        "nested_bytes": {"blob": b"\\x01\\x02", "items": [b"\\x03"]},
        "ndarray_float32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "ndarray_int64": np.array([1, -2, 3], dtype=np.int64),
        "ndarray_bool": np.array([True, False]),
        "ndarray_str": np.array(["a", "bc"]),
    }


    def describe(v):
        if isinstance(v, np.ndarray):
            return ["ndarray", str(v.dtype), list(v.shape), v.tolist()]
        if isinstance(v, (bytes, bytearray)):
            return [type(v).__name__, v.hex()]
        if isinstance(v, (list, tuple)):
            return [type(v).__name__, [describe(x) for x in v]]
        if isinstance(v, dict):
            return ["dict", [[describe(k), describe(x)] for k, x in v.items()]]
        return [type(v).__name__, v]
    """
)

#: The script 0.4 runs: ``write`` stores VALUES under a prefix, ``read`` describes what it gets.
SCRIPT_04 = VALUES_SOURCE + textwrap.dedent(
    """
    import json, sys
    from redis_toolkit import RedisToolkit, RedisConnectionConfig, RedisOptions

    mode, host, port, prefix, out = sys.argv[1:]
    toolkit = RedisToolkit(
        config=RedisConnectionConfig(host=host, port=int(port)),
        options=RedisOptions(is_logger_info=False),
    )
    result = {}
    for name, value in VALUES.items():
        if mode == "write":
            toolkit.setter(prefix + name, value)
        else:
            result[name] = describe(toolkit.getter(prefix + name))
    toolkit.cleanup()
    with open(out, "w") as f:
        json.dump(result, f)
    """
)

NAMESPACE: dict[str, Any] = {}
exec(VALUES_SOURCE, NAMESPACE)  # noqa: S102 - our own constant source, shared with the subprocess
VALUES: dict[str, Any] = NAMESPACE["VALUES"]
describe = NAMESPACE["describe"]

# What makes pip's failure an unreachable index rather than a broken test.
_OFFLINE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Max retries exceeded",
    "ConnectTimeout",
    "Connection refused",
)


@pytest.fixture(scope="module")
def python04(request: pytest.FixtureRequest) -> Path:
    """A python with the public redis-toolkit 0.4.0 installed (cached across runs)."""
    venv = Path(request.config.cache.mkdir("redis-toolkit-0.4.0"))
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('redis-toolkit'))"]
    if python.exists():
        # cwd: away from this repository, whose metadata would answer for redis-toolkit.
        found = subprocess.run(probe, capture_output=True, text=True, timeout=60, cwd=venv)
        if found.returncode == 0 and found.stdout.strip() == "0.4.0":
            return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "redis-toolkit==0.4.0"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if install.returncode != 0:
        output = install.stdout + install.stderr
        if any(sign in output for sign in _OFFLINE):
            pytest.skip(
                f"package index unreachable, cannot install redis-toolkit 0.4.0: {output[-300:]}"
            )
        pytest.fail(f"pip install redis-toolkit==0.4.0 failed:\n{output[-2000:]}")
    return python


def run_04(python: Path, mode: str, server: RedisServer, prefix: str, tmp_path: Path) -> Any:
    script = tmp_path / "toolkit04.py"
    script.write_text(SCRIPT_04)
    out = tmp_path / f"{mode}.json"
    done = subprocess.run(
        [str(python), str(script), mode, server.host, str(server.port), prefix, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # never import this repository's redis_toolkit
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()) if mode == "read" else None


def expected_04_reading(name: str, value: Any) -> Any:
    """What 0.4 returns for ``value`` written in its own format."""
    if name in ("int0", "int1"):
        return describe(bool(value))  # 0.4's bug, kept by 0.4 readers: 0 -> False, 1 -> True
    return describe(value)


def test_04_reads_what_this_package_writes_by_default(
    python04: Path, redis_server: RedisServer, prefix: str, tmp_path: Path
) -> None:
    ours, theirs = f"{prefix}05:", f"{prefix}04:"
    with RedisToolkit.from_url(redis_server.url) as toolkit:
        for name, value in VALUES.items():
            toolkit.setter(ours + name, value)
        run_04(python04, "write", redis_server, theirs, tmp_path)
        for name in VALUES:
            written_05 = toolkit.client.get(ours + name)
            written_04 = toolkit.client.get(theirs + name)
            assert written_05 == written_04, f"{name}: 0.5 wrote {written_05!r}, 0.4 {written_04!r}"
    read = run_04(python04, "read", redis_server, ours, tmp_path)
    for name, value in VALUES.items():
        assert read[name] == json.loads(json.dumps(expected_04_reading(name, value))), name
    assert read["int0"] == ["bool", False] and read["int1"] == ["bool", True]


def test_this_package_reads_what_04_writes(
    python04: Path, redis_server: RedisServer, prefix: str, tmp_path: Path
) -> None:
    run_04(python04, "write", redis_server, prefix, tmp_path)
    for options in (None, RedisOptions(serializer="msgpack")):  # reading is format-independent
        with RedisToolkit.from_url(redis_server.url, options=options) as toolkit:
            for name, value in VALUES.items():
                back = toolkit.getter(prefix + name)
                assert describe(back) == describe(value), name
            got = toolkit.batch_get([prefix + "int0", prefix + "int1", prefix + "none"])
            assert list(got.values()) == [0, 1, None]
            assert [type(v) for v in got.values()] == [int, int, type(None)]
