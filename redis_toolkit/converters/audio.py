"""Audio as ``(sample_rate, numpy array)``, as in redis-toolkit 0.4.

WAV with integer samples (uint8, int16, int32) needs nothing beyond numpy; float WAV needs scipy
(``redis-toolkit[audio]``), FLAC/OGG/MP3 need soundfile (``redis-toolkit[audio-full]``). When
scipy is installed it writes every WAV, as 0.4 did.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np

from .base import BaseConverter
from .errors import ConversionError, ConverterDependencyError

__all__ = ["AudioConverter"]

_AUDIO = 'pip install "redis-toolkit[audio]"'
_AUDIO_FULL = 'pip install "redis-toolkit[audio-full]"'
# sample width in bytes -> dtype, for the built-in WAV path
_PCM: dict[int, np.dtype[Any]] = {1: np.dtype(np.uint8), 2: np.dtype("<i2"), 4: np.dtype("<i4")}


class AudioConverter(BaseConverter):
    """Encode ``array`` or ``(sample_rate, array)`` (samples x channels) as WAV, FLAC, OGG, MP3.

    ``decode`` returns ``(sample_rate, array)``.
    """

    name = "audio"

    def __init__(self, sample_rate: int = 44100, format: str = "wav", **kwargs: Any) -> None:
        super().__init__(sample_rate=sample_rate, format=format, **kwargs)
        self.sample_rate = int(sample_rate)
        self.format = format.lower()
        if self.format not in self.supported_formats:
            raise ValueError(
                f"audio format {format!r} is not supported; use one of {self.supported_formats}"
            )
        self._wavfile: Any = None
        self._soundfile: Any = None

    def _check_dependencies(self) -> None:
        if self.format != "wav":
            self._soundfile = self._import("soundfile", "soundfile", _AUDIO_FULL)
            return
        try:
            from scipy.io import wavfile

            self._wavfile = wavfile
        except ImportError:
            self._wavfile = None  # integer PCM WAV still works with the standard library

    @property
    def supported_formats(self) -> list[str]:
        """``wav``, ``flac``, ``ogg``, ``mp3``."""
        return ["wav", "flac", "ogg", "mp3"]

    @property
    def default_format(self) -> str:
        """``wav``."""
        return "wav"

    def encode(self, data: Any) -> bytes:
        """``data`` (an array, or ``(sample_rate, array)``) in the converter's format."""
        self._ensure_dependencies()
        if isinstance(data, tuple) and len(data) == 2:
            rate, samples = int(data[0]), data[1]
        else:
            rate, samples = self.sample_rate, data
        if not isinstance(samples, np.ndarray):
            raise ConversionError(
                f"audio must be a numpy array or (sample_rate, array), got {type(samples).__name__}"
            )
        if samples.ndim not in (1, 2):
            raise ConversionError(
                f"audio must be samples or samples x channels, got {samples.shape}"
            )
        out = io.BytesIO()
        try:
            if self._soundfile is not None:
                self._soundfile.write(out, samples, rate, format=self.format.upper())
            elif self._wavfile is not None:
                self._wavfile.write(out, rate, samples)
            else:
                self._write_pcm(out, rate, samples)
        except (ConversionError, ImportError):
            raise
        except Exception as e:
            raise ConversionError(f"encoding audio as {self.format} failed: {e}", e) from e
        return out.getvalue()

    def _write_pcm(self, out: io.BytesIO, rate: int, samples: np.ndarray) -> None:
        width = next((w for w, dt in _PCM.items() if samples.dtype == dt.newbyteorder("=")), None)
        if width is None:
            raise ConverterDependencyError(
                "audio",
                ["scipy"],
                f"{_AUDIO} (for {samples.dtype} samples; uint8, int16 and int32 need nothing more)",
            )
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
            writer.setsampwidth(width)
            writer.setframerate(rate)
            writer.writeframes(np.ascontiguousarray(samples.astype(_PCM[width])).tobytes())

    def decode(self, data: bytes) -> tuple[int, np.ndarray]:
        """``(sample_rate, array)`` of encoded audio."""
        self._ensure_dependencies()
        if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
            raise ConversionError("audio data must be non-empty bytes")
        buffer = io.BytesIO(bytes(data))
        try:
            if self._soundfile is not None:
                samples, rate = self._soundfile.read(buffer)
                return int(rate), samples
            if self._wavfile is not None:
                rate, samples = self._wavfile.read(buffer)
                return int(rate), samples
            return self._read_pcm(buffer)
        except (ConversionError, ImportError):
            raise
        except Exception as e:
            raise ConversionError(f"decoding {self.format} audio failed: {e}", e) from e

    def _read_pcm(self, buffer: io.BytesIO) -> tuple[int, np.ndarray]:
        try:
            reader = wave.open(buffer, "rb")
        except wave.Error as e:
            if "unknown format" in str(e):
                raise ConverterDependencyError(
                    "audio", ["scipy"], f"{_AUDIO} (this WAV is not integer PCM)", e
                ) from e
            raise ConversionError(f"the bytes are not a WAV file: {e}", e) from e
        with reader:
            width, channels = reader.getsampwidth(), reader.getnchannels()
            if width not in _PCM:
                raise ConverterDependencyError(
                    "audio", ["scipy"], f"{_AUDIO} ({8 * width}-bit WAV)"
                )
            frames = reader.readframes(reader.getnframes())
            samples = np.frombuffer(frames, dtype=_PCM[width]).astype(_PCM[width].newbyteorder("="))
            if channels > 1:
                samples = samples.reshape(-1, channels)
            return reader.getframerate(), samples

    def get_info(self, audio_bytes: bytes) -> dict[str, Any]:
        """``sample_rate``, ``channels``, ``samples``, ``duration`` (s), ``dtype`` and
        ``size_bytes`` of encoded audio."""
        rate, samples = self.decode(audio_bytes)
        return {
            "sample_rate": rate,
            "channels": 1 if samples.ndim == 1 else int(samples.shape[1]),
            "samples": int(samples.shape[0]),
            "duration": samples.shape[0] / rate if rate else 0.0,
            "dtype": str(samples.dtype),
            "size_bytes": len(audio_bytes),
        }
