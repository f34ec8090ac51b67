"""Expert weights in one command (``vitron-agent weights``): what each expert needs, fetching it safely, checking it.

The catalog is the registry: every expert with weights, under the id its instance uses (the spec's default, a
registration's ``weights=`` option, or a release chosen by ``pull --profile``). Hub releases are downloaded with
``huggingface_hub.snapshot_download`` into the Hugging Face cache (``$HF_HUB_CACHE``), where the experts already look
for a hub id; ``$HF_ENDPOINT`` and ``$HF_TOKEN`` are honoured. Only safetensors, configs and tokenizer/processor files
are fetched, never pickles (.bin/.pt/.pth/.ckpt) or other formats (.msgpack/.h5/.onnx). A release published only as a
pickle (Segment Anything's ``.pth``, ultralytics' ``.pt``) is downloaded once, read by the expert's restricted
loader (``torch.load(weights_only=True)``) and written as safetensors under ``weights_dir()``; the pickle is deleted.
``$VITRON_RELEASE_MIRROR`` serves those files from a mirror of your own.

Files in ``weights_dir()``: ``manifest.json`` (per expert: the folder and, per file, the size and hash the hub
listed at pull time, which ``verify`` checks) and ``experts.json`` (expert -> release a profile chose where it differs
from the default; read by the registry when it creates an expert).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import weights_dir
from .errors import BadInputError, UnavailableError

__all__ = ["LICENCES", "SIZES_GB", "PROFILES", "RELEASES", "WeightsEntry", "Checked", "catalog", "pull", "verify",
           "chosen_weights", "hub_files", "check_space", "format_catalog", "format_checks"]

LICENCES: dict[str, str] = {
    "sam": "Apache-2.0", "sam2": "Apache-2.0", "sam2_video": "Apache-2.0",
    "sam3": "SAM License (gated)", "sam3_video": "SAM License (gated)",
    "grounding_dino": "Apache-2.0", "owlv2": "Apache-2.0", "yolo": "AGPL-3.0", "yolo_track": "AGPL-3.0",
    "qwen_vl": "Qwen Research (3B; the 7B: Apache-2.0)",
    "stable_diffusion": "CreativeML OpenRAIL-M", "sd_inpaint": "CreativeML OpenRAIL-M",
    "video_inpaint": "CreativeML OpenRAIL-M", "gligen": "CreativeML OpenRAIL-M", "gligen_edit": "CreativeML OpenRAIL-M",
    "instruct_pix2pix": "MIT", "image_to_video": "MIT", "text_to_video": "CC-BY-NC-4.0",
    "flux": "Apache-2.0", "flux_kontext": "FLUX.1 [dev] Non-Commercial (gated)",
    "flux_fill": "FLUX.1 [dev] Non-Commercial (gated)",
    "wan_t2v": "Apache-2.0", "wan_i2v": "Apache-2.0", "wan_vace": "Apache-2.0",
}
"""Licence of each expert's default release: read it before use (the gated ones ask you to accept it on the hub)."""

SIZES_GB: dict[str, float] = {
    "sam": 0.4, "sam2": 0.9, "sam2_video": 0.9, "sam3": 3.4, "sam3_video": 3.4, "grounding_dino": 0.9,
    "owlv2": 0.6, "yolo": 0.01, "yolo_track": 0.01, "qwen_vl": 7.5, "stable_diffusion": 5.5, "sd_inpaint": 5.5,
    "video_inpaint": 5.5, "gligen": 5.5, "gligen_edit": 5.5, "instruct_pix2pix": 4.3, "image_to_video": 10.0,
    "text_to_video": 3.0, "flux": 34.0, "flux_kontext": 34.0, "flux_fill": 34.0, "wan_t2v": 29.0, "wan_i2v": 90.0,
    "wan_vace": 30.0,
}
"""Approximate download of each default release (safetensors, full precision as published); exact after a pull."""

