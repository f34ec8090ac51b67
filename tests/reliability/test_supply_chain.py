"""Supply chain: weights load only from safetensors or ``torch.load(weights_only=True)``; no remote code.

A live malicious checkpoint (unpickling it creates a marker file; a control test proves it does) is
given as weights to every kind of loader we ship: SAM's checkpoint file, YOLO's ultralytics ``.pt``
(even with ``allow_pickle=True``), a diffusers pipeline folder, a transformers model folder and the
VITRON checkpoint. Each is refused and the marker never appears. A scan of the source then checks
that every ``torch.load`` passes ``weights_only=True`` and that nothing unpickles or trusts remote code.
"""

from __future__ import annotations

import ast
import importlib.util
import pickle
import shutil
from pathlib import Path

import pytest

from vitron_agent.errors import BadInputError, UnavailableError, VitronError

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for folder in ("vitron_agent", "tools", "finetune", "benchmarks") for p in (REPO / folder).rglob("*.py")]


class Payload:
    """What a malicious checkpoint holds: unpickling it calls ``open(marker, "w")``, creating the marker."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _evil(path: Path, marker: Path, legacy: bool = False) -> Path:
    """A checkpoint at ``path`` that creates ``marker`` when unpickled: torch's zip format, or a plain pickle."""
    payload = {"model": Payload(marker), "state_dict": {"w": torch.zeros(2)}}
    path.parent.mkdir(parents=True, exist_ok=True)
    if legacy:
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    return path


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a pickled payload ran"


def test_control_the_payload_runs_when_unpickled_unsafely(tmp_path):
    marker = tmp_path / "control"
    torch.load(_evil(tmp_path / "evil.pt", marker), weights_only=False)
    assert marker.exists()
    marker.unlink()
    pickle.loads(_evil(tmp_path / "evil.pkl", marker, legacy=True).read_bytes())
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch, reading the plain pickle to refuse it
@pytest.mark.parametrize("legacy", [False, True], ids=["torch-zip", "plain-pickle"])
def test_sam_refuses_a_pickled_payload(legacy, marker, tmp_path, make_agent, good_image):
    pytest.importorskip("segment_anything")
    from vitron_agent.experts.registry import ExpertRegistry
    from vitron_agent.tools.sam import SamExpert

    from ..synthetic_experts import BoxMaskExpert
    from .conftest import assert_actionable, assert_thread_goes_on, begin_thread

    weights = _evil(tmp_path / "sam_vit_b_01ec64.pth", marker, legacy)
    with pytest.raises(UnavailableError, match="refused to load sam_vit_b_01ec64.pth"):
        SamExpert(weights=str(weights)).load("cpu")
    registry = ExpertRegistry()
    registry.register(SamExpert, weights=str(weights))
    registry.register(BoxMaskExpert)
    agent = make_agent(registry=registry)
    before = begin_thread(agent, good_image, "sam")
    result = agent.invoke("segment", thread="sam", invocations=[
        {"module": "sam", "task": "segment", "region": {"box": [1, 1, 20, 20]}, "inputs": ["u0"]}])
    assert result.artifacts == [] and "refused to load" in result.errors[0]["message"]
    assert_actionable(result.errors[0]["message"])
    assert_thread_goes_on(agent, "sam", before, good_image)


def test_yolo_refuses_a_pickled_payload_even_when_pickles_are_allowed(marker, tmp_path):
    if importlib.util.find_spec("ultralytics") is None:  # not importorskip: importing it patches PIL.Image.open
        pytest.skip("needs the yolo extra")
    from vitron_agent.tools.yolo import YoloExpert, convert_yolo_checkpoint

    weights = _evil(tmp_path / "yolo11n-seg.pt", marker)
    refused = YoloExpert(weights=str(weights))
    assert not refused.availability().ok and "pickled" in refused.availability().reason
    with pytest.raises(UnavailableError, match="pickled"):
        refused.load("cpu")
    opted_in = YoloExpert(weights=str(weights), allow_pickle=True)  # the user trusts the file: still no code runs
    with pytest.raises(UnavailableError, match="refused to load yolo11n-seg.pt"):
        opted_in.load("cpu")
    with pytest.raises(UnavailableError, match="refused to load"):
        convert_yolo_checkpoint(weights, tmp_path / "converted")


