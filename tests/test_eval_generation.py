"""Generation and editing benchmarks on tiny fixtures in each real layout, every metric checked by hand.

Feature models are tiny: a random CLIP and DINO ViT built from configs, and TorchScript stand-ins for Inception
(a fixed linear map of the mean colour) and I3D (mean red, mean green, mean frame-to-frame change), whose features
the tests compute again with numpy from the inputs. Frechet distances by hand use ``scipy.linalg.sqrtm``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchmetrics")

from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from vitron_agent.eval.base import DataError, EvalOptions  # noqa: E402
from vitron_agent.eval.generation import CocoT2I, MagicBrush, MsrVttT2V, Ucf101I2V  # noqa: E402
from vitron_agent.eval.generation_metrics import (  # noqa: E402
    clip_score,
    clipsim,
    cosine,
    frechet_distance,
    pixel_distances,
)
from vitron_agent.eval.report import RESULTS, run_benchmark  # noqa: E402
from vitron_agent.eval.runner import Runner  # noqa: E402

from .synthetic_media import path_clip  # noqa: E402
from .tiny_models import tiny_clip_tokenizer  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MIX = [[1.0, 0.5, -0.3], [0.2, 1.0, 0.4], [-0.6, 0.1, 1.0]]
"""The Inception stand-in's features: ``MIX @ mean_rgb`` of the [0, 1] image."""


class TinyInception(torch.nn.Module):
    """Stand-in for FID's Inception: (N, 3, H, W) uint8 -> (N, 3), a fixed linear map of the mean colour."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mix", torch.tensor(MIX))

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return (x.float() / 255.0).mean(dim=(2, 3)) @ self.mix.t()


class TinyI3D(torch.nn.Module):
    """Stand-in for FVD's I3D: (N, 3, T, H, W) in [-1, 1] -> (N, 3): mean red, mean green, mean |frame change|."""

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        motion = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=(1, 2, 3, 4))
        return torch.stack([x[:, 0].mean(dim=(1, 2, 3)), x[:, 1].mean(dim=(1, 2, 3)), motion], dim=1)


# -- by hand ----------------------------------------------------------------------------------------
def hand_square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return np.asarray(Image.fromarray(image[top:top + side, left:left + side]).resize((size, size), Image.BICUBIC))


def hand_inception(image: np.ndarray) -> np.ndarray:
    return np.asarray(MIX) @ (hand_square(image, 299).astype(np.float64) / 255.0).reshape(-1, 3).mean(axis=0)


def hand_i3d(video: np.ndarray) -> np.ndarray:
    frames = [video[min(t, len(video) - 1)] for t in range(16)]
    clip = np.stack([hand_square(f, 224) for f in frames]).astype(np.float64) / 127.5 - 1.0  # (T, H, W, 3)
    return np.array([clip[..., 0].mean(), clip[..., 1].mean(), np.abs(np.diff(clip, axis=0)).mean()])


def hand_frechet(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.linalg import sqrtm

    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * sqrtm(s1 @ s2).real))


