"""``VitronAgent``: the public entry point. One instance serves many threads.

    agent = VitronAgent()
    result = agent.invoke("segment the object in the box", images=["coffee.png"], region=[172, 18, 410, 300])
    agent.invoke("now remove it", thread=result.thread)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from langgraph.types import Command

from .config import AgentConfig
from .errors import BadInputError, RegionError
from .experts.pool import ExpertPool, ModelPool
from .experts.registry import ExpertRegistry
from .graph.builder import build_graph
from .graph.calls import Call, calls_of_turn, latest_medium, read_media
from .graph.context import AgentContext
from .graph.state import PlanRecord, TurnRequest
from .graph.validate import check_region_bounds
from .planners.base import Planner
from .protocol.inputs import RegionInput, brief, first_error, read_region
from .protocol.invocation import Invocation
from .stores.cache import DecodeCache
from .stores.checkpoints import DURABILITY, close_checkpointer, open_checkpointer
from .stores.media import MediaRef

__all__ = ["VitronAgent", "TurnResult", "Artifact", "new_thread_id", "check_thread_id"]


def new_thread_id() -> str:
    """A fresh thread id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Artifact:
    """An output file: ``path`` is absolute; ``preview`` marks overlays made for people."""

    id: str
    kind: str
    path: str
    width: int
    height: int
    frames: int
    preview: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "path": self.path, "width": self.width,
                "height": self.height, "frames": self.frames}


@dataclass
class TurnResult:
    """One turn's outcome; ``to_json`` is the CLI's ``--json`` object."""

    thread: str
    reply: str
    invocations: list[Invocation] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    interrupt: dict[str, Any] | None = None
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    """The turn's call records (status, expert, outputs, error, seconds), inserted steps included."""

    def to_json(self) -> dict[str, Any]:
        return {
            "thread": self.thread,
            "reply": self.reply,
            "invocations": [
                inv.model_dump(mode="json", include={"id", "module", "task", "command", "region", "inputs", "args"},
                               exclude_none=True)
                for inv in self.invocations
            ],
            "artifacts": [a.to_json() for a in self.artifacts],
            "errors": [e["message"] for e in self.errors],
            **({"interrupt": self.interrupt} if self.interrupt else {}),
        }