def _only_pickles(folder: Path, marker: Path) -> list[Path]:
    """Replace every weight file under ``folder`` with the payload, named as a pickle checkpoint."""
    written = []
    for weights in [*folder.rglob("*.safetensors"), *folder.rglob("*.bin")]:
        weights.unlink()
        name = "pytorch_model.bin" if weights.name == "model.safetensors" else weights.stem + ".bin"
        written.append(_evil(weights.with_name(name), marker))
    assert written
    return written


def test_diffusers_experts_read_safetensors_only(marker, tmp_path):
    pytest.importorskip("diffusers")
    from vitron_agent.tools.stable_diffusion import StableDiffusionExpert

    from ..tiny_models import tiny_sd_pipeline

    folder = tiny_sd_pipeline(tmp_path / "sd")
    _only_pickles(folder, marker)
    expert = StableDiffusionExpert(weights=str(folder))
    assert not expert.check_weights().ok and "only pickle weights" in expert.check_weights().reason
    with pytest.raises(UnavailableError, match="only pickle weights.*safe_serialization=True"):
        expert.load("cpu")


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from ..tiny_models import tiny_owlv2

    return tiny_owlv2(tmp_path_factory.mktemp("owl") / "tiny-owlv2")


def test_transformers_experts_read_safetensors_only(marker, tmp_path, owl_dir):
    from vitron_agent.tools.owlv2 import Owlv2Expert

    folder = Path(shutil.copytree(owl_dir, tmp_path / "owl"))
    _only_pickles(folder, marker)
    assert (folder / "pytorch_model.bin").exists() and not (folder / "model.safetensors").exists()
    with pytest.raises(UnavailableError, match="only pickle weights.*safe_serialization=True"):
        Owlv2Expert(weights=str(folder)).load("cpu")
    intact = Owlv2Expert(weights=str(owl_dir))  # the same folder with its safetensors loads: pickles are the issue
    intact.load("cpu")
    assert intact.loaded and intact.model is not None


def test_the_vitron_checkpoint_refuses_pickles_and_reads_them_as_tensors_only(marker, tmp_path):
    pytest.importorskip("transformers")
    from vitron_agent.model import build_tiny_vitron, load_vitron

    folder = build_tiny_vitron(tmp_path / "vitron")
    _only_pickles(folder, marker)
    with pytest.raises(BadInputError, match="holds only pickle weights"):
        load_vitron(folder)
    with pytest.raises(BadInputError, match="not a plain tensor checkpoint") as info:
        load_vitron(folder, allow_pickle=True)  # allowed, yet read with torch.load(weights_only=True)
    assert isinstance(info.value, VitronError)


# --- the source, scanned ---------------------------------------------------------------------------


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(), str(path))) if isinstance(node, ast.Call)]


def _name(node: ast.AST) -> str:
    """``torch.load`` for ``torch.load(...)``'s func, ``load`` for a bare name, ``?.load`` otherwise."""
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "?"


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def test_the_scan_sees_the_sources():
    names = {p.relative_to(REPO).as_posix() for p in SOURCES}
    assert {"tools/sam.py", "vitron_agent/model/loading.py", "tools/yolo.py"} <= names


def test_every_torch_load_passes_weights_only_true():
    found = []
    for path in SOURCES:
        for call in _calls(path):
            if _name(call.func) == "torch.load":
                found.append((path.relative_to(REPO).as_posix(), call.lineno, _is_true(_keyword(call, "weights_only"))))
    assert found, "the scan found no torch.load at all"
    unsafe = [f"{file}:{line}" for file, line, safe in found if not safe]
    assert unsafe == [], f"torch.load without weights_only=True: {unsafe}"


