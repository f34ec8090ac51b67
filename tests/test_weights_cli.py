"""``vitron-agent weights``: list, pull and verify against a local Hugging-Face-compatible hub (tests/hub_server.py).

The pulls run the real command in a subprocess with ``HF_ENDPOINT`` pointing at the local hub (huggingface_hub
reads the endpoint and offline mode when it is imported, and the test process has it imported offline), into a
temporary Hugging Face cache and weights folder. The pulled expert then runs offline through the agent and must
give what the same expert gives from the folder the hub served.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
    pytest.skip("needs torch and transformers (the ground extra)", allow_module_level=True)

from vitron_agent.errors import UnavailableError  # noqa: E402
from vitron_agent.weights import PROFILES, check_space, hub_files  # noqa: E402

from .hub_server import FakeHub  # noqa: E402
from .tiny_models import tiny_owlv2  # noqa: E402

OWL = "google/owlv2-base-patch16-ensemble"
NOT_WEIGHTS = ("pytorch_model.bin", "flax_model.msgpack", "model.onnx", "README.md", "model.fp16.safetensors")


def _pickle_bytes() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(4)}, buffer)
    return buffer.getvalue()


def _tiny_safetensors() -> bytes:
    from safetensors.numpy import save

    return save({"weight": np.arange(8, dtype=np.float32)})


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The hub: the tiny OWLv2 with pickles and other formats beside it, a gated repo, a pickles-only repo, and
    small stand-ins for the releases the cpu profile picks instead of the defaults."""
    source = tiny_owlv2(tmp_path_factory.mktemp("owl") / "tiny")
    server = FakeHub()
    server.add_folder(OWL, source)
    server.repos[OWL].update({"pytorch_model.bin": _pickle_bytes(), "flax_model.msgpack": b"\0" * 64,
                              "model.onnx": b"\0" * 64, "README.md": b"# tiny", "model.fp16.safetensors":
                              _tiny_safetensors()})
    server.repos["Qwen/Qwen2.5-VL-3B-Instruct"] = {"config.json": b"{}", "model.safetensors": _tiny_safetensors()}
    server.gated.add("Qwen/Qwen2.5-VL-3B-Instruct")
    server.repos["cerspense/zeroscope_v2_576w"] = {"model_index.json": b"{}",
                                                   "unet/diffusion_pytorch_model.bin": _pickle_bytes()}
    for override in {i for profile in PROFILES.values() for i in profile.values() if i}:
        server.repos[override] = {"config.json": b"{}", "model.safetensors": _tiny_safetensors()}
    server.url = server.start()
    server.source = source
    yield server
    server.stop()


def _env(hub, root: Path, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(root / "hf"), HF_HUB_CACHE=str(root / "hf" / "hub"),
               VITRON_WEIGHTS_DIR=str(root / "weights"), HF_HUB_DISABLE_PROGRESS_BARS="1",
               VITRON_RELEASE_MIRROR=f"{hub.url}/releases", **changes)
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitron_agent.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def pulled(hub, tmp_path_factory):
    """``vitron-agent weights pull owlv2`` into a fresh cache; (env, finished process, root folder)."""
    root = tmp_path_factory.mktemp("pull")
    env = _env(hub, root)
    done = _cli(env, "weights", "pull", "owlv2")
    return env, done, root


def _snapshot(root: Path) -> Path:
    manifest = json.loads((root / "weights" / "manifest.json").read_text())
    return Path(manifest["owlv2"]["folder"])


def test_pull_fetches_safetensors_configs_and_tokenizer_but_no_pickles(hub, pulled):
    env, done, root = pulled
    assert done.returncode == 0, done.stderr
    folder = _snapshot(root)
    assert folder.is_relative_to(root / "hf" / "hub")
    arrived = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    served = {p.relative_to(hub.source).as_posix() for p in hub.source.rglob("*") if p.is_file()}
    assert arrived == served  # the model, its config, the processor and tokenizer files: everything save_pretrained wrote
    asked = [path for path in hub.requests if "/resolve/" in path]
    assert not [path for path in asked if path.endswith(NOT_WEIGHTS)], asked
    entry = json.loads((root / "weights" / "manifest.json").read_text())["owlv2"]
    assert entry["id"] == OWL and entry["revision"] == hub.commit(OWL)
    assert entry["files"]["model.safetensors"]["sha256"] == hashlib.sha256(
        (hub.source / "model.safetensors").read_bytes()).hexdigest()