PROFILES: dict[str, dict[str, str | None]] = {
    "cpu": {"owlv2": None, "grounding_dino": "IDEA-Research/grounding-dino-tiny",
            "sam2": "facebook/sam2.1-hiera-small", "sam2_video": "facebook/sam2.1-hiera-small",
            "yolo": None, "yolo_track": None},
    "gpu24": {name: None for name in ("owlv2", "grounding_dino", "sam2", "sam2_video", "sam3", "sam3_video", "yolo",
                                      "yolo_track", "qwen_vl", "stable_diffusion", "sd_inpaint", "instruct_pix2pix",
                                      "wan_t2v", "wan_vace")},
    "gpu80": {name: None for name in ("owlv2", "grounding_dino", "sam2", "sam2_video", "sam3", "sam3_video", "yolo",
                                      "yolo_track", "qwen_vl", "stable_diffusion", "sd_inpaint", "instruct_pix2pix",
                                      "flux", "flux_kontext", "flux_fill", "wan_t2v", "wan_i2v", "wan_vace")},
}
"""Sets of experts for a machine: ``cpu`` (small models, no diffusion), ``gpu24`` (a 24 GB GPU), ``gpu80`` (80 GB).
An id is the smaller release a profile wants instead of the default (None: the expert's default)."""


@dataclass(frozen=True)
class Release:
    """A release published only as a pickle: ``url`` of its file (``{file}`` is the expert's weights name plus
    ``suffix``), converted by ``convert`` (``"sam"`` or ``"yolo"``) into a safetensors folder."""

    url: str
    suffix: str
    convert: str


_ULTRALYTICS = Release("https://github.com/ultralytics/assets/releases/download/v8.3.0/{file}", ".pt", "yolo")
RELEASES: dict[str, Release] = {
    "sam": Release("https://dl.fbaipublicfiles.com/segment_anything/{file}", ".pth", "sam"),
    "yolo": _ULTRALYTICS, "yolo_track": _ULTRALYTICS,
}
"""Experts whose weights name (no ``/`` in it) is a pickle release: Segment Anything, ultralytics."""

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_KEEP = (".safetensors", ".json", ".txt", ".model", ".tiktoken", ".jinja")
"""Weights, configs, tokenizer and processor files: the only kinds of file a pull downloads."""
_VARIANTS = {"fp16", "bf16", "fp32", "fp8", "ema", "non_ema"}
_SKIP_FOLDERS = {"onnx", "openvino", "coreml", "flax", "tf"}


@dataclass
class WeightsEntry:
    """One expert's weights: ``weights`` the id or path its instance uses, ``source`` how a pull gets it (hub,
    release: a pickle converted here, local: a path given by you), ``size`` bytes (``exact`` after a pull)."""

    expert: str
    weights: str
    source: str
    licence: str
    size: int | None
    exact: bool
    installed: bool
    reason: str = ""
    fix: str = ""
    folder: str | None = None
    chosen: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Checked:
    """What ``verify`` found for one expert: ``problems`` empty when every check passed."""

    expert: str
    folder: str | None
    files: int = 0
    problems: list[str] = field(default_factory=list)
    hashed: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _registry(registry: Any = None) -> Any:
    from .experts.registry import ExpertRegistry

    return registry if registry is not None else ExpertRegistry.default()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UnavailableError(f"{path} is unreadable ({exc}); delete it and pull again") from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(temporary, path)


def chosen_weights() -> dict[str, str]:
    """Expert -> weights a profile chose (a hub id, or a folder under ``weights_dir()``), from ``experts.json``."""
    root = weights_dir()
    chosen = _read_json(root / "experts.json")
    return {name: str(root / c["folder"]) if "folder" in c else c["hub"] for name, c in chosen.items()}


def _choose(expert: str, choice: dict[str, str] | None) -> None:
    path = weights_dir() / "experts.json"
    chosen = _read_json(path)
    if chosen.get(expert) != choice:
        if choice is None:
            chosen.pop(expert, None)
        else:
            chosen[expert] = choice
        _write_json(path, chosen)


def _source(expert: str, weights: str) -> str:
    if Path(weights).expanduser().exists():
        return "local"
    if expert in RELEASES and "/" not in weights:
        return "release"
    return "hub" if _HUB_ID.match(weights) else "unknown"