def _only_refusing_unpicklers(path: Path) -> bool:
    """True when the file's only use of ``pickle`` is ``pickle.Unpickler`` subclasses whose ``find_class`` does
    nothing but raise: such an unpickler builds lists, dicts, strings and numbers and can reach no callable, so
    no code in the stream runs (benchmark data released as pickles, e.g. RefCOCO's refs files)."""
    tree = ast.parse(path.read_text())
    refusing = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(_name(base) == "pickle.Unpickler" for base in node.bases):
            finders = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "find_class"]
            body = [b for b in finders[0].body if not isinstance(b, ast.Expr)] if finders else []
            if len(body) != 1 or not isinstance(body[0], ast.Raise):
                return False
            refusing.add(node.name)
    uses = [_name(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and _name(n).startswith("pickle.")]
    return bool(refusing) and all(use == "pickle.Unpickler" for use in uses)


def test_nothing_unpickles_or_trusts_remote_code():
    problems = []
    for path in SOURCES:
        where = path.relative_to(REPO).as_posix()
        text = path.read_text()
        for module in ("pickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"):
            if f"import {module}" in text and not (module == "pickle" and _only_refusing_unpicklers(path)):
                problems.append(f"{where}: imports {module}")
        for call in _calls(path):
            name = _name(call.func)
            remote = _keyword(call, "trust_remote_code")
            if remote is not None and not (isinstance(remote, ast.Constant) and remote.value is False):
                problems.append(f"{where}:{call.lineno}: trust_remote_code is not False")
            if name.endswith(("np.load", "numpy.load")) and _is_true(_keyword(call, "allow_pickle")):
                problems.append(f"{where}:{call.lineno}: np.load(allow_pickle=True)")
            if name in ("yaml.load", "yaml.unsafe_load", "torch.hub.load", "eval", "exec"):
                problems.append(f"{where}:{call.lineno}: {name}")
    assert problems == []


def test_expert_model_loads_in_tools_ask_for_safetensors():
    """Every ``from_pretrained`` in the experts passes ``use_safetensors=True`` (processors and tokenizers,
    which hold no weights, excepted) and never ``trust_remote_code``."""
    checked = []
    for path in (REPO / "tools").rglob("*.py"):
        for call in _calls(path):
            name = _name(call.func)
            if not name.endswith(".from_pretrained") or name.split(".")[-2].endswith(("Processor", "Tokenizer")):
                continue
            checked.append(f"{path.name}:{call.lineno}")
            assert _is_true(_keyword(call, "use_safetensors")), f"{path.name}:{call.lineno} {name}"
            assert _is_true(_keyword(call, "local_files_only")), f"{path.name}:{call.lineno} may download"
    assert len(checked) >= 2, checked


def test_a_weights_folder_is_judged_by_its_tensor_files_before_anything_loads(tmp_path):
    from vitron_agent.tools._hf import find_pretrained

    folder = tmp_path / "pipe"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    empty = find_pretrained(str(folder), "model_index.json", "stable_diffusion")
    assert not empty.ok and "no weight files" in empty.reason
    (folder / "unet").mkdir()
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"not read")
    pickled = find_pretrained(str(folder), "model_index.json", "stable_diffusion")
    assert not pickled.ok and "only pickle weights" in pickled.reason and "safe_serialization" in pickled.fix
    (folder / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"")
    assert find_pretrained(str(folder), "model_index.json", "stable_diffusion").weights_path == str(folder)



def test_only_an_unpickler_that_refuses_every_class_is_let_through(tmp_path):
    refusing = "import pickle\n\n\nclass P(pickle.Unpickler):\n    def find_class(self, m, n):\n        raise ValueError(m)\n"
    loose = refusing + "data = pickle.loads(b'')\n"
    trusting = refusing.replace("raise ValueError(m)", "return super().find_class(m, n)")
    verdicts = []
    for name, text in (("refusing", refusing), ("loose", loose), ("trusting", trusting)):
        (tmp_path / f"{name}.py").write_text(text)
        verdicts.append(_only_refusing_unpicklers(tmp_path / f"{name}.py"))
    assert verdicts == [True, False, False]
