"""Generation and editing benchmarks: COCO text-to-image, MSR-VTT text-to-video, UCF-101 image-to-video, MagicBrush.

Data layouts (as their users download them)::

    coco-t2i    DATA/annotations/captions_val2014.json  DATA/val2014/COCO_val2014_*.jpg     (--split val2017:
                captions_val2017.json and val2017/)
    msrvtt-t2v  DATA/test_videodatainfo.json (or MSRVTT_data.json, or annotation/ holding either): its "videos"
                (video_id, split) and "sentences" (video_id, sen_id, caption); the videos are not read
    ucf101-i2v  DATA/UCF-101/<Class>/v_<Class>_gXX_cXX.avi  DATA/ucfTrainTestlist/testlist01.txt (--split test1,
                test2, test3; ``all``: every clip, no list needed)
    magicbrush  DATA/edit_sessions.json  DATA/images/<img_id>/<img_id>-input.png, -output1.png, ...
                DATA/local_captions.json (target captions for CLIP-T), as the test zip unpacks (DATA or DATA/test);
                or the Hugging Face export osunlp/MagicBrush: DATA/data/<split>-*.parquet (needs pyarrow; no captions)

One sample: COCO, the first caption of each image (image-id order); MSR-VTT, the first caption of each test video;
UCF-101, each clip of the split list (its first frame is the image, its class the words); MagicBrush, each turn of
each edit session, edited from that turn's ground-truth input (MagicBrush's single-turn setting).

Every generation runs with ``options.seed``. Outputs are kept under ``OUT`` (``generated/``, ``edited/``), and the
features that set metrics (FID, FVD) need under ``OUT/features/<id>.npz``, so a resumed run does not redo them.
A failed sample scores 0 on similarities (CLIP score, CLIPSIM, CLIP-I, CLIP-T, DINO) and 1 on L1 and L2 (their
worst); FID and FVD are over the samples that produced an output (the table's ``failed`` counts the rest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import Benchmark, DataError, EvalOptions, Sample
from .generation_metrics import (
    FVD_FRAMES,
    ClipEncoder,
    DinoEncoder,
    FeatureModels,
    TorchScriptFeatures,
    clip_frames,
    clip_score,
    clipsim,
    cosine,
    frechet_distance,
    pixel_distances,
    square,
    stack_features,
)
from .runner import Runner, RunOutput

__all__ = ["CaptionSample", "ClipSample", "EditSample", "CocoT2I", "MsrVttT2V", "Ucf101I2V", "MagicBrush",
           "FID_SIZE", "FVD_SIZE"]

FID_SIZE = 299
"""Real and generated images are centre-cropped to a square and resized to this side before Inception."""
FVD_SIZE = 224
"""Frames are centre-cropped to a square and resized to this side before I3D."""


@dataclass(frozen=True)
class CaptionSample(Sample):
    """A caption to generate from; ``reference``: the real image it describes (COCO), or None."""

    caption: str
    reference: Path | None = None


@dataclass(frozen=True)
class ClipSample(Sample):
    """A real clip: its first frame is animated, the clip is the real side of FVD. ``label``: its class in words."""

    video: Path
    label: str


@dataclass(frozen=True)
class EditSample(Sample):
    """One edit turn: ``source`` edited by ``instruction`` should look like ``target`` (described by ``caption``,
    when the data has one). From the Hugging Face export the images are in row ``row`` of ``parquet``."""

    instruction: str
    source: Path | None = None
    target: Path | None = None
    caption: str | None = None
    parquet: Path | None = None
    row: int = -1


class _GenerationBenchmark(Benchmark):
    """What the generation benchmarks share: output folders, the feature models (loaded once, on first use)."""

    needs: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(feature model kind, the metric that needs it), checked before the first sample runs."""

    def __init__(self, options: EvalOptions) -> None:
        super().__init__(options)
        self.features = FeatureModels(options.feature_model)
        self._models: dict[str, Any] = {}

    def check_feature_models(self) -> None:
        """Fail before any generation when a feature model is missing (the error says what to download)."""
        for kind, metric in self.needs:
            self.features.path(kind, metric)

    def model(self, kind: str) -> Any:
        """The ``kind`` feature model (``clip``, ``dino``, ``inception``, ``i3d``), loaded on first use."""
        if kind not in self._models:
            metric = dict(self.needs).get(kind, kind)
            path = self.features.path(kind, metric)
            self._models[kind] = (ClipEncoder(path) if kind == "clip" else DinoEncoder(path) if kind == "dino"
                                  else TorchScriptFeatures(path, kind))
        return self._models[kind]

    def folder(self, name: str) -> Path:
        path = Path(self.options.out) / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save(self, name: str, sample_id: str, data: bytes, suffix: str) -> str:
        """Write ``data`` as ``OUT/name/<id><suffix>``; the path relative to ``OUT`` for the record."""
        path = self.folder(name) / f"{_file_name(sample_id)}{suffix}"
        path.write_bytes(data)
        return str(path.relative_to(self.options.out))

    def save_features(self, sample_id: str, real: np.ndarray, fake: np.ndarray | None) -> str:
        """Real (and, when there is an output, generated) features of one sample as ``OUT/features/<id>.npz``."""
        path = self.folder("features") / f"{_file_name(sample_id)}.npz"
        arrays = {"real": real} if fake is None else {"real": real, "fake": fake}
        with path.open("wb") as file:
            np.savez(file, **arrays)
        return str(path.relative_to(self.options.out))

    def frechet(self, records: list[dict[str, Any]]) -> float:
        """The Frechet distance between the saved real and generated features of ``records``."""
        real, fake = [], []
        for record in records:
            if "features" not in record:
                continue
            with np.load(Path(self.options.out) / record["features"]) as saved:
                real.append(saved["real"])
                if "fake" in saved:
                    fake.append(saved["fake"])
        return frechet_distance(stack_features(real), stack_features(fake))


