"""Media converters of redis-toolkit 0.4: images, audio and video to bytes and back.

    from redis_toolkit.converters import encode_image, decode_image

    toolkit.setter("frame", encode_image(bgr_array, format="png"))
    bgr_again = decode_image(toolkit.getter("frame"))

Arrays follow 0.4's (OpenCV's) conventions: images are BGR ``uint8`` arrays, audio is
``(sample_rate, samples)``. The optional packages come with the extras 0.4 named
(``redis-toolkit[cv2]``/``[image]``, ``[audio]``/``[audio-full]``, ``[video]``); without them a
converter raises an ``ImportError`` naming the extra. :func:`check_dependencies` prints what is
available.
"""

from __future__ import annotations

from typing import Any

from .audio import AudioConverter
from .base import BaseConverter
from .errors import (
    ConversionError,
    ConverterDependencyError,
    ConverterNotAvailableError,
    check_all_dependencies,
    check_converter_dependency,
    format_dependency_report,
)
from .image import ImageConverter
from .video import VideoConverter

__all__ = [
    "BaseConverter",
    "ConversionError",
    "ConverterDependencyError",
    "ConverterNotAvailableError",
    "ImageConverter",
    "AudioConverter",
    "VideoConverter",
    "register_converter",
    "get_converter",
    "list_converters",
    "check_dependencies",
    "check_converter_dependency",
    "check_all_dependencies",
    "format_dependency_report",
    "encode_image",
    "decode_image",
    "encode_audio",
    "decode_audio",
    "encode_video",
    "decode_video",
]

_CONVERTERS: dict[str, type[BaseConverter]] = {
    "image": ImageConverter,
    "audio": AudioConverter,
    "video": VideoConverter,
}


def register_converter(name: str, converter_class: type[BaseConverter]) -> None:
    """Make ``get_converter(name)`` return instances of ``converter_class``."""
    if not (isinstance(converter_class, type) and issubclass(converter_class, BaseConverter)):
        raise TypeError(f"converter_class must subclass BaseConverter, got {converter_class!r}")
    _CONVERTERS[name] = converter_class


def _available(name: str) -> bool:
    state = check_converter_dependency(name)
    # Registered converters unknown to the dependency table check their own needs.
    return bool(state["available"]) or state["install_command"] is None and name in _CONVERTERS


def list_converters() -> list[str]:
    """Names of the converters whose packages are installed."""
    return [name for name in _CONVERTERS if _available(name)]


def get_converter(name: str, **kwargs: Any) -> BaseConverter:
    """A new converter ``name`` (``"image"``, ``"audio"``, ``"video"``) configured by ``kwargs``.

    Unknown names raise ``ValueError``; a converter whose packages are missing raises
    :class:`ConverterNotAvailableError` (a ``RuntimeError`` and an ``ImportError``) naming the
    extra to install.
    """
    if name not in _CONVERTERS:
        raise ValueError(
            f"unknown converter {name!r}; registered: {', '.join(_CONVERTERS)} "
            f"(installed: {', '.join(list_converters()) or 'none'})"
        )
    if not _available(name):
        state = check_converter_dependency(name)
        raise ConverterNotAvailableError(
            name, f"{state['reason']}; install: {state['install_command']}", list_converters()
        )
    converter = _CONVERTERS[name](**kwargs)
    converter._ensure_dependencies()
    return converter


def check_dependencies() -> str:
    """Print (as 0.4 did) and return the report of which converters are available."""
    report = format_dependency_report()
    print(report)  # a console diagnostic the user asked for, as in 0.4
    return report


def encode_image(image_array: Any, format: str = "jpg", **kwargs: Any) -> bytes:
    """A BGR (or grayscale) image array as ``format`` bytes (``quality=`` for JPEG/WebP)."""
    return get_converter("image", format=format, **kwargs).encode(image_array)


def decode_image(image_bytes: bytes, **kwargs: Any) -> Any:
    """Image bytes as a BGR array (``color_mode=`` as OpenCV's ``IMREAD_*``)."""
    return get_converter("image", **kwargs).decode(image_bytes)


def encode_audio(audio_array: Any, sample_rate: int = 44100, **kwargs: Any) -> bytes:
    """Samples (or ``(sample_rate, samples)``) as WAV bytes, or ``format=`` flac/ogg/mp3."""
    return get_converter("audio", sample_rate=sample_rate, **kwargs).encode(audio_array)


def decode_audio(audio_bytes: bytes, **kwargs: Any) -> tuple[int, Any]:
    """Audio bytes as ``(sample_rate, samples)``."""
    result: tuple[int, Any] = get_converter("audio", **kwargs).decode(audio_bytes)
    return result


def encode_video(video_path: str, **kwargs: Any) -> bytes:
    """The bytes of the video file at ``video_path``."""
    return get_converter("video", **kwargs).encode(video_path)


def decode_video(video_bytes: bytes, **kwargs: Any) -> bytes:
    """Stored video bytes, as they were stored."""
    result: bytes = get_converter("video", **kwargs).decode(video_bytes)
    return result
