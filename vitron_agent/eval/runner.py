"""How one benchmark sample runs: the agent end to end (planner, then experts), or one expert directly.

End to end, the request goes to ``VitronAgent.invoke`` in words with its media and region, on a fresh thread
that is deleted once its outputs are read (so a long benchmark does not fill the disk). With ``expert``, the
runner resolves the media itself into an ``ExpertCall`` and runs that expert from the model pool: the
expert's own quality, with no planner in the way.

Generated outputs are reproducible with ``seed``: a direct call gets ``args.seed``; end to end, seed 0 is what
every generator draws with by default, and another seed is set on the planned calls before they run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..agent import TurnResult, VitronAgent
    from ..experts.base import ExpertCall, ExpertResult
    from ..experts.pool import ExpertPool

__all__ = ["RunOutput", "PlannedTurn", "Runner", "TASK_ALIASES"]

TASK_ALIASES = {"image_to_video": "animate_image", "text_to_video": "generate_video",
                "text_to_image": "generate_image", "edit": "edit_image"}
"""Other names benchmarks may use for the project's tasks (``vitron_agent.protocol.tasks``)."""


@dataclass
class RunOutput:
    """What one run produced, best first in each list.

    ``masks``: (H, W) bool on the input image, or (T, H, W) bool on a video's frames.
    ``boxes``: ``(x1, y1, x2, y2)`` pixels of the input (detections).
    ``images``: (H, W, 3) uint8 generated or edited images. ``videos``: (T, H, W, 3) uint8 clips.
    ``error``: why the run (or one of its steps) failed; outputs made before the failure are kept.
    """

    text: str = ""
    masks: list[np.ndarray] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    videos: list[np.ndarray] = field(default_factory=list)
    error: str | None = None


@dataclass
class PlannedTurn:
    """What the planner would do for a request: its invocations as JSON dicts (``task``, ``module`` (the expert
    the validator chose), ``command``, ``args``, ``region``...), its reply, and problems the validator found."""

    reply: str = ""
    invocations: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