def _file_name(sample_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)


def _failure(out: RunOutput, kind: str) -> str | None:
    """Why ``out`` is a miss: the run's error, or no ``kind`` output."""
    if out.error:
        return out.error
    return None if getattr(out, kind) else f"no {kind[:-1]} was produced"


def _read_image(path: Path) -> np.ndarray:
    from ..stores.media_io import decode_image

    return decode_image(Path(path).read_bytes(), Path(path).name)


def _request(verb: str, caption: str) -> str:
    """``caption`` as a request in words: 'generate an image of a man riding a wave'."""
    caption = " ".join(caption.split()).rstrip(".")
    return f"{verb} {caption[:1].lower()}{caption[1:]}"


# -- COCO text-to-image ---------------------------------------------------------------------------
class CocoT2I(_GenerationBenchmark):
    """COCO captions -> images: FID against the captioned photos, CLIP score of each image with its caption."""

    name = "coco-t2i"
    title = "COCO text-to-image"
    default_split = "val2014"
    paper = {"FID": 7.57}
    metric_notes = {"FID": "Inception-v3 pool features, 299 px, lower is better",
                    "CLIP score": "100 * max(cos, 0), mean over samples"}
    needs = (("inception", "FID"), ("clip", "CLIP score"))

    def samples(self) -> Iterator[CaptionSample]:
        self.check_feature_models()
        data = Path(self.options.data)
        path = data / "annotations" / f"captions_{self.split}.json"
        if not path.exists():
            raise DataError(f"coco-t2i reads {path} (COCO's captions_{self.split}.json) and {data / self.split}/")
        captions = json.loads(path.read_text(encoding="utf-8"))
        files = {image["id"]: image["file_name"] for image in captions["images"]}
        first: dict[int, tuple[int, str]] = {}
        for note in captions["annotations"]:
            if note["image_id"] not in first or note["id"] < first[note["image_id"]][0]:
                first[note["image_id"]] = (note["id"], note["caption"].strip())
        for image_id in sorted(first):
            yield CaptionSample(id=str(image_id), caption=first[image_id][1],
                                reference=data / self.split / files[image_id])

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        from ..stores.media_io import encode_png

        assert isinstance(sample, CaptionSample) and sample.reference is not None
        text = sample.caption if runner.expert else _request("generate an image of", sample.caption)
        out = runner.run("generate_image", text, seed=self.options.seed)
        inception = self.model("inception")
        real = inception(square(_read_image(sample.reference), FID_SIZE)[None])[0]
        record: dict[str, Any] = {"caption": sample.caption}
        error = _failure(out, "images")
        if error:
            record.update(error=error, clip_score=0.0, features=self.save_features(sample.id, real, None))
            return record
        image = out.images[0]
        clip = self.model("clip")
        fake = inception(square(image, FID_SIZE)[None])[0]
        record.update(image=self.save("generated", sample.id, encode_png(image), ".png"),
                      clip_score=clip_score(clip.images([image])[0], clip.texts([sample.caption])[0]),
                      features=self.save_features(sample.id, real, fake))
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        return {"FID": self.frechet(records),
                "CLIP score": float(np.mean([r["clip_score"] for r in records]))}