def catalog(registry: Any = None) -> list[WeightsEntry]:
    """Every expert with weights, as the registry creates it, and whether it can run here (its own
    ``availability()``: the weights found locally or in the Hugging Face cache, and its extras installed)."""
    registry = _registry(registry)
    manifest, chosen = _read_json(weights_dir() / "manifest.json"), chosen_weights()
    rows = []
    for name in registry.specs():
        weights = registry.create(name).weights
        if not weights:
            continue
        state, pulled = registry.availability(name), manifest.get(name)
        exact = bool(pulled) and pulled["id"] == weights
        size = sum(f["size"] for f in pulled["files"].values()) if exact else None
        if size is None and name in SIZES_GB and weights == registry.spec(name).weights:
            size = int(SIZES_GB[name] * 1e9)
        rows.append(WeightsEntry(name, weights, _source(name, weights), LICENCES.get(name, "see the model card"), size,
                                 exact, state.ok, state.reason, state.fix, state.weights_path,
                                 chosen.get(name) == weights))
    return rows


def format_catalog(rows: Iterable[WeightsEntry]) -> str:
    """The catalog as a table, with the reason under each expert that cannot run yet."""
    lines = [f"{'expert':<18} {'weights':<46} {'size':>9}  {'licence':<36} installed"]
    for row in rows:
        size = "?" if row.size is None else f"{'' if row.exact else '~'}{row.size / 1e9:.2f} GB"
        weights = row.weights + (" (chosen)" if row.chosen else "")
        lines.append(f"{row.expert:<18} {weights:<46} {size:>9}  {row.licence:<36} {'yes' if row.installed else 'no'}")
        if not row.installed:
            lines.append(f"    {row.reason}. {row.fix}".rstrip(". ") if row.reason else "")
    return "\n".join(line for line in lines if line)


def _targets(experts: Iterable[str], profile: str | None, registry: Any, log: Callable[[str], None]
             ) -> list[tuple[str, str, bool, dict[str, str] | None]]:
    """(expert, weights id, whether a profile sets the choice, the choice) for each expert to pull; unknown names
    fail before anything is downloaded."""
    with_weights = {name for name in registry.specs() if registry.create(name).weights}
    unknown = [name for name in experts if name not in with_weights]
    if unknown:
        raise BadInputError(f"no expert with weights named {', '.join(map(repr, unknown))}; experts with weights: "
                            f"{', '.join(sorted(with_weights))}")
    chosen = chosen_weights()
    targets = []
    for name, override in (PROFILES[profile] if profile else {}).items():
        if name not in with_weights:
            log(f"{name}: not registered in this installation; skipped")
            continue
        weights = registry.create(name).weights
        if chosen.get(name) == weights:  # the registry applied an earlier choice: the default is the spec's
            weights = registry.spec(name).weights
        choice = {"hub": override} if override and override != weights else None
        targets.append((name, override or weights, True, choice))
    return targets + [(name, registry.create(name).weights, False, None) for name in experts]


def pull(experts: Iterable[str] = (), profile: str | None = None, registry: Any = None,
         log: Callable[[str], None] = print) -> dict[str, str]:
    """Download (and, for pickle releases, convert) the weights of ``experts`` and of ``profile``'s experts;
    returns expert -> error message for those that failed (the others are installed and in the manifest)."""
    if profile is not None and profile not in PROFILES:
        raise BadInputError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    experts = list(experts)
    if not experts and profile is None:
        raise BadInputError("name the experts to pull, or a profile with --profile (" + ", ".join(PROFILES) + ")")
    registry = _registry(registry)
    failed: dict[str, str] = {}
    done: dict[str, dict[str, Any]] = {}
    for name, weights, profiled, choice in _targets(experts, profile, registry, log):
        source = _source(name, weights)
        try:
            if source == "local":
                log(f"{name}: uses the local path {weights}; nothing to download")
                continue
            if source == "unknown":
                raise UnavailableError(f"{weights!r} is neither a hub id nor a release vitron-agent knows")
            if weights not in done:
                done[weights] = _pull_hub(weights, log) if source == "hub" else _pull_release(name, weights, registry,
                                                                                               log)
        except (UnavailableError, BadInputError) as exc:
            failed[name] = str(exc)
            log(f"{name}: {exc}")
            continue
        entry = done[weights]
        manifest = _read_json(weights_dir() / "manifest.json")
        _write_json(weights_dir() / "manifest.json", {**manifest, name: entry})
        if profiled:
            _choose(name, choice)
        if source == "release" and not registry.create(name).availability().ok:  # not where the expert looks
            _choose(name, {"folder": os.path.relpath(entry["folder"], weights_dir())})
        log(f"{name}: {weights} -> {entry['folder']}")
    return failed