def test_the_pulled_expert_is_listed_installed_and_runs_offline(hub, pulled, photos, monkeypatch):
    from huggingface_hub import constants
    from skimage import data

    from vitron_agent import AgentConfig, VitronAgent
    from vitron_agent.experts.base import ExpertCall
    from vitron_agent.experts.registry import ExpertRegistry
    from vitron_agent.protocol import Invocation
    from vitron_agent.tools.owlv2 import Owlv2Expert

    env, _, root = pulled
    listed = _cli(env, "weights", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["expert"]: row for row in json.loads(listed.stdout)}
    owl = rows["owlv2"]
    assert owl["installed"] and owl["exact"] and owl["licence"] == "Apache-2.0" and owl["weights"] == OWL
    assert owl["size"] == sum(p.stat().st_size for p in hub.source.rglob("*") if p.is_file())
    assert Path(owl["folder"]) == _snapshot(root)
    assert not rows["qwen_vl"]["installed"] and "not on disk" in rows["qwen_vl"]["reason"]

    # the agent in this process, offline, on the same cache and weights folder (huggingface_hub read the cache's
    # place when this process imported it, so it is told here what the subprocess read from HF_HUB_CACHE)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", env["HF_HUB_CACHE"])
    monkeypatch.setenv("VITRON_WEIGHTS_DIR", env["VITRON_WEIGHTS_DIR"])
    registry = ExpertRegistry.default()
    assert registry.availability("owlv2").weights_path == str(_snapshot(root))
    with VitronAgent(AgentConfig(state_dir=root / "state"), registry=registry) as agent:
        result = agent.invoke("find the astronaut", images=[photos["astronaut"]], invocations=[
            Invocation(module="owlv2", task="ground", command="the astronaut", args={"threshold": 0.0})])
    assert result.errors == []
    boxes = next(a for a in result.artifacts if a.kind == "boxes")
    found = json.loads(Path(boxes.path).read_text())["detections"]

    direct = Owlv2Expert(weights=str(hub.source))
    direct.load("cpu")
    expected = direct.run(ExpertCall(Invocation(id="c1", task="ground", command="the astronaut",
                                                args={"threshold": 0.0}), images=[data.astronaut()]))
    assert found and len(found) <= len(expected.detections)  # the agent keeps the best of them
    np.testing.assert_allclose([d["box"] for d in found], [d.box for d in expected.detections[:len(found)]],
                               atol=1e-3)
    np.testing.assert_allclose([d["score"] for d in found], [d.score for d in expected.detections[:len(found)]],
                               atol=1e-5)


def test_verify_passes_then_names_the_file_with_a_flipped_byte(pulled):
    env, _, root = pulled
    checked = _cli(env, "weights", "verify", "owlv2")
    assert checked.returncode == 0 and "ok  owlv2" in checked.stdout, checked.stdout + checked.stderr
    weights = (_snapshot(root) / "model.safetensors").resolve()  # the cache's blob behind the snapshot's link
    original = weights.read_bytes()
    middle = len(original) // 2
    try:
        weights.write_bytes(original[:middle] + bytes([original[middle] ^ 0xFF]) + original[middle + 1:])
        broken = _cli(env, "weights", "verify", "--json")
        assert broken.returncode == 1
        report = {row["expert"]: row for row in json.loads(broken.stdout)}["owlv2"]
        assert not report["ok"] and report["problems"] == [
            f"model.safetensors does not match its sha256 "
            f"{hashlib.sha256(original).hexdigest()[:12]}..."]
    finally:
        weights.write_bytes(original)


def test_failed_pulls_say_why_in_one_line_each(hub, pulled, tmp_path):
    env, _, _ = pulled
    unknown = _cli(env, "weights", "pull", "owlv3")
    assert unknown.returncode == 2 and "no expert with weights named 'owlv3'" in unknown.stderr
    assert "owlv2" in unknown.stderr and "Traceback" not in unknown.stderr

    failed = _cli(env, "weights", "pull", "qwen_vl", "text_to_video", "stable_diffusion")
    assert failed.returncode == 2, failed.stdout
    lines = {line.split(":")[0]: line for line in failed.stdout.splitlines()}
    assert "set HF_TOKEN" in lines["qwen_vl"] and f"{hub.url}/Qwen/Qwen2.5-VL-3B-Instruct" in lines["qwen_vl"]
    assert "accept its licence" in lines["qwen_vl"]
    assert "publishes no safetensors" in lines["text_to_video"]
    assert "was not found on the hub" in lines["stable_diffusion"]
    assert "could not pull qwen_vl, text_to_video, stable_diffusion" in failed.stderr
    assert not [p for p in hub.requests if p.endswith("diffusion_pytorch_model.bin")]

    with_token = _cli({**env, "HF_TOKEN": hub.token}, "weights", "pull", "qwen_vl")
    assert with_token.returncode == 0, with_token.stdout + with_token.stderr

    no_network = _cli({**env, "HF_ENDPOINT": "http://127.0.0.1:9"}, "weights", "pull", "owlv2")
    assert no_network.returncode == 2 and "cannot reach the hub at http://127.0.0.1:9" in no_network.stdout

    offline = _cli({**env, "HF_HUB_OFFLINE": "1"}, "weights", "pull", "owlv2")
    assert offline.returncode == 2 and "HF_HUB_OFFLINE=0" in offline.stdout


def test_a_download_larger_than_the_free_disk_is_refused_before_it_starts(tmp_path):
    import shutil

    free = shutil.disk_usage(tmp_path).free
    check_space(1000, tmp_path / "not" / "made" / "yet")  # the nearest existing folder's disk is asked
    with pytest.raises(UnavailableError, match="not enough disk space.*HF_HUB_CACHE"):
        check_space(2 * free, tmp_path)