def unit(x: torch.Tensor) -> np.ndarray:
    x = x.detach().double().numpy()
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class HandClip:
    """CLIP and DINO embeddings computed here, straight from the checkpoints the benchmarks load."""

    def __init__(self, root: Path) -> None:
        from transformers import AutoImageProcessor, CLIPModel, CLIPProcessor, ViTModel

        self.clip = CLIPModel.from_pretrained(root / "clip")
        self.processor = CLIPProcessor.from_pretrained(root / "clip")
        self.dino = ViTModel.from_pretrained(root / "dino")
        self.dino_processor = AutoImageProcessor.from_pretrained(root / "dino")

    def image(self, image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            pixels = self.processor(images=[image], return_tensors="pt")
            return unit(self.clip.get_image_features(**pixels).pooler_output)[0]

    def text(self, text: str) -> np.ndarray:
        with torch.no_grad():
            ids = self.processor(text=[text], return_tensors="pt")
            return unit(self.clip.get_text_features(**ids).pooler_output)[0]

    def dino_image(self, image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self.dino(**self.dino_processor(images=[image], return_tensors="pt"))
        return unit(out.last_hidden_state[:, 0])[0]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def features(tmp_path_factory) -> Path:
    """A feature-model folder in the layout users give ``--feature-model``."""
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        ViTConfig,
        ViTImageProcessor,
        ViTModel,
    )

    root = tmp_path_factory.mktemp("features")
    torch.manual_seed(0)
    clip = CLIPModel(CLIPConfig(
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
                     "vocab_size": 128, "max_position_embeddings": 77, "bos_token_id": 1, "eos_token_id": 2,
                     "pad_token_id": 2},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
                       "image_size": 32, "patch_size": 8},
        projection_dim=8))
    clip.save_pretrained(root / "clip")
    CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
                  tokenizer=tiny_clip_tokenizer(root / "clip")).save_pretrained(root / "clip")
    ViTModel(ViTConfig(hidden_size=16, intermediate_size=32, num_attention_heads=2, num_hidden_layers=1, image_size=32,
                       patch_size=8), add_pooling_layer=False).save_pretrained(root / "dino")
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(root / "dino")
    torch.jit.script(TinyInception()).save(str(root / "inception-2015-12-05.pt"))
    torch.jit.script(TinyI3D()).save(str(root / "i3d_torchscript.pt"))
    return root


@pytest.fixture(scope="module")
def hand(features) -> HandClip:
    return HandClip(features)


def options(data: Path, out: Path, features: Path | None, **kwargs) -> EvalOptions:
    return EvalOptions(data=data, split=kwargs.pop("split", ""), out=out, feature_model=features, **kwargs)


def photo(name: str, size: tuple[int, int]) -> np.ndarray:
    """A scikit-image photo scaled to ``size`` (w, h)."""
    return np.asarray(Image.fromarray(getattr(data, name)()).resize(size, Image.BICUBIC))


# -- the metrics, by hand -------------------------------------------------------------------------
def test_frechet_distance_is_the_gaussian_formula():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 4)), rng.normal(0.5, 2.0, size=(30, 4)) @ rng.normal(size=(4, 4))
    assert frechet_distance(real, fake) == pytest.approx(hand_frechet(real, fake), rel=1e-6)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(frechet_distance(real[:1], fake))  # one sample has no covariance


def test_similarities_and_pixel_distances_by_hand():
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(2 ** -0.5)
    assert clip_score(np.array([3.0, 4.0]), np.array([4.0, 3.0])) == pytest.approx(100 * 24 / 25)
    assert clip_score(np.array([1.0, 0.0]), np.array([-1.0, 0.2])) == 0.0  # negative cosine floors at 0
    frames = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert clipsim(frames, np.array([1.0, 0.0])) == pytest.approx((1 + 0 + 2 ** -0.5) / 3)

    a, b = photo("astronaut", (64, 48)), photo("coffee", (64, 48))
    diff = a / 255.0 - b / 255.0
    assert pixel_distances(a, b) == pytest.approx((np.abs(diff).mean(), (diff ** 2).mean()))
    big = photo("astronaut", (100, 80))  # resized to the target's size first, bicubic
    back = np.asarray(Image.fromarray(big).resize((64, 48), Image.BICUBIC)) / 255.0 - b / 255.0
    assert pixel_distances(big, b) == pytest.approx((np.abs(back).mean(), (back ** 2).mean()))


def test_a_missing_feature_model_is_named_before_anything_runs(tmp_path, features):
    with pytest.raises(DataError, match=r"inception-2015-12-05\.pt .*wget https://"):
        next(CocoT2I(options(tmp_path, tmp_path / "out", None)).samples())
    only_clip = tmp_path / "clip-only"
    only_clip.mkdir()
    (only_clip / "clip").symlink_to(features / "clip")
    with pytest.raises(DataError, match=r"FVD needs .*i3d_torchscript\.pt"):
        next(Ucf101I2V(options(tmp_path, tmp_path / "out", only_clip)).samples())
    with pytest.raises(DataError, match=r"captions_val2014\.json"):
        next(CocoT2I(options(tmp_path, tmp_path / "out", features)).samples())


