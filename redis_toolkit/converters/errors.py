"""Errors and dependency checks of the media converters (0.4's names and fields).

Each converter needs optional packages, installed with the extras redis-toolkit 0.4 named:
``pip install "redis-toolkit[cv2]"`` (images; ``[image]`` adds Pillow), ``[audio]`` (scipy for
every WAV sample type; ``[audio-full]`` adds soundfile for FLAC/OGG/MP3) and ``[video]`` (frame
extraction). Without them the converters raise an ``ImportError`` that names the extra.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ..exceptions import RedisToolkitError

__all__ = [
    "ConversionError",
    "ConverterDependencyError",
    "ConverterNotAvailableError",
    "CONVERTER_DEPENDENCIES",
    "check_converter_dependency",
    "check_all_dependencies",
    "format_dependency_report",
]


class ConversionError(RedisToolkitError):
    """Encoding or decoding media failed; ``original_error`` is the cause (0.4's fields)."""

    def __init__(self, message: str, original_error: BaseException | None = None):
        super().__init__(message)
        self.original_error = original_error


class ConverterDependencyError(ImportError):
    """A converter needs packages that are not installed; the message names the extra.

    0.4's fields: ``converter_name``, ``missing_packages``, ``install_command``,
    ``original_error``.
    """

    def __init__(
        self,
        converter_name: str,
        missing_packages: list[str],
        install_command: str,
        original_error: BaseException | None = None,
    ):
        self.converter_name = converter_name
        self.missing_packages = list(missing_packages)
        self.install_command = install_command
        self.original_error = original_error
        super().__init__(
            f"the {converter_name} converter needs {', '.join(missing_packages)}, which "
            f"{'is' if len(missing_packages) == 1 else 'are'} not installed: {install_command}"
        )


class ConverterNotAvailableError(RedisToolkitError, RuntimeError, ImportError):
    """``get_converter(name)`` for a converter whose packages are missing.

    A ``RuntimeError`` as in 0.4, and an ``ImportError`` so ``except ImportError`` catches it.
    """

    def __init__(self, converter_name: str, reason: str, available_converters: list[str]):
        self.converter_name = converter_name
        self.reason = reason
        self.available_converters = list(available_converters)
        available = ", ".join(available_converters) or "none"
        super().__init__(
            f"converter {converter_name!r} is not available: {reason} (available: {available}; "
            "redis_toolkit.converters.check_dependencies() shows every converter's state)"
        )


#: What each converter needs: ``requires`` are all needed; ``any_of`` needs one of them.
CONVERTER_DEPENDENCIES: dict[str, dict[str, Any]] = {
    "image": {
        "requires": {"numpy": "numpy"},
        "any_of": {"cv2": "opencv-python", "PIL": "Pillow"},
        "install_cmd": 'pip install "redis-toolkit[cv2]"  (or "redis-toolkit[image]")',
        "description": "images (JPEG, PNG, WebP, BMP, TIFF) as BGR numpy arrays",
    },
    "audio": {
        "requires": {"numpy": "numpy"},
        "any_of": {},
        "install_cmd": 'pip install "redis-toolkit[audio]"',
        "description": "audio (integer PCM WAV built in; float WAV with scipy; FLAC/OGG/MP3 "
        'with soundfile: "redis-toolkit[audio-full]")',
    },
    "video": {
        "requires": {},
        "any_of": {},
        "install_cmd": 'pip install "redis-toolkit[video]"',
        "description": "video files as bytes (frame extraction needs OpenCV)",
    },
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_converter_dependency(converter_name: str) -> dict[str, Any]:
    """The state of one converter: ``available``, ``reason``, ``missing_packages``,
    ``install_command`` (None when nothing is missing) and ``description``."""
    deps = CONVERTER_DEPENDENCIES.get(converter_name)
    if deps is None:
        return {
            "available": False,
            "reason": f"unknown converter: {converter_name!r}",
            "missing_packages": [],
            "install_command": None,
        }
    missing = [pkg for mod, pkg in deps["requires"].items() if not _installed(mod)]
    if deps["any_of"] and not any(_installed(mod) for mod in deps["any_of"]):
        missing.append(" or ".join(deps["any_of"].values()))
    if missing:
        return {
            "available": False,
            "reason": f"missing packages: {', '.join(missing)}",
            "missing_packages": missing,
            "install_command": deps["install_cmd"],
            "description": deps["description"],
        }
    return {
        "available": True,
        "reason": "all dependencies are installed",
        "missing_packages": [],
        "install_command": None,
        "description": deps["description"],
    }


def check_all_dependencies() -> dict[str, dict[str, Any]]:
    """:func:`check_converter_dependency` of every converter."""
    return {name: check_converter_dependency(name) for name in CONVERTER_DEPENDENCIES}


def format_dependency_report() -> str:
    """A readable report of which converters are available and how to install the others."""
    lines = ["redis_toolkit converters", "=" * 60]
    results = check_all_dependencies()
    for name, state in results.items():
        mark = "available" if state["available"] else "NOT available"
        lines.append(f"{name}: {mark} - {state['description']}")
        if not state["available"]:
            lines.append(f"    {state['reason']}; install: {state['install_command']}")
    count = sum(1 for s in results.values() if s["available"])
    lines.append(f"{count}/{len(results)} converters available")
    return "\n".join(lines)
