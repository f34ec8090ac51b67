"""Media and signal stores: validated ingest of real files, content addressing, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitron_agent.errors import BadInputError, MediaError
from vitron_agent.stores import MediaLimits, MediaStore, SignalStore
from vitron_agent.stores.media_io import encode_video


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", MediaLimits(max_pixels=2_000_000, max_frames=100, max_seconds=30))


def test_ingest_is_content_addressed_and_decodes_real_photos(store, photos):
    first = store.ingest(photos["coffee"], "u0")
    again = store.ingest(photos["coffee"], "u1")
    assert first.file == again.file and (first.width, first.height) == (600, 400)
    image = store.load_image(first)
    assert image.shape == (400, 600, 3) and image.dtype == np.uint8


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _png(array: np.ndarray, **kw) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, **kw).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, make, reason", [
    ("empty.png", lambda: b"", "empty (0 bytes)"),
    ("truncated.png", lambda: _png(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))[:3000], "corrupt"),
    ("text.png", lambda: b"hello, I am not an image at all\n" * 10, "not a supported image or video"),
    ("huge.png", lambda: _png(np.zeros((2000, 1200, 3), np.uint8)), "megapixel cap"),
])
def test_bad_files_get_one_line_reasons(store, tmp_path, name, make, reason):
    with pytest.raises(MediaError) as info:
        store.ingest(_write(tmp_path / name, make()), "u0")
    assert reason in str(info.value) and "\n" not in str(info.value)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []  # the copy written beside the decode is gone


def test_the_stored_copy_is_the_bytes_read_under_their_digest(store, photos, tmp_path):
    import hashlib

    data = photos["coffee"].read_bytes()
    ref = store.ingest(photos["coffee"], "u0")
    stored = store.path(ref)
    assert stored.read_bytes() == data and stored.name == f"{hashlib.sha256(data).hexdigest()[:40]}.png"
    as_bytes = store.ingest_bytes(data, "u1", name="pasted")
    assert as_bytes.file == ref.file and [p.name for p in stored.parent.iterdir()] == [stored.name]
    small = MediaStore(tmp_path / "small", MediaLimits(max_bytes=1000))
    with pytest.raises(MediaError, match="exceeds"):
        small.ingest_bytes(data, "u0")
    assert not small.root.exists()  # refused before any copy was written


def test_missing_file_and_path_outside_allowed_roots(store, tmp_path, photos):
    with pytest.raises(MediaError, match="no such file"):
        store.ingest(tmp_path / "nope.png", "u0")
    with pytest.raises(MediaError, match="outside the allowed folders"):
        store.ingest(photos["coffee"], "u0", allowed_roots=[tmp_path / "inbox"])
    link = tmp_path / "inbox"
    link.mkdir()
    (link / "escape.png").symlink_to(photos["coffee"])
    with pytest.raises(MediaError, match="outside the allowed folders"):
        store.ingest(link / "escape.png", "u0", allowed_roots=[link])


def test_odd_image_modes_are_converted_to_rgb(store, tmp_path):
    sixteen = Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16))
    sixteen.save(tmp_path / "deep.png")
    Image.new("CMYK", (32, 16), (0, 255, 0, 0)).save(tmp_path / "cmyk.jpg")
    palette = Image.new("P", (8, 8))
    palette.info["transparency"] = 0
    palette.save(tmp_path / "palette.png")
    for name in ("deep.png", "cmyk.jpg", "palette.png"):
        image = store.load_image(store.ingest(tmp_path / name, "u0"))
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8


def test_video_round_trip_and_frame_cap(store, tmp_path):
    frames = np.stack([np.full((48, 64, 3), 10 * t, np.uint8) for t in range(12)])
    path = _write(tmp_path / "clip.mp4", encode_video(frames, 12.0))
    ref = store.ingest(path, "u0", expect="video")
    assert (ref.kind, ref.frames, ref.width, ref.height) == ("video", 12, 64, 48)
    decoded, fps = store.load_video(ref)
    assert decoded.shape == (12, 48, 64, 3) and fps == pytest.approx(12.0)
    assert abs(int(decoded[5].mean()) - 50) <= 3
    long = np.zeros((120, 16, 16, 3), np.uint8)
    with pytest.raises(MediaError, match="more than 100 frames"):
        store.ingest(_write(tmp_path / "long.mp4", encode_video(long, 30.0)), "u1", expect="video")


def test_corrupt_video_and_image_expected_but_video_given(store, tmp_path):
    data = encode_video(np.zeros((5, 16, 16, 3), np.uint8), 5.0)
    with pytest.raises(MediaError):
        store.ingest(_write(tmp_path / "bad.mp4", data[: len(data) // 3]), "u0", expect="video")
    with pytest.raises(MediaError, match="is a video .*; pass it as a video"):
        store.ingest(_write(tmp_path / "clip.mp4", data), "u0", expect="image")


def test_outputs_are_stored_and_read_back(store):
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:25] = True
    ref = store.put_mask(mask, "o1", source="x", parents=["u0"])
    assert np.array_equal(store.load_mask(ref), mask) and ref.data["area"] == 100
    boxes = store.put_boxes([{"box": [1.0, 2.0, 3.0, 4.0], "label": "face", "score": 0.9}], "o2",
                            width=30, height=20, source="x")
    assert boxes.data["detections"][0]["label"] == "face"


def test_signal_store_round_trip_and_errors(tmp_path):
    signals = SignalStore(tmp_path / "signals")
    features = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    signal_id = signals.put(features, task_invariant=features[:, :4])
    assert signal_id in signals and np.array_equal(signals.get(signal_id), features)
    assert signals.get(signal_id, "task_invariant").shape == (4, 4)
    assert SignalStore(tmp_path / "signals").get(signal_id).dtype == np.float32  # survives a restart
    with pytest.raises(BadInputError):
        signals.put(np.array([np.nan], np.float32))
    with pytest.raises(BadInputError):
        signals.get("s0000000000000000")
    with pytest.raises(BadInputError):
        signals.get("../../etc/passwd")


def test_decoded_images_are_shared_read_only_not_copied(store, photos):
    ref = store.ingest(photos["coffee"], "u0", expect="image")
    first, again = store.load_image(ref), store.load_image(ref)
    assert first is again and not first.flags.writeable  # one array, handed out without a copy
    with pytest.raises(ValueError):
        first[0, 0] = 0  # an expert that writes must copy first; the cached pixels cannot change
    assert np.array_equal(first, np.asarray(Image.open(photos["coffee"]).convert("RGB")))


def test_masks_are_stored_as_8_bit_png_and_read_back_exactly(store):
    mask = np.random.default_rng(0).random((37, 53)) > 0.5
    ref = store.put_mask(mask, "o1", source="x")
    stored = np.asarray(Image.open(store.path(ref)))
    assert stored.dtype == np.uint8 and set(np.unique(stored)) == {0, 255}  # what "> 127" readers expect
    assert np.array_equal(stored > 127, mask)
    assert np.array_equal(store.load_mask(ref), mask) and ref.data["area"] == int(mask.sum())


def test_a_video_is_counted_by_its_packets_and_decoded_only_when_used(store, tmp_path):
    frames = np.stack([np.full((48, 64, 3), 4 * t, np.uint8) for t in range(37)])
    ref = store.ingest(_write(tmp_path / "count.mp4", encode_video(frames, 10.0)), "u0", expect="video")
    decoded, _ = store.load_video(ref)
    assert ref.frames == len(decoded) == 37


def test_a_missing_store_folder_is_made_on_the_first_write(tmp_path):
    store = MediaStore(tmp_path / "not" / "yet")
    assert not (tmp_path / "not").exists()  # opening a thread's store writes nothing
    ref = store.put_mask(np.ones((4, 4), bool), "o1", source="x")
    assert store.path(ref).is_file()
    with pytest.raises(MediaError, match="not a file of the media store"):
        store.path(ref.model_copy(update={"file": "../../etc/passwd"}))