# -- COCO text-to-image, end to end through the agent with a tiny Stable Diffusion ---------------------
def coco_fixture(root: Path) -> dict[int, tuple[str, np.ndarray]]:
    """captions_val2014.json + val2014/*.jpg: four real photos, two captions each (the lower id is the sample's)."""
    (root / "annotations").mkdir(parents=True)
    (root / "val2014").mkdir()
    photos = {11: "astronaut", 7: "coffee", 42: "chelsea", 3: "rocket"}
    images, notes, truth = [], [], {}
    for image_id, name in photos.items():
        file_name = f"COCO_val2014_{image_id:012d}.jpg"
        Image.fromarray(photo(name, (96, 72))).save(root / "val2014" / file_name, quality=95)
        images.append({"id": image_id, "file_name": file_name, "width": 96, "height": 72})
        notes += [{"id": 100 + image_id, "image_id": image_id, "caption": f"Another view of the {name}."},
                  {"id": image_id, "image_id": image_id, "caption": f"A photo of the {name}."}]
        real = np.asarray(Image.open(root / "val2014" / file_name).convert("RGB"))
        truth[image_id] = (f"A photo of the {name}.", real)
    (root / "annotations" / "captions_val2014.json").write_text(json.dumps({"images": images, "annotations": notes}))
    return truth


def test_coco_t2i_end_to_end_fid_and_clip_score(tmp_path, features, hand, make_agent):
    from vitron_agent.experts.registry import ExpertRegistry
    from vitron_agent.tools.stable_diffusion import StableDiffusionExpert

    from .tiny_models import tiny_sd_pipeline

    truth = coco_fixture(tmp_path / "coco")
    registry = ExpertRegistry.default()
    registry.register(StableDiffusionExpert, weights=str(tiny_sd_pipeline(tmp_path / "sd")))
    runner = Runner(agent=make_agent(registry=registry))
    out = tmp_path / "out"
    summary = run_benchmark(CocoT2I(options(tmp_path / "coco", out, features)), runner, progress=False)

    records = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [r["id"] for r in records] == ["3", "7", "11", "42"] and summary.failed == 0
    assert [r["caption"] for r in records] == [truth[int(r["id"])][0] for r in records]
    generated = {r["id"]: np.asarray(Image.open(out / r["image"])) for r in records}
    assert {g.shape for g in generated.values()} == {(32, 32, 3)}
    real = np.stack([hand_inception(truth[int(i)][1]) for i in generated])
    fake = np.stack([hand_inception(g) for g in generated.values()])
    scores = [100 * max(float(hand.image(generated[r["id"]]) @ hand.text(r["caption"])), 0.0) for r in records]
    assert summary.ours["FID"] == pytest.approx(hand_frechet(real, fake), rel=1e-5)
    assert summary.ours["CLIP score"] == pytest.approx(np.mean(scores), rel=1e-5)
    assert summary.paper == {"FID": 7.57}

    # a run killed after two samples continues to the same table, the regenerated images identical (fixed seed)
    (out / RESULTS).write_text("".join(line + "\n" for line in (out / RESULTS).read_text().splitlines()[:2]))
    (out / "generated" / "42.png").unlink()
    again = run_benchmark(CocoT2I(options(tmp_path / "coco", out, features)), runner, progress=False)
    assert np.array_equal(np.asarray(Image.open(out / "generated" / "42.png")), generated["42"])
    assert again.ours == pytest.approx(summary.ours, rel=1e-9)
    assert json.loads((out / "summary.json").read_text())["metrics"]["FID"]["paper"] == 7.57