class Runner:
    """Runs samples through the agent (default) or through one expert (``expert``).

    ``planner``: a ``--planner`` spec (None: the agent's default planner). ``state_dir``: where the agent keeps
    its threads while a sample runs (None: a temporary folder removed by ``close``). ``agent``: an agent to use
    instead of building one (tests, custom experts).
    """

    def __init__(self, *, planner: str | None = None, expert: str | None = None, state_dir: Path | None = None,
                 agent: VitronAgent | None = None) -> None:
        self.planner = planner
        self.expert = expert
        self._agent = agent
        self._built_agent = False
        self._owned_dir: Path | None = None
        self._state_dir = state_dir
        self._pool: ExpertPool | None = None

    # -- public ---------------------------------------------------------------------------------
    def run(self, task: str, text: str, *, images: Sequence[Path] = (), videos: Sequence[Path] = (),
            region: dict[str, Any] | None = None, frame: int | None = None, seed: int = 0,
            args: dict[str, Any] | None = None) -> RunOutput:
        """Run one request. ``task``: a task name (``segment``, ``ground``, ``track``, ``generate_image``,
        ``edit_image``, ``generate_video``, ``animate_image``, ...). ``text``: the request in words end to end,
        the expert's command when direct. ``region``: as ``VitronAgent.invoke`` takes it (``{"box": [x1, y1, x2,
        y2]}``, ``{"points": [...]}``, ``{"mask": (H, W) array}``), pixels of the first medium; ``frame``: the
        video frame it is drawn on. ``args``: the invocation's args on a direct call (``op`` of an edit, steps).
        An exception inside becomes ``RunOutput.error``: a failed sample is scored, never dropped."""
        task = TASK_ALIASES.get(task, task)
        try:
            if self.expert is not None:
                return self._run_expert(task, text, images, videos, region, frame, {**(args or {}), "seed": seed})
            return self._run_agent(task, text, images, videos, region, frame, seed)
        except Exception as exc:  # an expert or agent failure is a scored miss
            return RunOutput(error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}")

    def plan(self, text: str, *, images: Sequence[Path] = (), videos: Sequence[Path] = (),
             region: dict[str, Any] | list[float] | None = None, frame: int | None = None) -> PlannedTurn:
        """The planner's invocations for one request, validated but not run (``VitronAgent.plan``); steps the
        validator inserted are left out, so what is scored is the planner's own plan."""
        agent = self.agent
        try:
            result = agent.plan(text, images=[str(p) for p in images], videos=[str(p) for p in videos],
                                region=region, frame=frame)
        except Exception as exc:
            return PlannedTurn(error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}")
        own = [c for c in result.calls if not c.inserted]
        invocations = [c.invocation.model_copy(update={"module": c.expert}).model_dump(mode="json", exclude_none=True)
                       for c in own]
        problems = [e.get("message", str(e)) for e in result.errors]
        return PlannedTurn(reply=result.reply, invocations=invocations, error="; ".join(problems) or None)

    def close(self) -> None:
        """Close the agent this runner built and remove its temporary state folder."""
        if self._agent is not None and self._built_agent:
            self._agent.close()
            self._agent, self._built_agent = None, False
        if self._pool is not None and self._agent is None:  # a pool of our own: unload its experts
            self._pool.clear()
        self._pool = None
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- end to end -----------------------------------------------------------------------------
    @property
    def agent(self) -> VitronAgent:
        """The agent samples run through (built on first use)."""
        if self._agent is None:
            from ..agent import VitronAgent
            from ..config import AgentConfig

            if self._state_dir is None:
                self._owned_dir = Path(tempfile.mkdtemp(prefix="vitron-eval-"))
            planner = None
            if self.planner is not None:
                from ..planners.spec import planner_from_spec

                planner = planner_from_spec(self.planner)
            self._agent = VitronAgent(AgentConfig(state_dir=self._state_dir or self._owned_dir), planner=planner)
            self._built_agent = True
        return self._agent

    def _run_agent(self, task: str, text: str, images: Sequence[Path], videos: Sequence[Path],
                   region: dict[str, Any] | None, frame: int | None, seed: int) -> RunOutput:
        from ..agent import new_thread_id

        agent, thread = self.agent, new_thread_id()
        media = {"images": [str(p) for p in images], "videos": [str(p) for p in videos]}
        try:
            if seed:
                result = self._seeded_turn(agent, thread, text, media, region, frame, seed)
            else:
                result = agent.invoke(text, **media, region=region, frame=frame, thread=thread)
            return self._read_turn(agent, thread, result)
        finally:
            self._forget(agent, thread)

    @staticmethod
    def _seeded_turn(agent: VitronAgent, thread: str, text: str, media: dict[str, list[str]],
                     region: dict[str, Any] | None, frame: int | None, seed: int) -> TurnResult:
        """Plan the turn (a dry run), then run the planner's own calls with ``args.seed`` set."""
        planned = agent.plan(text, **media, region=region, frame=frame)
        calls = [c.invocation.model_copy(update={"args": {**c.invocation.args, "seed": seed}})
                 for c in planned.calls if not c.inserted]
        if not calls:
            return agent.invoke(text, **media, region=region, frame=frame, thread=thread)
        return agent.invoke(text, **media, region=region, frame=frame, thread=thread, invocations=calls)

    @staticmethod
    def _read_turn(agent: VitronAgent, thread: str, result: TurnResult) -> RunOutput:
        """The turn's outputs, the last step's first (a segment after its inserted grounding gives the mask)."""
        from ..graph.calls import read_media

        store, _ = agent.context.stores(thread)
        media = read_media(agent.state(thread))
        out = RunOutput(text=result.reply)
        for call in reversed(result.calls):
            for ref in (media[i] for i in call.artifacts if i in media):
                if ref.preview:
                    continue
                if ref.kind == "mask":
                    out.masks.append(store.load_mask(ref))
                elif ref.kind == "mask_video":
                    out.masks.append(store.load_mask_video(ref))
                elif ref.kind == "boxes":
                    out.boxes += [tuple(float(c) for c in d["box"]) for d in ref.data.get("detections", [])]
                elif ref.kind == "image":
                    out.images.append(store.load_image(ref))
                elif ref.kind == "video":
                    out.videos.append(store.load_video(ref)[0])
        problems = [e.get("message", str(e)) for e in result.errors]
        if result.interrupt:
            problems.append(f"the turn paused to ask: {result.interrupt}")
        out.error = "; ".join(problems) or None
        return out

    @staticmethod
    def _forget(agent: VitronAgent, thread: str) -> None:
        """Delete the sample's thread: its checkpoints and its media folder."""
        from ..graph.context import thread_dir

        agent.checkpointer.delete_thread(thread)
        shutil.rmtree(thread_dir(agent.config.state_dir, thread), ignore_errors=True)

    # -- one expert, directly -------------------------------------------------------------------
    @property
    def pool(self) -> ExpertPool:
        """The model pool the direct expert loads in once (the agent's when there is one)."""
        if self._pool is None:
            if self._agent is not None:
                self._pool = self._agent.pool
            else:
                from ..agent import make_pool
                from ..config import AgentConfig
                from ..experts.registry import ExpertRegistry

                self._pool = make_pool(ExpertRegistry.default(), AgentConfig())
        return self._pool

    def _run_expert(self, task: str, text: str, images: Sequence[Path], videos: Sequence[Path],
                    region: dict[str, Any] | None, frame: int | None, args: dict[str, Any]) -> RunOutput:
        from ..errors import BadInputError, UnavailableError

        assert self.expert is not None
        spec = self.pool.registry.spec(self.expert)
        if not spec.does(task, args.get("op")):
            raise BadInputError(f"expert {self.expert} does not do {task} (it does {', '.join(spec.tasks)})")
        state = self.pool.registry.availability(self.expert)
        if not state.ok:
            raise UnavailableError(f"{state.reason}. {state.fix}")
        call = _expert_call(self.expert, task, text, images, videos, region, frame, args)
        with self.pool.use(self.expert) as expert:
            result = expert.run(call)
        return _from_result(result)


