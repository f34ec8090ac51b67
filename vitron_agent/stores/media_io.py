"""Decoding, validating and encoding image and video files (Pillow and PyAV; no hand-written codecs).

Validation reads headers before pixels, so a decompression bomb or a huge video is refused
before it is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import MediaError

__all__ = [
    "MediaLimits", "ProbedMedia", "probe_file", "decode_image", "decode_video", "encode_video", "encode_png", "encode_jpeg",
]

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif", "GIF": "gif", "MPO": "jpg"}


@dataclass(frozen=True)
class MediaLimits:
    """Caps applied at ingest. Pixels count one frame; bytes count the file."""

    max_pixels: int = 40_000_000
    max_frames: int = 3_000
    max_seconds: float = 600.0
    max_bytes: int = 512 * 1024 * 1024


@dataclass(frozen=True)
class ProbedMedia:
    """What validation learned: ``kind`` is ``image`` or ``video``; ``ext`` the stored file suffix."""

    kind: str
    ext: str
    width: int
    height: int
    frames: int = 1
    fps: float | None = None
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The decoded (H, W, 3) uint8 RGB still, kept so the first use does not decode again."""


def probe_file(path: Path, limits: MediaLimits, expect: str | None = None) -> ProbedMedia:
    """Validate a file fully (decoding it once) and describe it; raise ``MediaError`` if unusable."""
    name = path.name
    if not path.exists():
        raise MediaError(f"{name}: no such file ({path})")
    if not path.is_file():
        raise MediaError(f"{name}: not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{name}: the file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise MediaError(f"{name}: {size / 2**20:.0f} MiB exceeds the {limits.max_bytes / 2**20:.0f} MiB cap")
    data = path.read_bytes()
    image_error = None
    if expect in (None, "image"):
        try:
            return _probe_image(data, name, limits)
        except _NotAnImage as exc:
            image_error = str(exc)
    if expect in (None, "video"):
        return _probe_video(data, name, limits, image_error)
    raise MediaError(f"{name}: not a supported image ({image_error}); supported: {', '.join(sorted(IMAGE_FORMATS))}")


class _NotAnImage(Exception):
    pass


def _open_image(data: bytes, name: str, max_pixels: int):
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise _NotAnImage("not an image format Pillow recognises") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(f"{name}: refused as a decompression bomb ({exc})") from exc
    except Exception as exc:  # broken header
        raise MediaError(f"{name}: corrupt image header ({exc})") from exc
    if img.format not in IMAGE_FORMATS:
        raise MediaError(f"{name}: image format {img.format} is not supported; use PNG, JPEG, WEBP, BMP or TIFF")
    pixels = img.width * img.height
    if pixels > max_pixels:
        raise MediaError(
            f"{name}: {img.width}x{img.height} = {pixels / 1e6:.1f} megapixels exceeds the "
            f"{max_pixels / 1e6:.0f} megapixel cap; downscale it first"
        )
    if img.width < 1 or img.height < 1:
        raise MediaError(f"{name}: image has no pixels")
    return img


def _probe_image(data: bytes, name: str, limits: MediaLimits) -> ProbedMedia:
    img = _open_image(data, name, limits.max_pixels)
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        raise MediaError(f"{name}: an animated {img.format} ({frames} frames) is a video; pass it as a video")
    rgb = _to_rgb(img, name)
    return ProbedMedia("image", IMAGE_FORMATS[img.format], rgb.shape[1], rgb.shape[0], pixels=rgb)


def decode_image(data: bytes, name: str = "image", max_pixels: int = 400_000_000) -> np.ndarray:
    """(H, W, 3) uint8 RGB, EXIF orientation applied, any mode (16-bit, CMYK, palette+alpha) converted."""
    return _to_rgb(_open_image(data, name, max_pixels), name)


def _to_rgb(img, name: str) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(img, dtype=np.float64)
            top = max(float(arr.max()), 1.0)
            img = Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8))
        elif img.mode == "F":
            arr = np.asarray(img, dtype=np.float64)
            lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
            arr = (arr - lo) / (hi - lo or 1.0) * 255.0
            img = Image.fromarray(np.nan_to_num(arr).astype(np.uint8))
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(background, rgba)
        return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(f"{name}: truncated or corrupt image data ({exc})") from exc


def _probe_video(data: bytes, name: str, limits: MediaLimits, image_error: str | None) -> ProbedMedia:
    count, fps, width, height, ext = _decode_video(data, name, limits, keep=False)
    return ProbedMedia("video", ext, width, height, count, fps)


def decode_video(data: bytes, name: str, limits: MediaLimits, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Decode every frame (or the first ``max_frames``): ((T, H, W, 3) uint8 RGB, fps)."""
    frames, fps, _, _, _ = _decode_video(data, name, limits, keep=True, max_frames=max_frames)
    return frames, fps


def _decode_video(data: bytes, name: str, limits: MediaLimits, keep: bool, max_frames: int | None = None):
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception as exc:
        raise MediaError(f"{name}: not a supported image or video file ({exc.__class__.__name__})") from exc
    with container:
        ext = _CONTAINER_EXT.get(container.format.name.split(",")[0], container.format.name.split(",")[0])
        if not container.streams.video:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
            raise MediaError(f"{name}: has no video stream (it holds {kinds})")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > limits.max_pixels:
            raise MediaError(f"{name}: {width}x{height} video frames exceed the {limits.max_pixels / 1e6:.0f} megapixel cap")
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        if duration is None and container.duration:
            duration = container.duration / 1e6
        if duration is not None and duration > limits.max_seconds:
            raise MediaError(f"{name}: {duration:.0f} s exceeds the {limits.max_seconds:.0f} s video duration cap")
        frames = []
        count = 0
        try:
            for frame in container.decode(stream):
                count += 1
                if count > limits.max_frames:
                    raise MediaError(f"{name}: more than {limits.max_frames} frames; trim the video or raise the frame cap")
                if keep:
                    frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and count >= max_frames:
                    break
        except MediaError:
            raise
        except Exception as exc:
            if count == 0:
                raise MediaError(f"{name}: corrupt video data ({exc.__class__.__name__}: {exc})") from exc
            # a damaged tail: keep the frames that decoded
    if count == 0:
        raise MediaError(f"{name}: the video has 0 decodable frames")
    stack = np.stack(frames) if keep else np.empty((0,))
    return (stack if keep else count), fps, width, height, ext


_CONTAINER_EXT = {"mov": "mp4", "matroska": "mkv", "image2": "img"}


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image or an (H, W) bool/uint8 mask."""
    from PIL import Image

    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def encode_jpeg(array: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an (H, W, 3) uint8 image: previews, where PNG's encoding time is not worth it."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode_video(frames: np.ndarray, fps: float) -> bytes:
    """Browser-playable MP4 (H.264, yuv420p) of (T, H, W, 3) uint8 frames; odd sizes are padded."""
    import av

    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be (T, H, W, 3) with T >= 1, got {frames.shape}")
    t, h, w, _ = frames.shape
    pad_h, pad_w = h % 2, w % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = w + pad_w, h + pad_h
        stream.pix_fmt = "yuv420p"
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
