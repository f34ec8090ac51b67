"""The media store: content-addressed files under a thread's directory; state keeps only ``MediaRef``.

Ids are given by the graph (``u0`` for the first user medium, ``o3`` for output 3); the store only
keeps bytes, named by their SHA-256, and resolves references back to arrays.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from .. import workers
from ..errors import MediaError, RegionError
from .cache import DecodeCache
from .files import exists_now, publish, stage, write_once
from .media_io import (
    MediaLimits,
    check_size,
    decode_image,
    decode_video,
    encode_jpeg,
    encode_png,
    encode_video,
    probe_bytes,
    probe_file,
    read_file,
)

__all__ = ["MediaKind", "MediaRef", "MediaStore"]

_BLOB_NAME = re.compile(r"blobs/[0-9a-f]{40}\.[a-z0-9]{2,5}")
"""What a stored file is called: its content's digest and its extension, in the store's ``blobs`` folder."""

MediaKind = Literal["image", "video", "mask", "boxes", "mask_video"]


class MediaRef(BaseModel):
    """A stored medium, small and JSON-safe.

    ``file``: path relative to the store root (never absolute, so a thread can move).
    ``width``/``height``: pixels of the frame; ``frames``/``fps`` for videos (1/None for stills).
    ``source``: ``user`` or the expert that produced it; ``parents``: media ids it was made from, the
    medium it lies on first (a mask's image).
    ``preview``: an overlay or drawing made for people to look at; never a default input.
    ``version_of``: for an edited image or video, the medium it is an edit of (edits stack on the latest).
    ``carried_from``: for a mask an edit carried onto its output, the mask it continues (moved with the object).
    ``keyframe``: for a mask made on one frame of a video, that frame (tracking starts there).
    ``instances``: for a mask of several objects, the ids of the one-object masks it is the union of.
    ``data``: small JSON facts (detections for ``boxes``, areas).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    kind: MediaKind
    file: str
    width: int
    height: int
    frames: int = 1
    fps: float | None = None
    source: str = "user"
    parents: tuple[str, ...] = ()
    preview: bool = False
    version_of: str | None = None
    carried_from: str | None = None
    keyframe: int | None = None
    instances: tuple[str, ...] = ()
    data: dict[str, Any] = {}


class MediaStore:
    """Files of one thread under ``root``; safe for several threads of one process to share."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        limits: MediaLimits | None = None,
        cache: DecodeCache | None = None,
        preview_format: str = "jpg",
        allowed_roots: Iterable[str | os.PathLike[str]] | None = None,
        preview_size: int | None = 1024,
        preview_video_size: int | None = 480,
        previews: bool = True,
    ) -> None:
        """``cache``: decoded stills kept in memory, so a turn decodes each image once; share one between
        the stores of many threads to bound the process's memory (default: a 256 MiB one of its own).
        ``preview_format``: ``jpg`` (fast to write) or ``png`` (lossless) for overlays made for people.
        ``allowed_roots``: folders every ingested file must resolve inside (None: anywhere).
        ``preview_size`` / ``preview_video_size``: the long side, in pixels, overlays on stills / videos are
        drawn at when the input is larger (None: full size). ``previews``: whether outputs get overlays at all."""
        if preview_format not in ("jpg", "png"):
            raise ValueError(f"preview_format must be 'jpg' or 'png', got {preview_format!r}")
        self.preview_format = preview_format
        self.previews = previews
        self.preview_size = preview_size
        self.preview_video_size = preview_video_size
        self.root = Path(os.path.abspath(root))
        self.limits = limits or MediaLimits()
        self.allowed_roots = None if allowed_roots is None else tuple(allowed_roots)
        self.cache = cache if cache is not None else DecodeCache()

    # -- ingest ---------------------------------------------------------------------------------
    def ingest(
        self,
        path: str | os.PathLike[str],
        media_id: str,
        *,
        expect: str | None = None,
        allowed_roots: Iterable[str | os.PathLike[str]] | None = None,
    ) -> MediaRef:
        """Validate a user file and store a copy; raise ``MediaError`` with a one-line reason.

        ``allowed_roots``: when the path comes from a planner or a tool, it must resolve inside one
        of these folders (symlinks resolved first), so nothing outside can be read; default: the
        store's ``allowed_roots``. The bytes stored are the bytes validated, read once.
        """
        source = Path(path)
        roots = allowed_roots if allowed_roots is not None else self.allowed_roots
        if roots is not None:
            source = self._check_inside(source, roots)
        name = Path(path).name
        return self._stored(read_file(source, self.limits, name), name, expect, media_id)

    def ingest_bytes(self, data: bytes, media_id: str, *, expect: str | None = None, name: str = "attachment") -> MediaRef:
        """Validate media given as bytes (a message's base64 block) and store them; ``MediaError`` if unusable."""
        return self._stored(data, name, expect, media_id)

    def _stored(self, data: bytes, name: str, expect: str | None, media_id: str) -> MediaRef:
        """Validate ``data`` (decoding it) while a worker thread hashes it and writes the store's copy: on a slow
        disk the copy of a photo takes about a millisecond, and beside the decode it costs nothing. The copy gets
        its final name (digest and the extension the decode finds) before the record is made, and is removed
        when the bytes are refused."""
        check_size(data, name, self.limits)  # refused before anything is written
        staging = workers.start(lambda: (_digest(data), stage(self.root / "blobs", data)), "vitron-store-copy")
        try:
            probed = probe_bytes(data, name, self.limits, expect)
        except BaseException:
            staging.wait(None)
            with contextlib.suppress(Exception):  # a copy that failed left nothing to remove
                staging.result()[1].unlink(missing_ok=True)
            raise
        staging.wait(None)
        digest, temp = staging.result()
        file = f"blobs/{digest}.{probed.ext}"
        publish(temp, self.root / file)
        if probed.pixels is not None:
            self._remember(file, probed.pixels)
        return MediaRef(
            id=media_id,
            kind=probed.kind,  # type: ignore[arg-type]
            file=file,
            width=probed.width,
            height=probed.height,
            frames=probed.frames,
            fps=probed.fps,
        )

    @staticmethod
    def _check_inside(path: Path, roots: Iterable[str | os.PathLike[str]]) -> Path:
        """The resolved path (read that one, so a link swapped after the check cannot escape)."""
        real = Path(os.path.realpath(path))
        for root in roots:
            base = Path(os.path.realpath(root))
            if real == base or base in real.parents:
                return real
        raise MediaError(f"{path}: refused; it resolves outside the allowed folders (symlinks are followed); "
                         "copy the file into one of them")

    # -- outputs --------------------------------------------------------------------------------
    def put_image(
        self, array: np.ndarray, media_id: str, *, source: str, parents: Iterable[str] = (), preview: bool = False,
        version_of: str | None = None,
    ) -> MediaRef:
        """Store an (H, W, 3) uint8 image: PNG, or ``preview_format`` for a ``preview`` made for people.
        ``version_of``: the image this one is an edit of."""
        if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
            raise ValueError(f"image must be (H, W, 3) uint8, got {array.shape} {array.dtype}")
        if preview and self.preview_format == "jpg":
            file = self._write(encode_jpeg(array), "jpg")
        else:
            file = self._write(encode_png(array), "png")
        if not preview:
            self._remember(file, array)
        h, w = array.shape[:2]
        return MediaRef(id=media_id, kind="image", file=file, width=w, height=h, source=source, parents=tuple(parents),
                        preview=preview, version_of=version_of)

    def put_mask(self, mask: np.ndarray, media_id: str, *, source: str, parents: Iterable[str] = (),
                 **lineage: Any) -> MediaRef:
        """Store an (H, W) bool mask as a PNG (0/255). ``lineage``: ``MediaRef`` fields such as ``keyframe``,
        ``carried_from`` or ``instances``."""
        if mask.ndim != 2:
            raise ValueError(f"mask must be (H, W), got {mask.shape}")
        mask = np.asarray(mask, dtype=bool)  # no copy when it is one already
        file = self._write(encode_png(mask), "png")
        h, w = mask.shape
        area = int(np.count_nonzero(mask))
        return MediaRef(
            id=media_id, kind="mask", file=file, width=w, height=h, source=source, parents=tuple(parents),
            data={"area": area}, **lineage,
        )

    def ingest_mask(self, source: str | os.PathLike[str] | np.ndarray, media_id: str, *, on: MediaRef,
                    keyframe: int | None = None) -> MediaRef:
        """A region the user gives as a mask (a mask image file, or an (H, W) array: nonzero = inside), checked
        against the medium ``on`` it is drawn on and stored as a ``mask`` lying on it.

        ``keyframe``: on a video, the frame it is drawn on. Raises ``RegionError`` with what to fix.
        """
        if isinstance(source, np.ndarray):
            array, name = source, "the mask"
        else:
            roots = self.allowed_roots
            path = self._check_inside(Path(source), roots) if roots is not None else Path(source)
            probed = probe_file(path, self.limits, expect="image", name=Path(source).name)
            array, name = decode_image(probed.data, Path(source).name), Path(source).name
        array = np.asarray(array)
        if array.ndim == 3:
            array = array.max(axis=2)  # any bright channel counts; a white-on-black RGB file is the usual form
        if array.ndim != 2:
            raise RegionError(f"{name} must be an (H, W) mask, got shape {array.shape}")
        if array.dtype == bool:
            mask = array
        elif array.dtype.kind in "ui":
            mask = array > (127 if array.max(initial=0) > 1 else 0)
        elif array.dtype.kind == "f":
            mask = array > 0.5
        else:
            raise RegionError(f"{name} must be a boolean or numeric mask, got {array.dtype}")
        if mask.shape != (on.height, on.width):
            raise RegionError(f"{name} is {mask.shape[1]}x{mask.shape[0]} but {on.id if on.id != 'pending' else 'the medium'} "
                              f"is {on.width}x{on.height}; draw the mask on that medium at its size")
        if not mask.any():
            raise RegionError(f"{name} is empty (no pixel is set); mark the object in white on black")
        if keyframe is not None and not 0 <= keyframe < on.frames:
            raise RegionError(f"frame {keyframe} is outside the medium, which has {on.frames} frame(s) (0-based)")
        return self.put_mask(mask, media_id, source="user", parents=(on.id,), keyframe=keyframe)

    def put_boxes(
        self, detections: list[dict[str, Any]], media_id: str, *, width: int, height: int, source: str,
        parents: Iterable[str] = (),
    ) -> MediaRef:
        """Store detections (``{"box", "label", "score"}`` in pixels of a ``width`` x ``height`` frame)."""
        payload = json.dumps({"width": width, "height": height, "detections": detections}, sort_keys=True)
        file = self._write(payload.encode(), "json")
        return MediaRef(
            id=media_id, kind="boxes", file=file, width=width, height=height, source=source,
            parents=tuple(parents), data={"detections": detections},
        )

    def put_mask_video(
        self, masks: np.ndarray, fps: float, media_id: str, *, source: str, parents: Iterable[str] = (),
        **lineage: Any,
    ) -> MediaRef:
        """Store (T, H, W) bool masks, one per frame, losslessly (bit-packed, compressed ``.npz``).
        ``lineage``: ``MediaRef`` fields such as ``carried_from`` or ``instances``."""
        import io

        if masks.ndim != 3:
            raise ValueError(f"mask video must be (T, H, W), got {masks.shape}")
        masks = np.asarray(masks, dtype=bool)  # no copy of a long clip's masks when they are bool already
        buffer = io.BytesIO()
        np.savez_compressed(buffer, bits=np.packbits(masks, axis=-1), shape=np.asarray(masks.shape))
        file = self._write(buffer.getvalue(), "npz")
        t, h, w = masks.shape
        return MediaRef(
            id=media_id, kind="mask_video", file=file, width=w, height=h, frames=t, fps=fps, source=source,
            parents=tuple(parents), data={"area": [int(np.count_nonzero(m)) for m in masks]}, **lineage,
        )

    def put_video(
        self, frames: np.ndarray | Iterable[np.ndarray], fps: float, media_id: str, *, source: str,
        parents: Iterable[str] = (), preview: bool = False, version_of: str | None = None,
    ) -> MediaRef:
        """Store (T, H, W, 3) uint8 frames, or (H, W, 3) frames one at a time from an iterable, as a
        browser-playable MP4; ``preview``: made for people to look at (written fast); ``version_of``: the video
        this one is an edit of."""
        shape: list[tuple[int, ...]] = []

        def counted(items: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
            for item in items:
                shape.append(item.shape)
                yield item

        file = self._write(encode_video(counted(frames), fps, "ultrafast" if preview else "medium"), "mp4")
        t, (h, w) = len(shape), shape[0][:2]
        return MediaRef(
            id=media_id, kind="video", file=file, width=w, height=h, frames=t, fps=fps, source=source,
            parents=tuple(parents), preview=preview, version_of=version_of,
        )

    # -- reading --------------------------------------------------------------------------------
    def path(self, ref: MediaRef) -> Path:
        """Absolute path of a stored medium; refuses anything that escapes the store."""
        if not _BLOB_NAME.fullmatch(ref.file):  # the only names this store writes; nothing can escape it
            raise MediaError(f"{ref.id}: stored path {ref.file!r} is not a file of the media store")
        path = self.root / ref.file
        if not exists_now(path):
            raise MediaError(f"{ref.id}: its file {ref.file} is missing from the media store at {self.root}")
        return path

    def load_image(self, ref: MediaRef) -> np.ndarray:
        """(H, W, 3) uint8 RGB; for a video, its first frame."""
        if ref.kind == "video":
            return self.load_video(ref, max_frames=1)[0][0]
        if ref.kind not in ("image", "mask"):
            raise MediaError(f"{ref.id} is a {ref.kind}, not an image")
        cached = self.cache.get(ref.file)
        if cached is not None:
            return cached
        image = decode_image(self.path(ref).read_bytes(), ref.id)
        self._remember(ref.file, image)
        return image

    def load_mask(self, ref: MediaRef) -> np.ndarray:
        """(H, W) bool."""
        if ref.kind != "mask":
            raise MediaError(f"{ref.id} is a {ref.kind}, not a mask")
        return decode_image(self.path(ref).read_bytes(), ref.id)[..., 0] > 127

    def load_mask_video(self, ref: MediaRef) -> np.ndarray:
        """(T, H, W) bool."""
        import io

        if ref.kind != "mask_video":
            raise MediaError(f"{ref.id} is a {ref.kind}, not a mask video")
        with np.load(io.BytesIO(self.path(ref).read_bytes()), allow_pickle=False) as stored:
            t, h, w = (int(v) for v in stored["shape"])
            return np.unpackbits(stored["bits"], axis=-1, count=w).astype(bool).reshape(t, h, w)

    def load_video(self, ref: MediaRef, max_frames: int | None = None) -> tuple[np.ndarray, float]:
        """((T, H, W, 3) uint8 RGB, fps)."""
        if ref.kind != "video":
            raise MediaError(f"{ref.id} is a {ref.kind}, not a video")
        return decode_video(self.path(ref).read_bytes(), ref.id, self.limits, max_frames=max_frames)

    def _remember(self, file: str, image: np.ndarray) -> None:
        self.cache.put(file, image)  # file names are content digests: threads holding the same bytes share one entry

    def _write(self, data: bytes, ext: str) -> str:
        relative = f"blobs/{_digest(data)}.{ext}"
        write_once(self.root / relative, data)
        return relative


def _digest(data: bytes) -> str:
    """A stored file's name without its extension: the first 40 hex digits of its content's SHA-256."""
    return hashlib.sha256(data).hexdigest()[:40]