def _hub() -> Any:
    try:
        import huggingface_hub
        from huggingface_hub import constants
    except ImportError:
        raise UnavailableError("downloading needs huggingface_hub: pip install huggingface_hub") from None
    if constants.HF_HUB_OFFLINE:
        raise UnavailableError("HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, so nothing can be downloaded; run "
                               "the pull with HF_HUB_OFFLINE=0")
    return huggingface_hub


def hub_files(siblings: Iterable[Any]) -> list[Any]:
    """The files of a hub listing to download: safetensors (no precision variants; in a diffusers repo, only
    those in component folders, not single-file checkpoints at the top), configs, tokenizer and processor files."""
    siblings = list(siblings)
    diffusers = any(s.rfilename == "model_index.json" for s in siblings)
    keep = []
    for sibling in siblings:
        path = sibling.rfilename
        parts = Path(path).name.split(".")
        if not path.endswith(_KEEP) or _SKIP_FOLDERS & set(Path(path).parts[:-1]):
            continue
        if path.endswith(".index.json") and ".safetensors." not in path:
            continue  # the index of pickle shards
        if ".safetensors" in path and (_VARIANTS & set(parts[1:-1]) or (diffusers and "/" not in path)):
            continue
        keep.append(sibling)
    return keep


def check_space(needed: int, folder: Path) -> None:
    """Raise when the disk holding ``folder`` has less than ``needed`` bytes (plus a 1 GB margin) free."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if free < needed + 2**30:
        raise UnavailableError(f"not enough disk space: the download needs {needed / 1e9:.2f} GB and {existing} has "
                               f"{free / 1e9:.2f} GB free; free some space or point HF_HUB_CACHE/VITRON_WEIGHTS_DIR "
                               "at a larger disk")


def _pull_hub(repo: str, log: Callable[[str], None]) -> dict[str, Any]:
    hub = _hub()
    from huggingface_hub.file_download import repo_folder_name

    endpoint = os.environ.get("HF_ENDPOINT") or None
    page = f"{endpoint or 'https://huggingface.co'}/{repo}"
    try:
        info = hub.HfApi(endpoint=endpoint).model_info(repo, revision="main", files_metadata=True)
        files = hub_files(info.siblings or [])
        if not any(f.rfilename.endswith(".safetensors") for f in files):
            raise UnavailableError(f"{repo} publishes no safetensors weights (only pickles or other formats), and "
                                   "vitron-agent downloads safetensors only; use a safetensors release of the model")
        cache = Path(hub.constants.HF_HUB_CACHE)
        snapshot = cache / repo_folder_name(repo_id=repo, repo_type="model") / "snapshots" / info.sha
        check_space(sum(f.size or 0 for f in files if not (snapshot / f.rfilename).exists()), cache)
        log(f"{repo}: {len(files)} files, {sum(f.size or 0 for f in files) / 1e9:.2f} GB")
        folder = hub.snapshot_download(repo, revision="main", allow_patterns=[f.rfilename for f in files],
                                       endpoint=endpoint)
    except UnavailableError:
        raise
    except Exception as exc:  # the hub library's errors, its HTTP client's and the disk's, told apart below
        raise UnavailableError(_hub_error(exc, repo, page)) from None
    entry = {"source": "hub", "id": repo, "revision": info.sha, "folder": folder, "files": {
        f.rfilename: {"size": f.size, **({"sha256": f.lfs.sha256} if f.lfs else {"git_sha1": f.blob_id})}
        for f in files}}
    log(f"{repo}: checking sizes, hashes and safetensors headers")
    problems = _check_files(Path(folder), entry["files"], hashed=True)
    if problems:
        raise UnavailableError(f"{repo} arrived damaged ({'; '.join(problems)}); pull it again")
    return entry


def _hub_error(exc: Exception, repo: str, page: str) -> str:
    """One line saying what went wrong with a hub request and what to do."""
    from huggingface_hub import errors

    status = getattr(getattr(exc, "response", None), "status_code", 0)
    if isinstance(exc, errors.GatedRepoError):
        return (f"{repo} is gated: accept its licence at {page} (signed in to the hub) and set HF_TOKEN to a token "
                "of that account")
    if status in (401, 403):
        return (f"the hub refused {repo} ({status}): it is private, gated or misspelled; if gated, accept its "
                f"licence at {page} and set HF_TOKEN to a token of that account")
    if isinstance(exc, errors.RepositoryNotFoundError) or status == 404:
        return (f"{repo} was not found on the hub ({page}); if it is private or gated, set HF_TOKEN to a token "
                "that can read it")
    if isinstance(exc, OSError) and exc.errno == 28:
        return f"the disk filled up while downloading {repo}: free some space and pull again"
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, errors.LocalEntryNotFoundError) or names & {"ConnectError", "ConnectionError", "Timeout",
                                                                    "TimeoutException", "NetworkError"}:
        return (f"cannot reach the hub at {page.rsplit('/', 2)[0]} ({type(exc).__name__}); check the network, or "
                "HF_ENDPOINT for a mirror")
    return f"downloading {repo} failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _pull_release(name: str, weights: str, registry: Any, log: Callable[[str], None]) -> dict[str, Any]:
    release = RELEASES[name]
    expert = registry.create(name)
    missing = expert.missing_modules()
    if missing:
        raise UnavailableError(f"converting {weights} needs {', '.join(missing)}: {expert.spec.install_hint()}")
    file = weights if weights.endswith(release.suffix) else weights + release.suffix
    mirror = os.environ.get("VITRON_RELEASE_MIRROR")
    url = f"{mirror.rstrip('/')}/{file}" if mirror else release.url.format(file=file)
    root = weights_dir()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / Path(file).stem
    with tempfile.TemporaryDirectory(dir=root, prefix=".pull-") as work:
        pickle = Path(work) / file
        digest = _download(url, pickle, root, log)
        log(f"{file}: converting to safetensors (restricted loader: tensors only)")
        converted = Path(work) / "converted"
        _convert(release.convert, pickle, converted)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(converted, folder)
    files = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in sorted(folder.iterdir())}
    return {"source": "release", "id": weights, "url": url, "pickle_sha256": digest, "folder": str(folder),
            "files": files}


def _download(url: str, target: Path, root: Path, log: Callable[[str], None]) -> str:
    """Stream ``url`` to ``target``; returns its sha256."""
    import urllib.error
    import urllib.request

    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
            size = int(response.headers.get("Content-Length") or 0)
            check_space(size, root)
            log(f"{target.name}: downloading {size / 1e9:.2f} GB from {url}")
            while chunk := response.read(2**20):
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise UnavailableError(f"{url} answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise UnavailableError(f"cannot reach {url} ({exc.reason}); check the network, or set "
                               "VITRON_RELEASE_MIRROR to a mirror of the release files") from None
    except OSError as exc:
        if exc.errno == 28:
            raise UnavailableError(f"the disk filled up while downloading {url}: free some space") from None
        raise UnavailableError(f"downloading {url} failed: {exc}") from None
    if size and target.stat().st_size != size:
        raise UnavailableError(f"{url} arrived incomplete ({target.stat().st_size} of {size} bytes); pull again")
    return digest.hexdigest()


def _convert(kind: str, pickle: Path, folder: Path) -> None:
    """A pickle release as a safetensors folder, read through the expert's own restricted loader."""
    if kind == "yolo":
        from .tools.yolo import convert_yolo_checkpoint

        convert_yolo_checkpoint(pickle, folder)
        return
    from .tools.sam import SAM_CONFIGS, SamExpert, save_sam

    expert = SamExpert(weights=str(pickle))
    expert.load("cpu", "float32")  # torch.load(weights_only=True), then checked against the model's shapes
    save_sam(expert.model, SAM_CONFIGS[next((k for k in SAM_CONFIGS if k in pickle.name), "vit_b")], folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(2**23):
            digest.update(chunk)
    return digest.hexdigest()


def _git_sha1(path: Path) -> str:
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def _check_files(folder: Path, files: dict[str, dict[str, Any]], hashed: bool) -> list[str]:
    """Problems with ``files`` under ``folder``: missing, wrong size, wrong hash, unreadable safetensors header."""
    from safetensors import safe_open

    problems = []
    for name, meta in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        if meta.get("size") is not None and path.stat().st_size != meta["size"]:
            problems.append(f"{name} has {path.stat().st_size} bytes, the hub listed {meta['size']}")
            continue
        if hashed and "sha256" in meta and _sha256(path) != meta["sha256"]:
            problems.append(f"{name} does not match its sha256 {meta['sha256'][:12]}...")
        elif hashed and "git_sha1" in meta and _git_sha1(path) != meta["git_sha1"]:
            problems.append(f"{name} does not match its git hash {meta['git_sha1'][:12]}...")
        elif name.endswith(".safetensors"):
            try:
                with safe_open(str(path), framework="numpy") as handle:
                    handle.keys()
            except Exception as exc:
                problems.append(f"{name} is not a readable safetensors file ({' '.join(str(exc).split())})")
    return problems


def format_checks(checked: list[Checked]) -> str:
    """``verify``'s findings, one line per expert and one per problem."""
    if not checked:
        return "no expert has weights installed; see vitron-agent weights list"
    lines = []
    for c in checked:
        hashes = "" if c.hashed else " (installed without a pull: headers checked, no hashes to compare)"
        lines += [f"{'ok ' if c.ok else 'BAD'} {c.expert}: {c.files} files in {c.folder}{hashes}"]
        lines += [f"    {problem}" for problem in c.problems]
    return "\n".join(lines)


def verify(experts: Iterable[str] = (), registry: Any = None) -> list[Checked]:
    """Check each named expert (default: every pulled or installed one with weights): its files exist, their
    safetensors headers parse, and sizes and hashes match what the hub listed at pull time (recorded in the
    manifest; an expert installed some other way gets the header checks only)."""
    registry = _registry(registry)
    manifest = _read_json(weights_dir() / "manifest.json")
    rows = {row.expert: row for row in catalog(registry)}
    names = list(experts) or sorted(set(manifest) & set(rows) | {n for n, r in rows.items() if r.installed})
    unknown = [name for name in names if name not in rows]
    if unknown:
        raise BadInputError(f"no expert with weights named {', '.join(map(repr, unknown))}; experts with weights: "
                            f"{', '.join(sorted(rows))}")
    results = []
    for name in names:
        entry = manifest.get(name)
        if entry is not None:
            checked = Checked(name, entry["folder"], len(entry["files"]))
            checked.problems = _check_files(Path(entry["folder"]), entry["files"], hashed=True)
            if entry["id"] != rows[name].weights and not rows[name].installed:
                checked.problems.append(f"{name} now uses {rows[name].weights}, not the pulled {entry['id']}, and "
                                        f"{rows[name].reason}")
        elif rows[name].installed and rows[name].folder:
            folder = Path(rows[name].folder)
            tensors = sorted(folder.rglob("*.safetensors")) if folder.is_dir() else []
            checked = Checked(name, str(folder), len(tensors), hashed=False)
            checked.problems = _check_files(folder, {str(p.relative_to(folder)): {} for p in tensors}, hashed=False)
        else:
            checked = Checked(name, None, problems=[f"not installed: {rows[name].reason}. {rows[name].fix}"])
        results.append(checked)
    return results