# -- MSR-VTT text-to-video ------------------------------------------------------------------------
MSRVTT_FILES = ("test_videodatainfo.json", "annotation/test_videodatainfo.json", "MSRVTT_data.json",
                "annotation/MSRVTT_data.json")
"""Where under the data folder MSR-VTT's annotation JSON is looked for, in this order."""


class MsrVttT2V(_GenerationBenchmark):
    """MSR-VTT test captions -> clips: CLIPSIM, the mean frame-caption CLIP cosine."""

    name = "msrvtt-t2v"
    title = "MSR-VTT text-to-video"
    default_split = "test"
    paper = {"CLIPSIM": 0.3682}
    metric_notes = {"CLIPSIM": "mean over frames of CLIP cosine with the caption"}
    needs = (("clip", "CLIPSIM"),)

    def samples(self) -> Iterator[CaptionSample]:
        self.check_feature_models()
        data = Path(self.options.data)
        path = next((data / name for name in MSRVTT_FILES if (data / name).exists()), None)
        if path is None:
            raise DataError(f"msrvtt-t2v reads MSR-VTT's annotation JSON: one of {', '.join(MSRVTT_FILES)} in {data}")
        info = json.loads(path.read_text(encoding="utf-8"))
        wanted = {v["video_id"] for v in info["videos"] if v.get("split", self.split) == self.split}
        first: dict[str, tuple[int, str]] = {}
        for sentence in info["sentences"]:
            video = sentence["video_id"]
            if video in wanted and (video not in first or sentence["sen_id"] < first[video][0]):
                first[video] = (sentence["sen_id"], sentence["caption"].strip())
        for video in sorted(first, key=lambda v: (int(re.sub(r"\D", "", v) or 0), v)):
            yield CaptionSample(id=video, caption=first[video][1])

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        from ..stores.media_io import encode_video

        assert isinstance(sample, CaptionSample)
        text = sample.caption if runner.expert else _request("generate a video of", sample.caption)
        out = runner.run("generate_video", text, seed=self.options.seed)
        record: dict[str, Any] = {"caption": sample.caption}
        error = _failure(out, "videos")
        if error:
            record.update(error=error, clipsim=0.0)
            return record
        clip, video = self.model("clip"), out.videos[0]
        record.update(video=self.save("generated", sample.id, encode_video(video, 8.0), ".mp4"),
                      frames=len(video), clipsim=clipsim(clip.images(list(video)), clip.texts([sample.caption])[0]))
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        return {"CLIPSIM": float(np.mean([r["clipsim"] for r in records]))}