def test_only_safetensors_configs_and_tokenizers_of_the_components_are_picked():
    from huggingface_hub.hf_api import RepoSibling

    listing = ["model_index.json", "flux1-schnell.safetensors", "ae.safetensors", "README.md",
               "transformer/config.json", "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
               "transformer/diffusion_pytorch_model.safetensors.index.json", "text_encoder/model.fp16.safetensors",
               "text_encoder/model.safetensors", "text_encoder/pytorch_model.bin", "tokenizer/vocab.json",
               "tokenizer/merges.txt", "tokenizer_2/spiece.model", "unet/diffusion_pytorch_model.bin.index.json",
               "onnx/unet/model.onnx", "onnx/unet/config.json", "vae/diffusion_pytorch_model.ckpt",
               "scheduler/scheduler_config.json", "tokenizer/chat_template.jinja"]
    picked = [s.rfilename for s in hub_files(RepoSibling(rfilename=name) for name in listing)]
    assert picked == ["model_index.json", "transformer/config.json",
                      "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
                      "transformer/diffusion_pytorch_model.safetensors.index.json", "text_encoder/model.safetensors",
                      "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer_2/spiece.model",
                      "scheduler/scheduler_config.json", "tokenizer/chat_template.jinja"]
    transformers_repo = ["config.json", "model.safetensors", "sam2.1_hiera_large.pt", "pytorch_model.bin"]
    assert [s.rfilename for s in hub_files(RepoSibling(rfilename=n) for n in transformers_repo)] == [
        "config.json", "model.safetensors"]


def test_the_cpu_profile_converts_a_pickle_release_and_records_smaller_releases(hub, tmp_path, monkeypatch):
    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("needs the yolo extra (ultralytics)")
    import torch

    from vitron_agent.experts.registry import ExpertRegistry
    from vitron_agent.tools.yolo import YoloExpert, build_yolo

    model = build_yolo("yolo11n-seg.yaml")
    model.save(str(tmp_path / "yolo11n-seg.pt"))  # ultralytics' own format: a pickle
    hub.releases["yolo11n-seg.pt"] = (tmp_path / "yolo11n-seg.pt").read_bytes()
    root = tmp_path / "profile"
    done = _cli(_env(hub, root), "weights", "pull", "--profile", "cpu")
    assert done.returncode == 0, done.stdout + done.stderr

    registered = ExpertRegistry.default().names()
    for name in PROFILES["cpu"]:
        assert (f"{name}: not registered" in done.stdout) == (name not in registered), done.stdout
    manifest = json.loads((root / "weights" / "manifest.json").read_text())
    assert set(manifest) == {name for name in PROFILES["cpu"] if name in registered}
    folder = root / "weights" / "yolo11n-seg"
    assert sorted(p.name for p in folder.iterdir()) == ["model.safetensors", "model.yaml"]
    assert not list((root / "weights").rglob("*.pt"))  # the pickle was converted, then deleted
    chosen = json.loads((root / "weights" / "experts.json").read_text())
    overrides = {name: {"hub": i} for name, i in PROFILES["cpu"].items() if i and name in registered}
    assert chosen == overrides  # yolo is found where it looks by default: no choice needed

    monkeypatch.setenv("VITRON_WEIGHTS_DIR", str(root / "weights"))
    expert = YoloExpert()
    assert expert.availability().ok
    expert.load("cpu")
    saved = model.model.state_dict()  # ultralytics saves half precision; the conversion keeps those values
    loaded = expert.model.model.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k].half().to(loaded[k].dtype), loaded[k]) for k in saved if saved[k].is_floating_point())
    checked = _cli(_env(hub, root), "weights", "verify", "yolo")
    assert checked.returncode == 0 and "ok  yolo" in checked.stdout, checked.stdout


class _RunsCode:
    """A pickle that runs code when unpickled: what a restricted loader must refuse."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_a_pickle_release_that_would_run_code_is_refused_and_nothing_is_installed(hub, tmp_path, monkeypatch):
    if importlib.util.find_spec("segment_anything") is None:
        pytest.skip("needs the sam extra (segment_anything)")
    import pickle

    from vitron_agent.weights import pull

    marker = tmp_path / "ran.txt"
    hub.releases["sam_vit_b_01ec64.pth"] = pickle.dumps({"image_encoder.pos_embed": _RunsCode(marker)}, protocol=2)
    monkeypatch.setenv("VITRON_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("VITRON_RELEASE_MIRROR", f"{hub.url}/releases")
    lines: list[str] = []
    failed = pull(["sam"], log=lines.append)
    assert set(failed) == {"sam"} and "refused to load sam_vit_b_01ec64.pth" in failed["sam"], lines
    assert not marker.exists()
    assert [p.name for p in (tmp_path / "weights").iterdir()] == []  # no pickle, no folder, no manifest, no choice