def _expert_call(name: str, task: str, text: str, images: Sequence[Path], videos: Sequence[Path],
                 region: dict[str, Any] | None, frame: int | None, args: dict[str, Any]) -> ExpertCall:
    """The call an expert gets: decoded media, the region in pixels of the first medium, the frame it is on."""
    from ..experts.base import ExpertCall, VideoClip
    from ..protocol.inputs import read_region
    from ..protocol.invocation import Invocation
    from ..stores.media_io import MediaLimits, decode_image, decode_video

    call = ExpertCall(invocation=Invocation(module=name, task=task, command=text, args=args))
    call.images = [decode_image(Path(p).read_bytes(), Path(p).name) for p in images]
    for path in videos[:1]:
        frames, fps = decode_video(Path(path).read_bytes(), Path(path).name, MediaLimits())
        call.video = VideoClip(frames, fps)
    if region is None:
        return call
    parsed, mask, keyframe = read_region(region, frame)
    if mask is not None:
        mask = decode_image(Path(mask).read_bytes(), "mask")[..., 0] > 127 if isinstance(mask, (str, Path)) else mask
        call.mask = np.asarray(mask, dtype=bool)
        call.frames = (keyframe, keyframe) if keyframe is not None else None
    elif parsed is not None:
        call.boxes = [parsed.box] if parsed.box is not None else []
        call.points = list(parsed.points or ())
        call.frames = parsed.frames
    return call


def _from_result(result: ExpertResult) -> RunOutput:
    return RunOutput(
        text=result.text,
        masks=[np.asarray(m, dtype=bool) for m in result.masks],
        boxes=[tuple(float(c) for c in d.box) for d in result.detections],
        images=list(result.images),
        videos=[clip.frames for clip in result.videos],
    )