# -- UCF-101 image-to-video -----------------------------------------------------------------------
class Ucf101I2V(_GenerationBenchmark):
    """UCF-101 clips: each first frame animated (with its class in words); FVD of the generated clips against the
    real ones (first 16 frames, 224 px)."""

    name = "ucf101-i2v"
    title = "UCF-101 image-to-video"
    default_split = "test1"
    metric_notes = {"FVD": f"I3D features, first {FVD_FRAMES} frames at {FVD_SIZE} px, lower is better"}
    needs = (("i3d", "FVD"),)

    def samples(self) -> Iterator[ClipSample]:
        self.check_feature_models()
        data = Path(self.options.data)
        root = data / "UCF-101" if (data / "UCF-101").is_dir() else data
        if self.split == "all":
            names = sorted(str(p.relative_to(root)) for p in root.glob("*/*.avi"))
        else:
            number = re.fullmatch(r"test([123])", self.split)
            lists = [data / "ucfTrainTestlist", root / "ucfTrainTestlist", data]
            path = next((f / f"testlist0{number.group(1)}.txt" for f in lists
                         if number and (f / f"testlist0{number.group(1)}.txt").exists()), None)
            if path is None:
                raise DataError(f"ucf101-i2v --split {self.split} reads ucfTrainTestlist/testlist0N.txt in {data} "
                                "(splits: test1, test2, test3, all)")
            names = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not names:
            raise DataError(f"ucf101-i2v found no clips under {root} (UCF-101/<Class>/v_*.avi)")
        for name in names:
            video = root / name
            label = " ".join(re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", video.parent.name)).lower()
            yield ClipSample(id=video.stem, video=video, label=label)

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        from ..stores.media_io import MediaLimits, decode_video, encode_png, encode_video

        assert isinstance(sample, ClipSample)
        if not sample.video.exists():
            raise DataError(f"ucf101-i2v: {sample.video} is listed but missing")
        real, fps = decode_video(sample.video.read_bytes(), sample.video.name, MediaLimits(), max_frames=FVD_FRAMES)
        first = Path(self.options.out) / self.save("inputs", sample.id, encode_png(real[0]), ".png")
        text = sample.label if runner.expert else f"animate this image: {sample.label}"
        out = runner.run("animate_image", text, images=[first], seed=self.options.seed)
        i3d = self.model("i3d")
        real_features = i3d(_fvd_clip(real)[None])[0]
        record: dict[str, Any] = {"label": sample.label}
        error = _failure(out, "videos")
        if error:
            record.update(error=error, features=self.save_features(sample.id, real_features, None))
            return record
        video = out.videos[0]
        record.update(video=self.save("generated", sample.id, encode_video(video, fps), ".mp4"), frames=len(video),
                      features=self.save_features(sample.id, real_features, i3d(_fvd_clip(video)[None])[0]))
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        return {"FVD": self.frechet(records)}


def _fvd_clip(video: np.ndarray) -> np.ndarray:
    """(16, 224, 224, 3): FVD's view of a clip (its first frames, each centre-cropped square and resized)."""
    return np.stack([square(frame, FVD_SIZE) for frame in clip_frames(video, FVD_FRAMES)])


# -- MagicBrush instruction editing ---------------------------------------------------------------
class MagicBrush(_GenerationBenchmark):
    """MagicBrush turns: the edited image against the ground-truth target (L1, L2, CLIP-I, DINO) and the target's
    caption (CLIP-T)."""

    name = "magicbrush"
    title = "MagicBrush instruction editing"
    default_split = "test"
    paper = {"CLIP-I": 0.910, "L1": 0.047}
    metric_notes = {"L1": "[0, 1] pixels, lower is better", "L2": "mean squared, [0, 1] pixels, lower is better",
                    "CLIP-I": "CLIP cosine with the target", "CLIP-T": "CLIP cosine with the target caption",
                    "DINO": "DINO ViT cosine with the target"}
    needs = (("clip", "CLIP-I and CLIP-T"), ("dino", "DINO"))

    def __init__(self, options: EvalOptions) -> None:
        super().__init__(options)
        self._parquet: tuple[Path, Any] | None = None

    def samples(self) -> Iterator[EditSample]:
        self.check_feature_models()
        data = Path(self.options.data)
        root = next((d for d in (data / self.split, data) if (d / "edit_sessions.json").exists()), None)
        if root is not None:
            yield from _official_turns(root)
            return
        files = sorted(data.glob(f"**/{self.split}-*.parquet"))
        if not files:
            raise DataError(f"magicbrush reads {data}/edit_sessions.json with images/ (the test zip, unpacked), "
                            f"or the Hugging Face export's data/{self.split}-*.parquet")
        yield from _parquet_turns(files)

    def evaluate(self, sample: Sample, runner: Runner) -> dict[str, Any]:
        from ..stores.media_io import encode_png

        assert isinstance(sample, EditSample)
        source, target = self._images(sample)
        out = runner.run("edit_image", sample.instruction, images=[source], seed=self.options.seed)
        record: dict[str, Any] = {"instruction": sample.instruction}
        error = _failure(out, "images")
        if error:
            record.update(error=error, l1=1.0, l2=1.0, clip_i=0.0, dino=0.0)
            if sample.caption is not None:
                record["clip_t"] = 0.0
            return record
        edited = out.images[0]
        clip, dino = self.model("clip"), self.model("dino")
        l1, l2 = pixel_distances(edited, target)
        clip_edited, clip_target = clip.images([edited, target])
        dino_edited, dino_target = dino.images([edited, target])
        record.update(image=self.save("edited", sample.id, encode_png(edited), ".png"), l1=l1, l2=l2,
                      clip_i=cosine(clip_edited, clip_target), dino=cosine(dino_edited, dino_target))
        if sample.caption is not None:
            record["clip_t"] = cosine(clip_edited, clip.texts([sample.caption])[0])
        return record

    def summarise(self, records: list[dict[str, Any]]) -> dict[str, float]:
        metrics = {"L1": "l1", "L2": "l2", "CLIP-I": "clip_i", "CLIP-T": "clip_t", "DINO": "dino"}
        return {name: float(np.mean([r[key] for r in records])) for name, key in metrics.items()
                if all(key in r for r in records)}

    def _images(self, sample: EditSample) -> tuple[Path, np.ndarray]:
        """The source as a file the runner can read, and the target as (H, W, 3) uint8."""
        from ..stores.media_io import decode_image, encode_png

        if sample.parquet is None:
            assert sample.source is not None and sample.target is not None
            return sample.source, _read_image(sample.target)
        if self._parquet is None or self._parquet[0] != sample.parquet:  # one file's images kept at a time
            table = _pyarrow_parquet().read_table(sample.parquet, columns=["source_img", "target_img"])
            self._parquet = (sample.parquet, table)
        row = self._parquet[1].slice(sample.row, 1).to_pylist()[0]
        source = decode_image(row["source_img"]["bytes"], "source_img")
        path = Path(self.options.out) / self.save("inputs", sample.id, encode_png(source), ".png")
        return path, decode_image(row["target_img"]["bytes"], "target_img")


def _official_turns(root: Path) -> Iterator[EditSample]:
    """The turns of ``edit_sessions.json`` ({img_id: [{input, output, mask, instruction}, ...]}), sessions in id
    order; captions from ``local_captions.json`` ({img_id: {output file: caption}}) when it is there."""
    sessions = json.loads((root / "edit_sessions.json").read_text(encoding="utf-8"))
    captions_file = root / "local_captions.json"
    captions = json.loads(captions_file.read_text(encoding="utf-8")) if captions_file.exists() else {}
    for img_id in sorted(sessions, key=lambda k: (int(k) if k.isdigit() else 0, k)):
        for turn, edit in enumerate(sessions[img_id], 1):
            folder = root / "images" / img_id
            yield EditSample(id=f"{img_id}-{turn}", instruction=edit["instruction"].strip(),
                             source=folder / edit["input"], target=folder / edit["output"],
                             caption=captions.get(img_id, {}).get(edit["output"]))


def _parquet_turns(files: list[Path]) -> Iterator[EditSample]:
    """The rows of the Hugging Face export (img_id, turn_index, source_img, target_img, instruction)."""
    pq = _pyarrow_parquet()
    for path in files:
        table = pq.read_table(path, columns=["img_id", "turn_index", "instruction"]).to_pylist()
        for row, item in enumerate(table):
            yield EditSample(id=f"{item['img_id']}-{item['turn_index']}", instruction=str(item["instruction"]).strip(),
                             parquet=path, row=row)


def _pyarrow_parquet() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("reading MagicBrush's parquet export needs pyarrow: pip install pyarrow") from None
    return pq
