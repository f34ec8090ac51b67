"""Bad files for ``test_bad_media``, built in the test (no fixture files), and checks of the accepted ones.

``KINDS``: each kind's file name, bytes, whether it is given as an image or a video, and the verdict:
a phrase of the one-line refusal, or a check of the documented conversion on the pixels an expert sees.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from PIL import Image

from vitron_agent.stores.media_io import encode_video

from .conftest import small_photo


def png(array: np.ndarray, **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **save)
    return buffer.getvalue()


def _jpeg(image: Image.Image, **save: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, **save)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_raw(width: int, height: int, rows: Callable[[], bytes] | None = None) -> bytes:
    """A PNG (8-bit grey) written by hand: a header claiming any size, and ``rows`` (default none)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", rows() if rows else zlib.compress(b"")) + _chunk(b"IEND", b"")


def _zero_rows(width: int, height: int) -> Callable[[], bytes]:
    def rows() -> bytes:
        packer = zlib.compressobj(1)
        row = bytes(width + 1)  # filter byte + black pixels
        return b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    return rows


def _video(frames: list[np.ndarray], rate: Fraction | int = 10, pts_ms: list[int] | None = None,
           options: dict[str, str] | None = None) -> bytes:
    """An H.264 MP4 written with PyAV; ``pts_ms`` gives each frame its own time (variable frame rate)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4", options=options or {}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        container.start_encoding()
        for n, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[n], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


def _audio_only() -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        tone = (1000 * np.sin(np.arange(800) / 5)).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


def _flat_frames(levels: list[int]) -> list[np.ndarray]:
    return [np.full((32, 32, 3), level, np.uint8) for level in levels]


def _clip() -> bytes:
    return encode_video(np.stack(_flat_frames([40, 80, 120, 160, 200])), 10.0)


def _corrupt_moov() -> bytes:
    data = bytearray(_clip())
    at = data.find(b"moov")
    data[at : at + 300] = np.random.default_rng(0).bytes(300)
    return bytes(data)


def _animated_gif() -> bytes:
    buffer = io.BytesIO()
    frames = [Image.fromarray(np.full((8, 8, 3), level, np.uint8)) for level in (0, 120, 250)]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _cmyk_jpeg() -> bytes:
    image = Image.new("CMYK", (16, 8), (0, 255, 0, 0))  # magenta
    image.paste((255, 0, 0, 0), (8, 0, 16, 8))  # cyan on the right
    return _jpeg(image)


def _palette_with_alpha() -> bytes:
    image = Image.new("P", (4, 2), 1)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)  # 0: red (transparent), 1: blue
    image.putpixel((0, 0), 0)
    image.putpixel((0, 1), 0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0)
    return buffer.getvalue()


SIXTEEN = np.array([[0, 257, 1000, 65535], [12850, 30000, 65000, 5]], np.uint16)


def _exif_rotated() -> bytes:
    array = np.zeros((10, 20, 3), np.uint8)
    array[:, :10] = (255, 0, 0)
    array[:, 10:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    return _jpeg(Image.fromarray(array), exif=exif.tobytes())


# --- checks of the accepted conversions, on the pixels an expert receives --------------------


def _check_sixteen_bit(pixels: np.ndarray) -> None:
    expected = np.rint(SIXTEEN / 257.0).astype(np.uint8)  # 16-bit grey -> 8-bit, brightness kept
    assert pixels.shape == (2, 4, 3) and np.array_equal(pixels[..., 0], expected)
    assert np.array_equal(pixels[..., 0], pixels[..., 2])


def _check_cmyk(pixels: np.ndarray) -> None:
    assert pixels.shape == (8, 16, 3)
    assert np.abs(pixels[:, :7].astype(int) - (255, 0, 255)).max() <= 12  # magenta
    assert np.abs(pixels[:, 9:].astype(int) - (0, 255, 255)).max() <= 12  # cyan


def _check_palette_alpha(pixels: np.ndarray) -> None:
    assert np.array_equal(pixels[:, 0], [[255, 255, 255]] * 2)  # transparent -> composited on white
    assert np.array_equal(pixels[:, 1:].reshape(-1, 3), [[0, 0, 255]] * 6)


def _check_exif(pixels: np.ndarray) -> None:
    assert pixels.shape == (20, 10, 3)  # turned upright: 10 wide, 20 high
    assert np.abs(pixels[:8].astype(int) - (255, 0, 0)).max() <= 20  # the left half went on top
    assert np.abs(pixels[12:].astype(int) - (0, 0, 255)).max() <= 20


def _check_one_pixel(pixels: np.ndarray) -> None:
    assert pixels.shape == (1, 1, 3) and pixels[0, 0].tolist() == [12, 200, 99]


def _check_png_content(pixels: np.ndarray) -> None:
    assert np.array_equal(pixels, small_photo(3, (16, 24)))


def _check_vfr(frames: np.ndarray, fps: float) -> None:
    means = frames.reshape(len(frames), -1).mean(axis=1)
    assert len(frames) == 6 and np.abs(means - [0, 50, 100, 150, 200, 250]).max() < 6  # every frame, in order
    assert 1 < fps < 30  # the average rate of the irregular timestamps


def _check_clip(frames: np.ndarray, fps: float) -> None:
    means = frames.reshape(len(frames), -1).mean(axis=1)
    assert len(frames) == 5 and np.abs(means - [40, 80, 120, 160, 200]).max() < 6 and fps == pytest.approx(10)


def _check_gif_video(frames: np.ndarray, fps: float) -> None:
    means = frames.reshape(len(frames), -1).mean(axis=1)
    assert len(frames) == 3 and np.abs(means - [0, 120, 250]).max() < 3


@dataclass(frozen=True)
class Kind:
    """One kind of bad input: its file name and bytes, how it is given, and the verdict."""

    name: str
    build: Callable[[], bytes]
    given_as: str  # "image" or "video"
    refused: str | None = None  # a phrase of the one-line reason
    check: Callable[..., None] | None = None  # for an accepted conversion

    def __repr__(self) -> str:
        return self.name


KINDS = [
    Kind("empty.png", lambda: b"", "image", refused="empty (0 bytes)"),
    Kind("truncated.png", lambda: png(small_photo(1))[:2500], "image", refused="truncated or corrupt"),
    Kind("truncated.jpg", lambda: _jpeg(Image.fromarray(small_photo(2)))[:900], "image", refused="truncated or corrupt"),
    Kind("png_named.mp4", lambda: png(small_photo(3, (16, 24))), "video", refused="is a still PNG image, not a video"),
    Kind("png_named.mp4", lambda: png(small_photo(3, (16, 24))), "image", check=_check_png_content),
    Kind("mp4_named.png", _clip, "image", refused="is a video (mp4), not an image; pass it as a video"),
    Kind("mp4_named.png", _clip, "video", check=_check_clip),
    Kind("bomb.png", lambda: _png_raw(50_000, 50_000), "image", refused="a possible decompression bomb"),
    Kind("100mp.png", lambda: _png_raw(10_000, 10_000, _zero_rows(10_000, 10_000)), "image",
         refused="10000x10000 = 100 megapixels exceeds the 40 megapixel cap"),
    Kind("zero_width.png", lambda: _png_raw(0, 10), "image", refused="not a supported image"),
    Kind("one_pixel.png", lambda: png(np.array([[[12, 200, 99]]], np.uint8)), "image", check=_check_one_pixel),
    Kind("sixteen_bit.png", lambda: png(SIXTEEN), "image", check=_check_sixteen_bit),
    Kind("cmyk.jpg", _cmyk_jpeg, "image", check=_check_cmyk),
    Kind("palette_alpha.png", _palette_with_alpha, "image", check=_check_palette_alpha),
    Kind("exif_rotated.jpg", _exif_rotated, "image", check=_check_exif),
    Kind("animated.gif", _animated_gif, "image", refused="an animated GIF (3 frames) is a video; pass it as a video"),
    Kind("animated.gif", _animated_gif, "video", check=_check_gif_video),
    Kind("zero_frames.mp4", lambda: _video([], options={"movflags": "empty_moov"}), "video",
         refused="0 decodable frames"),
    Kind("variable_fps.mp4", lambda: _video(_flat_frames([0, 50, 100, 150, 200, 250]),
                                            pts_ms=[0, 40, 50, 200, 210, 700]), "video", check=_check_vfr),
    Kind("corrupt.mp4", _corrupt_moov, "video", refused="not a supported image or video file"),
    Kind("half.mp4", lambda: _clip()[:700], "video", refused="not a supported image or video file"),
    Kind("long.mp4", lambda: _video(_flat_frames([10, 20]), rate=Fraction(1, 700)), "video",
         refused="1400 s exceeds the 600 s video duration cap"),
    Kind("audio_only.wav", _audio_only, "video", refused="has no video stream (it holds audio)"),
    Kind("text.png", lambda: b"just some notes, not a picture\n" * 20, "image", refused="not a supported image"),
    Kind("random.jpg", lambda: np.random.default_rng(7).bytes(4096), "image", refused="not a supported image"),
]