# -- UCF-101 image-to-video, end to end through the agent with the embedded pan-and-zoom ---------------
def write_avi(frames: np.ndarray, path: Path, fps: int = 25) -> None:
    """A lossless (FFV1) AVI, so the clip decodes to exactly ``frames``."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="bgr0")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def ucf_fixture(root: Path) -> dict[str, np.ndarray]:
    """UCF-101/<Class>/v_*.avi from real photos moved along known paths, and ucfTrainTestlist/testlist01.txt."""
    clips, listed = {}, []
    specs = [("ApplyEyeMakeup", 1, "astronaut", (2, 1)), ("ApplyEyeMakeup", 2, "coffee", (-3, 0)),
             ("Biking", 1, "chelsea", (0, 2)), ("Biking", 2, "rocket", (3, -1)),
             ("Diving", 1, "immunohistochemistry", (1, 1))]
    for label, group, name, (dx, dy) in specs:
        image = photo(name, (220, 160))
        offsets = [(60 + dx * t, 40 + dy * t) for t in range(20)]
        frames = path_clip(image, offsets, (96, 72))
        stem = f"v_{label}_g{group:02d}_c01"
        write_avi(frames, root / "UCF-101" / label / f"{stem}.avi")
        listed.append(f"{label}/{stem}.avi")
        clips[stem] = frames
    (root / "UCF-101" / "Biking" / "v_Biking_g09_c01.avi").write_bytes(b"")  # not in the list: never read
    (root / "ucfTrainTestlist").mkdir()
    (root / "ucfTrainTestlist" / "testlist01.txt").write_text("\n".join(listed) + "\n")
    return clips


def test_ucf101_i2v_end_to_end_fvd(tmp_path, features, make_agent):
    from vitron_agent.stores.media_io import MediaLimits, decode_video

    clips = ucf_fixture(tmp_path / "ucf")
    out = tmp_path / "out"
    summary = run_benchmark(Ucf101I2V(options(tmp_path / "ucf", out, features)), Runner(agent=make_agent()),
                            progress=False)
    records = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [r["id"] for r in records] == list(clips) and summary.failed == 0
    assert records[2]["label"] == "biking" and records[0]["label"] == "apply eye makeup"
    for record in records:  # the image animated is the clip's first frame
        first = np.asarray(Image.open(out / "inputs" / f"{record['id']}.png"))
        assert np.array_equal(first, clips[record["id"]][0])
    real = np.stack([hand_i3d(clips[r["id"]]) for r in records])
    saved = [np.load(out / r["features"]) for r in records]
    assert np.allclose(np.stack([s["real"] for s in saved]), real, atol=1e-5)
    # the generated clips are kept as (lossy) MP4: their features by hand agree up to compression (about 1 grey level)
    videos = [decode_video((out / r["video"]).read_bytes(), "clip.mp4", MediaLimits())[0] for r in records]
    assert all(len(v) == r["frames"] > 16 for v, r in zip(videos, records, strict=True))
    fake = np.stack([s["fake"] for s in saved])
    assert np.allclose(fake, np.stack([hand_i3d(v) for v in videos]), atol=0.02)
    assert not np.allclose(fake, real, atol=0.02)
    assert summary.ours["FVD"] == pytest.approx(hand_frechet(real, fake), rel=1e-5)
    assert summary.ours["FVD"] > 0 and summary.paper == {}


# -- MagicBrush, official test layout, one embedded expert directly ---------------------------------
def magicbrush_fixture(root: Path) -> dict[str, dict]:
    """edit_sessions.json, images/<img_id>/*.png and local_captions.json; session 7's edit is one the embedded
    restyler cannot do (a failed sample)."""
    def put(img_id: str, name: str, image: np.ndarray) -> str:
        (root / "images" / img_id).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "images" / img_id / name)
        return name

    source, cat = photo("astronaut", (96, 72)), photo("chelsea", (96, 72))
    greyish = (0.5 * source + 0.5 * source.mean(axis=2, keepdims=True)).astype(np.uint8)
    sessions = {
        "101": [{"input": put("101", "101-input.png", source), "output": put("101", "101-output1.png", greyish),
                 "mask": "101-mask1.png", "instruction": "make it a pencil sketch"},
                {"input": "101-output1.png", "output": put("101", "101-output2.png", photo("astronaut", (48, 36))),
                 "mask": "101-mask2.png", "instruction": "turn it into a watercolor painting"}],
        "7": [{"input": put("7", "7-input.png", cat), "output": put("7", "7-output1.png", photo("coffee", (96, 72))),
               "mask": "7-mask1.png", "instruction": "let the cat wear a hat"}],
    }
    (root / "edit_sessions.json").write_text(json.dumps(sessions))
    captions = {"101": {"101-output1.png": "a grey astronaut", "101-output2.png": "a small astronaut"},
                "7": {"7-output1.png": "a cup of coffee"}}
    (root / "local_captions.json").write_text(json.dumps(captions))
    return {f"{k}-{t}": {"target": np.asarray(Image.open(root / "images" / k / e["output"]).convert("RGB")),
                         "caption": captions[k][e["output"]]} for k, turns in sessions.items()
            for t, e in enumerate(turns, 1)}


def test_magicbrush_with_an_embedded_expert(tmp_path, features, hand):
    truth = magicbrush_fixture(tmp_path / "MagicBrush" / "test")
    out = tmp_path / "out"
    with Runner(expert="opencv_restyle") as runner:
        summary = run_benchmark(MagicBrush(options(tmp_path / "MagicBrush", out, features, expert="opencv_restyle")),
                                runner, progress=False)
    records = {r["id"]: r for r in map(json.loads, (out / RESULTS).read_text().splitlines())}
    assert list(records) == ["7-1", "101-1", "101-2"] and summary.failed == 1
    assert "restyle knows these styles" in records["7-1"]["error"]
    expected = {"l1": [1.0], "l2": [1.0], "clip_i": [0.0], "clip_t": [0.0], "dino": [0.0]}  # the miss
    for sample_id in ("101-1", "101-2"):
        edited, target = np.asarray(Image.open(out / records[sample_id]["image"])), truth[sample_id]["target"]
        assert edited.shape == (72, 96, 3)
        resized = np.asarray(Image.fromarray(edited).resize(target.shape[1::-1], Image.BICUBIC)) / 255.0
        expected["l1"].append(np.abs(resized - target / 255.0).mean())
        expected["l2"].append(((resized - target / 255.0) ** 2).mean())
        expected["clip_i"].append(float(hand.image(edited) @ hand.image(target)))
        expected["clip_t"].append(float(hand.image(edited) @ hand.text(truth[sample_id]["caption"])))
        expected["dino"].append(float(hand.dino_image(edited) @ hand.dino_image(target)))
    names = {"L1": "l1", "L2": "l2", "CLIP-I": "clip_i", "CLIP-T": "clip_t", "DINO": "dino"}
    assert summary.ours == pytest.approx({m: np.mean(expected[k]) for m, k in names.items()}, rel=1e-5)
    assert 0 < summary.ours["L1"] < 1 and summary.paper == {"CLIP-I": 0.910, "L1": 0.047}


# -- MSR-VTT text-to-video, one expert directly -------------------------------------------------------
PAN_PHOTOS = {"cat": "chelsea", "coffee": "coffee"}
"""The photo ``PhotoPanVideo`` pans across, by a word of the caption (else the astronaut)."""


def pan_video(caption: str, seed: int) -> np.ndarray:
    """The clip ``PhotoPanVideo`` makes: 8 frames of 64x48 panning right across a real photo, 2 + seed px a frame."""
    name = next((p for word, p in PAN_PHOTOS.items() if word in caption), "astronaut")
    image = photo(name, (160, 120))
    return path_clip(image, [((2 + seed) * t, 10) for t in range(8)], (64, 48))


def photo_pan_expert():
    """A text-to-video expert without weights for the benchmark's plumbing: real photos panned, seeded."""
    from vitron_agent.experts.base import Expert, ExpertResult, ExpertSpec, VideoClip

    class PhotoPanVideo(Expert):
        spec = ExpertSpec(name="photo_pan", tasks=("generate_video",), description="Pans across a real photo.",
                          outputs=("video",))

        def load(self, device: str = "cpu", dtype: str | None = None) -> None:
            pass

        def run(self, call):
            frames = pan_video(call.command, int(call.args.get("seed", 0)))
            return ExpertResult(videos=[VideoClip(frames, 8.0)], text="panned")

    return PhotoPanVideo


def test_msrvtt_clipsim_with_one_expert(tmp_path, features, hand, make_agent):
    from vitron_agent.experts.registry import ExpertRegistry

    root = tmp_path / "msrvtt"
    (root / "annotation").mkdir(parents=True)
    info = {"videos": [{"video_id": "video9", "split": "test"}, {"video_id": "video10", "split": "test"},
                       {"video_id": "video2", "split": "train"}],
            "sentences": [{"video_id": "video10", "sen_id": 5, "caption": "a cat sits on a sofa"},
                          {"video_id": "video10", "sen_id": 9, "caption": "a cat rests"},
                          {"video_id": "video9", "sen_id": 7, "caption": "a man is pouring coffee"},
                          {"video_id": "video2", "sen_id": 1, "caption": "a train caption"}]}
    (root / "annotation" / "MSRVTT_data.json").write_text(json.dumps(info))
    registry = ExpertRegistry()
    registry.register(photo_pan_expert())
    out = tmp_path / "out"
    summary = run_benchmark(MsrVttT2V(options(root, out, features, expert="photo_pan", seed=3)),
                            Runner(expert="photo_pan", agent=make_agent(registry=registry)), progress=False)
    records = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [(r["id"], r["caption"]) for r in records] == [("video9", "a man is pouring coffee"),
                                                          ("video10", "a cat sits on a sofa")]
    expected = []
    for record in records:  # the clip by construction, with the run's seed
        clip = pan_video(record["caption"], seed=3)
        assert record["frames"] == len(clip)
        text = hand.text(record["caption"])
        expected.append(np.mean([float(hand.image(frame) @ text) for frame in clip]))
    assert summary.ours["CLIPSIM"] == pytest.approx(np.mean(expected), rel=1e-5)
    assert summary.paper == {"CLIPSIM": 0.3682}


def test_magicbrush_hugging_face_parquet_export(tmp_path, features):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from vitron_agent.stores.media_io import encode_png

    source, target = photo("astronaut", (64, 48)), photo("chelsea", (64, 48))
    png = {"source": encode_png(source), "target": encode_png(target)}
    table = pa.table({
        "img_id": ["327", "327"], "turn_index": [1, 2],
        "source_img": [{"bytes": png["source"], "path": None}] * 2,
        "mask_img": [{"bytes": png["source"], "path": None}] * 2,
        "instruction": ["make it a pencil sketch", "make it black and white"],
        "target_img": [{"bytes": png["target"], "path": None}] * 2})
    (tmp_path / "MagicBrush" / "data").mkdir(parents=True)
    pq.write_table(table, tmp_path / "MagicBrush" / "data" / "dev-00000-of-00001.parquet")
    out = tmp_path / "out"
    with Runner(expert="opencv_restyle") as runner:
        summary = run_benchmark(MagicBrush(options(tmp_path / "MagicBrush", out, features, split="dev",
                                                   expert="opencv_restyle")), runner, progress=False)
    records = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [r["id"] for r in records] == ["327-1", "327-2"] and summary.failed == 0
    assert np.array_equal(np.asarray(Image.open(out / "inputs" / "327-1.png")), source)
    grey = np.asarray(Image.open(out / records[1]["image"]))
    assert (grey[..., 0] == grey[..., 2]).all()  # black and white, from the source the export holds
    l1 = [np.abs(np.asarray(Image.open(out / r["image"])) / 255.0 - target / 255.0).mean() for r in records]
    assert summary.ours["L1"] == pytest.approx(np.mean(l1), rel=1e-6)
    assert "CLIP-T" not in summary.ours  # the export has no captions
