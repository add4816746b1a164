"""Packaging for redis_toolkit (distribution name ``redis-toolkit``)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "redis_toolkit" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="redis-toolkit",
    version=VERSION,
    description=(
        "Typed serialization, batches, pub/sub, resilience and cluster tools over redis-py, "
        "with identical async and sync APIs"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["redis_toolkit", "redis_toolkit.*"]),
    package_data={"redis_toolkit": ["py.typed"]},
    install_requires=[
        "redis[hiredis]>=5.3,<9",
        "msgpack>=1.0",
        "numpy>=1.24",
    ],
    extras_require={
        # lupa: fakeredis runs Lua (EVAL, the lock's scripts) only with it.
        "embedded": ["fakeredis>=2.20", "lupa>=2.0"],
        "prometheus": ["prometheus-client>=0.17"],
        "dev": [
            "pytest>=8",
            "pytest-asyncio>=0.24",
            "hypothesis>=6.100",
            "fakeredis>=2.20",
            "lupa>=2.0",
            "unasync==0.6.0",
            # unasync imports setuptools at import time; venvs of Python >= 3.12 do not ship it.
            "setuptools",
            "ruff>=0.5",
            "mypy>=1.10",
            "prometheus-client>=0.17",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: AsyncIO",
        "Typing :: Typed",
        "Topic :: Database",
    ],
)
