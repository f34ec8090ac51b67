"""Agent settings: limits, budgets and where state lives. Every cap here is enforced somewhere."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInputError
from .experts.base import DTYPES
from .experts.ray_serve import parse_backend
from .stores.checkpoints import POSTGRES_SCHEMES, describe_checkpointer, is_sqlite
from .stores.media_io import MediaLimits

__all__ = ["AgentConfig", "default_state_dir", "default_checkpointer", "default_experts", "weights_dir"]


def default_state_dir() -> Path:
    """``$VITRON_STATE_DIR``, else ``~/.vitron-agent``."""
    return Path(os.environ.get("VITRON_STATE_DIR") or Path.home() / ".vitron-agent")


def default_checkpointer() -> str | None:
    """``$VITRON_CHECKPOINTER`` (a ``postgresql://`` URL, or ``sqlite``), else None: SQLite in the state folder."""
    return os.environ.get("VITRON_CHECKPOINTER") or None


def default_experts() -> str | None:
    """``$VITRON_EXPERTS`` (``local``, ``ray``, ``ray:ADDRESS``), else None: the in-process model pool."""
    return os.environ.get("VITRON_EXPERTS") or None


def weights_dir() -> Path:
    """Where experts look for weight files given by bare name: ``$VITRON_WEIGHTS_DIR``, else
    ``~/.cache/vitron-agent/weights``."""
    return Path(os.environ.get("VITRON_WEIGHTS_DIR") or Path.home() / ".cache" / "vitron-agent" / "weights")


@dataclass
class AgentConfig:
    """Settings of one agent.

    ``max_expert_calls``: expert runs per turn, inserted steps included.
    ``max_planner_retries``: times the planner may revise a plan the validator rejected.
    ``max_plan_rounds``: planner calls per turn when it asks to see tool results.
    ``recursion_limit``: LangGraph super-steps per turn (a hard stop behind the budgets above).
    ``human_in_the_loop``: pause (``interrupt``) for approval of costly or destructive steps and to
    ask for a region that cannot be resolved.
    ``ram_budget`` / ``vram_budget``: bytes the model pool may keep loaded (None = unlimited).
    ``dtype``: the precision every expert loads its weights in: ``auto`` (float32 on CPU; bfloat16 on a GPU that
    has it, else float16), ``float32``, ``float16`` or ``bfloat16``. An explicit choice is used on any device.
    ``cpu_offload``: keep weights in RAM and move each sub-model to the GPU only while it runs (diffusion
    pipelines, large vision-language models): far less VRAM for some speed.
    ``previews``: draw each mask and box output over its input for people (an ``o3.1`` preview beside ``o3``), and
    for planners that look at results; False for pipelines that read the masks themselves (a 600x400 overlay
    costs about 2 ms a call, a tenth of a fast expert).
    ``preview_format``: ``jpg`` (fast) or ``png`` (lossless) for mask overlays and box drawings.
    ``preview_size``: long side in pixels that overlays of larger inputs are drawn at (None: full size); a
    preview is for people, and drawing a 4096² one costs more than many experts.
    ``preview_video_size``: the same for preview videos, smaller because every frame is encoded (a 640x480
    clip's preview at 480 px costs about half as much to write as at full size).
    ``expert_timeout``: seconds one expert call may take, loading included (None = no limit).
    ``decode_cache_bytes``: decoded images kept in memory for all threads together, so a turn decodes each
    image once and memory does not grow with the number of threads served.
    ``media_roots``: folders that media files given to the agent must resolve inside, symlinks followed
    (None = anywhere, as for a local command line). Set it when paths come from a web form, a host
    agent's tool call or any other untrusted source.
    ``checkpointer``: where threads are kept: None or ``sqlite`` for ``<state_dir>/checkpoints.sqlite``, or a
    PostgreSQL URL (``postgresql://user:password@host:5432/db``, the ``postgres`` extra) for threads shared by
    processes on several machines. Media and outputs stay in ``state_dir`` either way. Default:
    ``$VITRON_CHECKPOINTER``.
    ``experts``: where experts run: None or ``local`` for the in-process model pool, ``ray`` for Ray Serve
    deployments on the local Ray cluster (``ray:ADDRESS`` or ``ray://host:port`` for another; the ``ray`` extra),
    one per expert family, shared by every agent process that names the same cluster. Default: ``$VITRON_EXPERTS``.
    """

    state_dir: Path = field(default_factory=default_state_dir)
    limits: MediaLimits = field(default_factory=MediaLimits)
    max_expert_calls: int = 16
    max_planner_retries: int = 2
    max_plan_rounds: int = 3
    recursion_limit: int = 60
    human_in_the_loop: bool = False
    ram_budget: int | None = None
    vram_budget: int | None = None
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    previews: bool = True
    preview_format: str = "jpg"
    preview_size: int | None = 1024
    preview_video_size: int | None = 480
    expert_timeout: float | None = 600.0
    decode_cache_bytes: int = 256 * 2**20
    media_roots: tuple[Path, ...] | None = None
    checkpointer: str | None = field(default_factory=default_checkpointer)
    experts: str | None = field(default_factory=default_experts)

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir).expanduser()
        if self.media_roots is not None:
            if isinstance(self.media_roots, (str, os.PathLike)):
                raise ValueError("media_roots must be a list of folders, not one path")
            self.media_roots = tuple(Path(root).expanduser() for root in self.media_roots)
        for name in ("max_expert_calls", "max_planner_retries", "max_plan_rounds", "recursion_limit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        for name in ("preview_size", "preview_video_size"):
            if getattr(self, name) is not None and getattr(self, name) < 16:
                raise ValueError(f"{name} must be at least 16 pixels (None: full size)")
        if self.decode_cache_bytes < 0:
            raise ValueError("decode_cache_bytes must be >= 0 (0: decode every time)")
        url = self.checkpointer
        if not (is_sqlite(url) or (isinstance(url, str) and url.startswith(POSTGRES_SCHEMES))):
            raise BadInputError(f"checkpointer must be 'sqlite' or a postgresql:// URL, got "
                                f"{describe_checkpointer(str(url))!r}")
        parse_backend(self.experts)  # a clear error now, not at the first expert call
        if self.expert_timeout is not None and self.expert_timeout <= 0:
            raise ValueError("expert_timeout must be > 0 seconds, or None for no limit")
