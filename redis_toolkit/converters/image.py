"""Images as numpy arrays in OpenCV's layout (BGR / BGRA / grayscale), as in redis-toolkit 0.4.

Uses OpenCV when installed, else Pillow (the arrays and formats are the same; the encoded bytes
of lossy formats differ between the two encoders).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .base import BaseConverter
from .errors import ConversionError, ConverterDependencyError

__all__ = ["ImageConverter", "IMREAD_GRAYSCALE", "IMREAD_COLOR", "IMREAD_UNCHANGED"]

#: ``color_mode`` values, OpenCV's numbers: decode as one channel, as BGR, or as stored.
IMREAD_GRAYSCALE = 0
IMREAD_COLOR = 1
IMREAD_UNCHANGED = -1

_INSTALL = 'pip install "redis-toolkit[cv2]"  (or "redis-toolkit[image]")'
_PIL_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP",
                "tiff": "TIFF"}  # fmt: skip


class ImageConverter(BaseConverter):
    """Encode BGR (or BGRA, or grayscale) ``uint8`` arrays as JPEG, PNG, WebP, BMP or TIFF.

    ``format`` (default ``"jpg"``), ``quality`` 1-100 (JPEG/WebP), ``png_compression`` 0-9,
    ``color_mode`` for decoding (``IMREAD_COLOR``: always 3-channel BGR, as 0.4), and
    ``backend`` (``"cv2"`` or ``"pillow"``; default: OpenCV if installed).
    """

    name = "image"

    def __init__(self, format: str = "jpg", quality: int = 95, **kwargs: Any) -> None:
        super().__init__(format=format, quality=quality, **kwargs)
        self.format = format.lower()
        self.quality = max(1, min(100, int(quality)))
        if self.format not in _PIL_FORMATS:
            raise ValueError(
                f"image format {format!r} is not supported; use one of {self.supported_formats}"
            )
        self._cv2: Any = None
        self._pil: Any = None

    def _check_dependencies(self) -> None:
        backend = self.config.get("backend")
        if backend in (None, "cv2"):
            try:
                import cv2

                self._cv2 = cv2
                return
            except ImportError as e:
                if backend == "cv2":
                    raise ConverterDependencyError("image", ["opencv-python"], _INSTALL, e) from e
        try:
            from PIL import Image

            self._pil = Image
        except ImportError as e:
            raise ConverterDependencyError("image", ["opencv-python or Pillow"], _INSTALL, e) from e

    @property
    def backend(self) -> str:
        """``"cv2"`` or ``"pillow"``: which library encodes and decodes."""
        self._ensure_dependencies()
        return "cv2" if self._cv2 is not None else "pillow"

    @property
    def supported_formats(self) -> list[str]:
        """``jpg``, ``jpeg``, ``png``, ``webp``, ``bmp``, ``tiff``."""
        return list(_PIL_FORMATS)

    @property
    def default_format(self) -> str:
        """``jpg``."""
        return "jpg"

    def encode(self, data: Any) -> bytes:
        """The image ``data`` (H x W grayscale, H x W x 3 BGR or H x W x 4 BGRA) as bytes."""
        self._ensure_dependencies()
        if not isinstance(data, np.ndarray):
            raise ConversionError(f"an image must be a numpy array, got {type(data).__name__}")
        if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[2] not in (1, 3, 4)):
            raise ConversionError(
                f"an image array must be H x W, H x W x 3 (BGR) or H x W x 4, got {data.shape}"
            )
        try:
            if self._cv2 is not None:
                return self._encode_cv2(data)
            return self._encode_pil(data)
        except ConversionError:
            raise
        except Exception as e:
            raise ConversionError(
                f"encoding a {data.shape} image as {self.format} failed: {e}", e
            ) from e

    def _encode_cv2(self, data: np.ndarray) -> bytes:
        cv2 = self._cv2
        params: list[int] = []
        if self.format in ("jpg", "jpeg"):
            params = [cv2.IMWRITE_JPEG_QUALITY, self.quality]
        elif self.format == "png":
            params = [cv2.IMWRITE_PNG_COMPRESSION, int(self.config.get("png_compression", 1))]
        elif self.format == "webp":
            params = [cv2.IMWRITE_WEBP_QUALITY, self.quality]
        ok, buffer = cv2.imencode(f".{self.format}", data, params)
        if not ok:
            raise ConversionError(f"OpenCV could not encode the image as {self.format}")
        return bytes(buffer.tobytes())

    def _encode_pil(self, data: np.ndarray) -> bytes:
        if data.dtype != np.uint8:
            raise ConversionError(
                f"the Pillow backend encodes uint8 images only, got {data.dtype} "
                f"(install OpenCV for other depths: {_INSTALL})"
            )
        if data.ndim == 3 and data.shape[2] == 1:
            data = data[:, :, 0]
        if data.ndim == 3:
            data = data[:, :, [2, 1, 0, 3][: data.shape[2]]]  # BGR(A) -> RGB(A)
        image = self._pil.fromarray(np.ascontiguousarray(data))
        kind = _PIL_FORMATS[self.format]
        if kind == "JPEG" and image.mode == "RGBA":
            image = image.convert("RGB")
        out = io.BytesIO()
        kwargs: dict[str, Any] = {}
        if kind in ("JPEG", "WEBP"):
            kwargs["quality"] = self.quality
        elif kind == "PNG":
            kwargs["compress_level"] = int(self.config.get("png_compression", 1))
        image.save(out, format=kind, **kwargs)
        return out.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        """The image in ``data`` as an array: BGR H x W x 3 by default (``color_mode``)."""
        self._ensure_dependencies()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ConversionError(f"image data must be bytes, got {type(data).__name__}")
        if len(data) == 0:
            raise ConversionError("image data is empty")
        mode = int(self.config.get("color_mode", IMREAD_COLOR))
        try:
            if self._cv2 is not None:
                image = self._cv2.imdecode(np.frombuffer(data, np.uint8), mode)
                if image is None:
                    raise ConversionError("the bytes are not an image OpenCV can decode")
                return image  # type: ignore[no-any-return]
            return self._decode_pil(bytes(data), mode)
        except ConversionError:
            raise
        except Exception as e:
            raise ConversionError(f"decoding the image failed: {e}", e) from e

    def _decode_pil(self, data: bytes, mode: int) -> np.ndarray:
        image = self._pil.open(io.BytesIO(data))
        image.load()
        if mode == IMREAD_GRAYSCALE:
            return np.asarray(image.convert("L"))
        if mode == IMREAD_UNCHANGED and image.mode in ("L", "RGBA"):
            array = np.asarray(image)
            return array[:, :, [2, 1, 0, 3]] if image.mode == "RGBA" else array
        return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # RGB -> BGR

    def resize(
        self, image_array: np.ndarray, width: int, height: int, interpolation: str = "linear"
    ) -> np.ndarray:
        """``image_array`` scaled to ``width`` x ``height`` (0.4's helper)."""
        self._ensure_dependencies()
        if self._cv2 is not None:
            cv2 = self._cv2
            methods = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                       "nearest": cv2.INTER_NEAREST, "area": cv2.INTER_AREA,
                       "lanczos": cv2.INTER_LANCZOS4}  # fmt: skip
            method = methods.get(interpolation, cv2.INTER_LINEAR)
            return cv2.resize(image_array, (width, height), interpolation=method)  # type: ignore[no-any-return]
        resample = {"linear": 2, "cubic": 3, "nearest": 0, "area": 4, "lanczos": 1}
        image = self._pil.fromarray(np.ascontiguousarray(image_array))
        resized = image.resize((width, height), resample.get(interpolation, 2))
        return np.asarray(resized)

    def get_info(self, image_bytes: bytes) -> dict[str, Any]:
        """``width``, ``height``, ``channels``, ``dtype`` and ``size_bytes`` of an encoded image."""
        array = self.decode(image_bytes)
        return {
            "width": int(array.shape[1]),
            "height": int(array.shape[0]),
            "channels": 1 if array.ndim == 2 else int(array.shape[2]),
            "dtype": str(array.dtype),
            "size_bytes": len(image_bytes),
        }
