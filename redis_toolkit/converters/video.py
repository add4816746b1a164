"""Video files as bytes, as in redis-toolkit 0.4 (``encode(path)``, ``decode(bytes)``).

Storing and reading back need nothing; :meth:`VideoConverter.extract_frames` needs OpenCV
(``redis-toolkit[video]``).
"""

from __future__ import annotations

import os
from typing import Any

from .base import BaseConverter
from .errors import ConversionError

__all__ = ["VideoConverter"]

_INSTALL = 'pip install "redis-toolkit[video]"'


class VideoConverter(BaseConverter):
    """A video file's bytes: ``encode(path) -> bytes``, ``decode(bytes) -> bytes``."""

    name = "video"

    def _check_dependencies(self) -> None:
        """Nothing to import: OpenCV is imported by :meth:`extract_frames` only."""

    @property
    def supported_formats(self) -> list[str]:
        """``mp4``, ``avi``, ``mov``, ``mkv`` (the bytes are stored as they are)."""
        return ["mp4", "avi", "mov", "mkv"]

    @property
    def default_format(self) -> str:
        """``mp4``."""
        return "mp4"

    def encode(self, data: Any) -> bytes:
        """The bytes of the video file at path ``data``."""
        try:
            with open(os.fspath(data), "rb") as f:
                content = f.read()
        except (OSError, TypeError) as e:
            raise ConversionError(f"reading the video file {data!r} failed: {e}", e) from e
        if not content:
            raise ConversionError(f"the video file {data!r} is empty")
        return content

    def decode(self, data: bytes) -> bytes:
        """The video bytes as stored (write them to a file to play them)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ConversionError(f"video data must be bytes, got {type(data).__name__}")
        return bytes(data)

    def extract_frames(self, video_path: str, max_frames: int = 10) -> list[Any]:
        """Up to ``max_frames`` frames spread over the video, as BGR arrays (needs OpenCV)."""
        cv2 = self._import("cv2", "opencv-python", _INSTALL)
        capture = cv2.VideoCapture(os.fspath(video_path))
        if not capture.isOpened():
            raise ConversionError(f"OpenCV cannot open the video {video_path!r}")
        try:
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            step = max(1, total // max_frames) if total > max_frames else 1
            frames: list[Any] = []
            index = 0
            while len(frames) < max_frames:
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                ok, frame = capture.read()
                if not ok:
                    break
                frames.append(frame)
                index += step
            return frames
        finally:
            capture.release()
