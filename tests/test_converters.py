"""redis_toolkit.converters: 0.4's names and conventions (BGR arrays), and clear ImportErrors.

Images run here with Pillow (a dev extra); OpenCV's path runs where opencv is installed.
Integer PCM WAV needs nothing; float WAV, FLAC and frame extraction show their ImportError.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from redis_toolkit import RedisToolkit
from redis_toolkit.converters import (
    ConversionError,
    ConverterDependencyError,
    ConverterNotAvailableError,
    check_all_dependencies,
    check_dependencies,
    decode_audio,
    decode_image,
    decode_video,
    encode_audio,
    encode_image,
    encode_video,
    get_converter,
    list_converters,
)
from redis_toolkit.converters.image import IMREAD_GRAYSCALE

HAVE_CV2 = importlib.util.find_spec("cv2") is not None
HAVE_SCIPY = importlib.util.find_spec("scipy") is not None
HAVE_SOUNDFILE = importlib.util.find_spec("soundfile") is not None
BACKENDS = ["pillow", pytest.param("cv2", marks=pytest.mark.skipif(not HAVE_CV2, reason="no cv2"))]


def bgr_image() -> np.ndarray:
    image = np.zeros((4, 6, 3), dtype=np.uint8)
    image[:, :3] = (255, 0, 0)  # blue in BGR
    image[:, 3:] = (0, 0, 255)  # red in BGR
    return image


@pytest.mark.parametrize("backend", BACKENDS)
def test_png_round_trip_is_exact_and_bgr(backend: str) -> None:
    image = bgr_image()
    data = encode_image(image, format="png", backend=backend)
    assert data.startswith(b"\x89PNG")
    assert np.array_equal(decode_image(data, backend=backend), image)
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert tuple(rgb[0, 0]) == (0, 0, 255)  # the file holds blue: the array was read as BGR


@pytest.mark.parametrize("backend", BACKENDS)
def test_jpeg_and_grayscale(backend: str) -> None:
    image = np.full((16, 16, 3), (40, 120, 200), dtype=np.uint8)
    data = encode_image(image, quality=90, backend=backend)
    assert data[:2] == b"\xff\xd8"
    back = decode_image(data, backend=backend)
    assert back.shape == (16, 16, 3) and np.abs(back.astype(int) - image).max() < 8
    gray = decode_image(data, backend=backend, color_mode=IMREAD_GRAYSCALE)
    assert gray.shape == (16, 16)
    flat = np.arange(64, dtype=np.uint8).reshape(8, 8)
    colour = decode_image(encode_image(flat, format="png", backend=backend), backend=backend)
    assert colour.shape == (8, 8, 3)  # IMREAD_COLOR, as 0.4: always three channels


def test_bad_images_raise_conversion_error() -> None:
    with pytest.raises(ConversionError, match="numpy array"):
        encode_image([[1, 2]])
    with pytest.raises(ConversionError, match="H x W"):
        encode_image(np.zeros((2, 2, 2, 2), dtype=np.uint8))
    with pytest.raises(ConversionError):
        decode_image(b"not an image")
    with pytest.raises(ValueError, match="gif"):
        get_converter("image", format="gif")


def test_images_are_stored_through_the_toolkit() -> None:
    toolkit = RedisToolkit.from_url("memory://converters")
    try:
        toolkit.setter("frame", encode_image(bgr_image(), format="png"))
        assert np.array_equal(decode_image(toolkit.getter("frame")), bgr_image())
    finally:
        toolkit.close()


def test_without_image_packages_the_error_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    assert "image" not in list_converters()
    with pytest.raises(ConverterNotAvailableError) as info:
        encode_image(bgr_image())
    assert isinstance(info.value, ImportError) and isinstance(info.value, RuntimeError)
    assert "redis-toolkit[cv2]" in str(info.value)
    state = check_all_dependencies()["image"]
    assert state["available"] is False and "redis-toolkit[cv2]" in state["install_command"]
    with pytest.raises(ImportError, match=r"redis-toolkit\[cv2\]"):
        get_converter("image")


def test_integer_wav_round_trips_without_extras() -> None:
    mono = (np.sin(np.linspace(0, 20, 800)) * 30000).astype(np.int16)
    stereo = np.stack([mono, -mono], axis=1)
    for samples in (mono, stereo):
        data = encode_audio(samples, sample_rate=8000)
        assert data[:4] == b"RIFF"
        rate, back = decode_audio(data)
        assert rate == 8000 and np.array_equal(back, samples)
    rate, back = decode_audio(encode_audio((16000, mono)))
    assert rate == 16000 and np.array_equal(back, mono)
    info = get_converter("audio").get_info(encode_audio(stereo, sample_rate=8000))
    assert info["channels"] == 2 and info["samples"] == 800 and info["duration"] == 0.1


@pytest.mark.skipif(HAVE_SCIPY, reason="scipy is installed: float WAV works")
def test_float_wav_without_scipy_names_the_audio_extra() -> None:
    with pytest.raises(ConverterDependencyError, match=r"redis-toolkit\[audio\]") as info:
        encode_audio(np.zeros(10, dtype=np.float32))
    assert isinstance(info.value, ImportError) and info.value.missing_packages == ["scipy"]


@pytest.mark.skipif(HAVE_SOUNDFILE, reason="soundfile is installed")
def test_flac_without_soundfile_names_the_full_audio_extra() -> None:
    with pytest.raises(ImportError, match=r"redis-toolkit\[audio-full\]"):
        encode_audio(np.zeros(10, dtype=np.int16), format="flac")


def test_video_bytes_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real movie")
    data = encode_video(str(path))
    assert decode_video(data) == path.read_bytes()
    with pytest.raises(ConversionError, match="missing.mp4"):
        encode_video(str(tmp_path / "missing.mp4"))


@pytest.mark.skipif(HAVE_CV2, reason="OpenCV is installed")
def test_frame_extraction_without_opencv_names_the_video_extra(tmp_path: Path) -> None:
    with pytest.raises(ImportError, match=r"redis-toolkit\[video\]"):
        get_converter("video").extract_frames(str(tmp_path / "clip.mp4"))  # type: ignore[attr-defined]


def test_registry_and_report(capsys) -> None:
    assert {"image", "audio", "video"} <= set(list_converters())
    with pytest.raises(ValueError, match="unknown converter"):
        get_converter("hologram")
    report = check_dependencies()
    assert "image: available" in capsys.readouterr().out and "image" in report
