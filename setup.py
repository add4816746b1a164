"""Packaging for redis_toolkit (distribution name ``redis-toolkit``)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "redis_toolkit" / "__init__.py").read_text(), re.M
).group(1)

_MEDIA = ["opencv-python>=4.5", "numpy>=1.24", "scipy>=1.7", "soundfile>=0.10", "Pillow>=8.0"]

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
        # memory:// (the embedded backend) works after a plain install.
        "fakeredis>=2.20",
        # fakeredis (memory://) runs Lua, hence the lock's scripts, only with lupa.
        "lupa>=2.0",
    ],
    extras_require={
        # Kept so that `pip install redis-toolkit[embedded]` of older docs still works.
        "embedded": [],
        # Media converters (redis_toolkit.converters), named as redis-toolkit 0.4 named them.
        "cv2": ["opencv-python>=4.5", "numpy>=1.24"],
        "image": ["opencv-python>=4.5", "numpy>=1.24", "Pillow>=8.0"],
        "audio": ["numpy>=1.24", "scipy>=1.7"],
        "audio-full": ["numpy>=1.24", "scipy>=1.7", "soundfile>=0.10"],
        "video": ["opencv-python>=4.5", "numpy>=1.24"],
        "media": _MEDIA,
        "all": _MEDIA,
        "prometheus": ["prometheus-client>=0.17"],
        "dev": [
            "pytest>=8",
            "pytest-asyncio>=0.24",
            # `make test` runs the suite on two workers, each with its own private servers
            "pytest-xdist>=3.5",
            "hypothesis>=6.100",
            "unasync==0.6.0",
            # unasync imports setuptools at import time; venvs of Python >= 3.12 do not ship it.
            "setuptools",
            "ruff>=0.5",
            "mypy>=1.10",
            "prometheus-client>=0.17",
            # examples/async/fastapi_integration.py, driven through httpx's ASGI transport
            "fastapi>=0.100",
            "httpx>=0.24",
            # the image converter's Pillow path (small; OpenCV's wheel is ~60 MB)
            "Pillow>=8.0",
            # tests/test_cluster_deploy.py checks docker/docker-compose.cluster.yml parses.
            "pyyaml>=6",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: AsyncIO",
        "Typing :: Typed",
        "Topic :: Database",
    ],
)