class VitronAgent:
    """The agent: planner + graph + experts + stores, with threads persisted by a checkpointer.

    ``planner``: defaults to the offline ``LitePlanner`` (the rule planner when it is unsure or not
    installed). ``checkpointer``: defaults to the one ``config.checkpointer`` names (SQLite at
    ``<state_dir>/checkpoints.sqlite``, or PostgreSQL); any LangGraph checkpointer works.
    """

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        planner: Planner | None = None,
        registry: ExpertRegistry | None = None,
        pool: ExpertPool | None = None,
        checkpointer: Any = None,
    ) -> None:
        from .planners.lite import LitePlanner

        self.config = config or AgentConfig()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self.registry = registry or ExpertRegistry.default()
        self.pool = pool or make_pool(self.registry, self.config)
        self.planner = planner or LitePlanner()
        self.checkpointer = checkpointer if checkpointer is not None else open_checkpointer(self.config)
        self.graph = build_graph(self.checkpointer)
        self._dry_graph = build_graph(None, name="vitron-agent-plan", whole_state=True)  # plan(): saves nothing
        self.context = AgentContext(self.registry, self.pool, self.planner, self.config,
                                    decode_cache=DecodeCache(self.config.decode_cache_bytes))

    # -- turns ----------------------------------------------------------------------------------
    def invoke(
        self,
        text: str = "",
        *,
        images: Sequence[str | os.PathLike[str]] = (),
        videos: Sequence[str | os.PathLike[str]] = (),
        region: RegionInput = None,
        frame: int | None = None,
        thread: str | None = None,
        invocations: Sequence[Invocation | dict[str, Any]] | str | None = None,
    ) -> TurnResult:
        """Run one turn and return its result. Bad input raises ``BadInputError`` before anything is saved.

        ``region``: where to act, on the first medium of this turn (or, with no new media, on the thread's
        latest one), in pixels: a box ``[x1, y1, x2, y2]``; clicks ``[(x, y), (x, y, False)]`` (False marks
        background); a mask (an (H, W) array, nonzero inside, or the path of a mask image); a ``Region``; or a
        dict with one of ``box``, ``points``, ``mask``, ``ref`` (an earlier output such as ``"o2"``).
        ``frame``: on a video, the frame the region is drawn on (tracking starts there).
        ``thread``: continue this conversation (a new one is started under this id if it has none yet).
        ``invocations``: run these instead of asking the planner (scripted pipelines): objects, dicts, or
        VITRON's tag text (``<module>B</module> <instruction>segmentation: the cup</instruction>``).
        """
        thread = check_thread_id(thread) if thread is not None else new_thread_id()
        request = self._request(thread, text, images, videos, region, frame, invocations)
        return self._run_turn(thread, {"turn_input": request.dump()})

    def stream(self, text: str = "", *, thread: str | None = None,
               stream_mode: str | Sequence[str] = ("updates", "custom"), **kwargs: Any) -> Iterator[Any]:
        """Like ``invoke`` but yields LangGraph's stream: with several ``stream_mode``s (default: node ``updates``
        and ``custom`` events: planner tokens, expert progress) ``(mode, event)`` pairs, with one mode its events.
        ``values``, ``messages`` and ``debug`` work as in any LangGraph graph."""
        thread = check_thread_id(thread) if thread is not None else new_thread_id()
        request = self._request(thread, text, kwargs.get("images", ()), kwargs.get("videos", ()),
                                kwargs.get("region"), kwargs.get("frame"), kwargs.get("invocations"))
        modes = stream_mode if isinstance(stream_mode, str) else list(stream_mode)
        yield from self.graph.stream({"turn_input": request.dump()}, self._run_config(thread), context=self.context,
                                     stream_mode=modes, durability=DURABILITY)

    def as_subgraph(self) -> Any:
        """The turn graph, ready to be a node of your own LangGraph graph (``builder.add_node("vision",
        agent.as_subgraph())`` in a ``MessagesState`` app): it reads the newest ``HumanMessage`` (text, image and
        video blocks, a region in ``additional_kwargs["region"]``), answers with messages, keeps each host
        thread's media and calls in the host's checkpointer, and brings this agent's experts and planner."""
        return build_graph(True, context=self.context, name="vitron")

    def plan(
        self,
        text: str = "",
        *,
        images: Sequence[str | os.PathLike[str]] = (),
        videos: Sequence[str | os.PathLike[str]] = (),
        region: RegionInput = None,
        frame: int | None = None,
        thread: str | None = None,
    ) -> TurnResult:
        """What the turn would do, validated (inserted steps included), through the same graph with a dry run:
        ingest, plan and validate run; no expert runs and nothing is saved to the thread."""
        thread = check_thread_id(thread) if thread is not None else new_thread_id()
        request = self._request(thread, text, images, videos, region, frame, None, dry_run=True)
        values = self.state(thread)
        final = self._dry_graph.invoke({**values, "turn_input": request.dump()}, self._run_config(thread),
                                       context=self.context)
        return self._turn_result(thread, final)

    def resume(self, thread: str, value: Any = None) -> TurnResult:
        """Continue a turn paused by human-in-the-loop (``result.interrupt``) with the user's answer ``value``,
        or a turn cut short when its process stopped (a crash, a kill): its unfinished steps run again from
        the thread's last checkpoint. A finished turn is left as it is."""
        snapshot = self.graph.get_state(self._run_config(thread))
        paused = any(task.interrupts for task in snapshot.tasks)
        if paused or snapshot.tasks:
            return self._run_turn(thread, Command(resume=value) if paused else None)
        return self.result(thread)

    def _run_turn(self, thread: str, request: Any) -> TurnResult:
        """Run the graph and build the result from the run's own final state (no second read of the thread);
        a run that pauses for the user ends with its interrupt in the updates."""
        values: dict[str, Any] = {}
        interrupt = None
        for mode, event in self.graph.stream(request, self._run_config(thread), context=self.context,
                                             stream_mode=["values", "updates"], durability=DURABILITY):
            if mode == "values":
                values = event
            elif "__interrupt__" in event and event["__interrupt__"]:
                interrupt = event["__interrupt__"][0].value
        return self._turn_result(thread, values, interrupt)

    def _run_config(self, thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread}, "recursion_limit": self.config.recursion_limit}

    # -- request building -----------------------------------------------------------------------
    def _request(self, thread: str, text: str, images: Sequence[Any], videos: Sequence[Any], region: RegionInput,
                 frame: int | None, invocations: Any, dry_run: bool = False) -> TurnRequest:
        store, _ = self.context.stores(thread)
        new_media = [store.ingest(p, "pending", expect="image") for p in images]
        new_media += [store.ingest(p, "pending", expect="video") for p in videos]
        fields: dict[str, Any] = {"text": str(text), "new_media": new_media, "dry_run": dry_run}
        if region is not None:
            parsed, mask, keyframe = read_region(region, frame)
            target, name = self._region_target(thread, new_media)
            fields["region_on"] = 0 if new_media else name
            if mask is not None:
                fields["region_mask"] = store.ingest_mask(mask, "pending", on=target, keyframe=keyframe)
            else:
                check_region_bounds(parsed, target.width, target.height, target.frames, name)
                fields["region"] = parsed
        elif frame is not None:
            raise RegionError("frame says which video frame a region is drawn on; give the region too")
        if isinstance(invocations, str):
            fields["invocations"] = invocations
        elif invocations is not None:
            if not isinstance(invocations, (list, tuple)):
                raise BadInputError(f"invocations must be a list of invocation objects or VITRON tag text, "
                                    f"got a {type(invocations).__name__}")
            fields["invocations"] = [_as_invocation(inv) for inv in invocations]
        return TurnRequest(**fields)

    def _region_target(self, thread: str, new_media: list[MediaRef]) -> tuple[MediaRef, str]:
        if new_media:
            return new_media[0], "the first attached medium"
        latest = latest_medium(read_media(self.state(thread)))
        if latest is None:
            raise RegionError("a region was given but there is no image or video to draw it on; attach one")
        return latest, latest.id

    # -- reading threads ------------------------------------------------------------------------
    def state(self, thread: str) -> dict[str, Any]:
        """The thread's checkpointed state values (empty for a new thread)."""
        snapshot = self.graph.get_state(self._run_config(thread))
        return dict(snapshot.values or {})

    def has_thread(self, thread: str) -> bool:
        """Whether the thread has been saved (at least one turn, or media attached)."""
        return self.checkpointer.get_tuple(self._run_config(check_thread_id(thread))) is not None

    def result(self, thread: str) -> TurnResult:
        """The latest turn of a thread as a ``TurnResult``."""
        snapshot = self.graph.get_state(self._run_config(thread))
        interrupts = [i.value for task in snapshot.tasks for i in task.interrupts]
        return self._turn_result(thread, snapshot.values or {}, interrupts[0] if interrupts else None)

    def _turn_result(self, thread: str, values: dict[str, Any], interrupt: dict[str, Any] | None = None) -> TurnResult:
        turn = values.get("turn", 0)
        calls = list(calls_of_turn(values, turn).values())
        media = read_media(values, [i for call in calls for i in call.artifacts])  # not the whole thread's
        store, _ = self.context.stores(thread)
        artifacts = [Artifact(ref.id, ref.kind, str(store.path(ref)), ref.width, ref.height, ref.frames, ref.preview)
                     for call in calls for ref in (media[i] for i in call.artifacts)]
        errors = list(values.get("errors", []))
        errors += [call.error.model_dump() for call in calls if call.error is not None]
        messages = values.get("messages", [])
        if values.get("turn_input", {}).get("dry_run"):
            reply = PlanRecord.read(values).reply
        else:
            reply = str(messages[-1].content) if messages and messages[-1].type == "ai" else ""
        return TurnResult(
            thread=thread,
            reply=reply,
            invocations=[call.invocation.model_copy(update={"module": call.expert}) for call in calls],
            artifacts=artifacts,
            errors=errors,
            interrupt=interrupt,
            data={a.id: media[a.id].data for a in artifacts},
            calls=calls,
        )

    def undo(self, thread: str) -> int:
        """Forget the thread's last turn (its messages, calls and outputs; the files stay on disk until the
        thread is deleted); returns how many turns the thread now has. Earlier checkpoints are kept, so the
        undone turn stays in the thread's history."""
        config = self._run_config(thread)
        turn = (self.graph.get_state(config).values or {}).get("turn", 0)
        if turn == 0:
            raise BadInputError(f"thread {thread} has no turn to undo")
        if turn == 1:
            self.checkpointer.delete_thread(thread)
            return 0
        for snapshot in self.graph.get_state_history(config):
            if snapshot.values.get("turn", 0) == turn - 1 and not snapshot.next:  # that turn, finished
                self.graph.update_state(snapshot.config, None)  # a new latest checkpoint, copied from it
                return turn - 1
        raise BadInputError(f"thread {thread} has no finished turn {turn - 1} to go back to")

    def attach(
        self, thread: str, images: Sequence[str | os.PathLike[str]] = (), videos: Sequence[str | os.PathLike[str]] = ()
    ) -> list[str]:
        """Add media to a thread outside a turn (for host agents that then call the expert tools); returns
        their ids."""
        store, _ = self.context.stores(thread)
        refs = [store.ingest(p, "pending", expect="image") for p in images]
        refs += [store.ingest(p, "pending", expect="video") for p in videos]
        with self.context.thread_lock(thread):
            count = sum(1 for key in self.state(thread).get("media", {}) if key.startswith("u"))
            named = {f"u{count + i}": ref.model_copy(update={"id": f"u{count + i}"}) for i, ref in enumerate(refs)}
            update = {"media": {k: v.model_dump(mode="json") for k, v in named.items()}}
            self.graph.update_state(self._run_config(thread), update, as_node="respond")
        return list(named)

    def add_expert(self, expert: Any, **options: Any) -> str:
        """Register an expert class for this agent; returns its name."""
        return self.registry.register(expert, **options)

    def close(self) -> None:
        """Close the checkpointer's connection (SQLite) or pool (PostgreSQL)."""
        close_checkpointer(self.checkpointer)

    def __enter__(self) -> VitronAgent:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_pool(registry: ExpertRegistry, config: AgentConfig) -> ExpertPool:
    """The expert pool ``config.experts`` names: in this process (the default) or on Ray Serve."""
    from .experts.ray_serve import RayServePool, parse_backend

    settings = parse_backend(config.experts)
    if settings is None:
        return ModelPool(registry, ram_budget=config.ram_budget, vram_budget=config.vram_budget,
                         device=config.device, dtype=config.dtype, cpu_offload=config.cpu_offload)
    settings = replace(settings, device=config.device, dtype=config.dtype, cpu_offload=config.cpu_offload)
    return RayServePool(registry, settings)


def check_thread_id(thread: str) -> str:
    """A usable thread id, or a ``BadInputError`` saying why not."""
    if not isinstance(thread, str) or not thread.strip():
        raise BadInputError(f"a thread id must be a non-empty string, got {brief(thread)}")
    if len(thread) > 256 or any(ord(c) < 32 for c in thread):
        raise BadInputError(f"thread id {brief(thread)} is too long or holds control characters")
    return thread


def _as_invocation(inv: Invocation | dict[str, Any]) -> Invocation:
    if isinstance(inv, Invocation):
        return inv
    if not isinstance(inv, dict):
        raise BadInputError(f"bad invocation {brief(inv)}: expected an object such as "
                            '{"task": "segment", "region": {"box": [x1, y1, x2, y2]}}')
    try:
        return Invocation(**inv)
    except Exception as exc:
        raise BadInputError(f"bad invocation {brief(inv)}: {first_error(exc)}") from None


