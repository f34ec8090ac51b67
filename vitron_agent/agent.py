"""``VitronAgent``: the public entry point. One instance serves many threads.

    agent = VitronAgent()
    result = agent.invoke("segment the object in the box", images=["coffee.png"], region=[172, 18, 410, 300])
    agent.invoke("now remove it", thread=result.thread)
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Command

from .config import AgentConfig
from .errors import BadInputError, RegionError
from .experts.pool import ModelPool
from .experts.registry import ExpertRegistry
from .graph.builder import build_graph
from .graph.context import AgentContext
from .graph.validate import check_region_bounds
from .planners.base import Planner
from .protocol.invocation import Invocation, Region
from .stores.media import MediaRef

__all__ = ["VitronAgent", "TurnResult", "Artifact", "new_thread_id"]


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
    installed). ``checkpointer``: defaults to SQLite at ``<state_dir>/checkpoints.sqlite``; any LangGraph
    checkpointer works.
    """

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        planner: Planner | None = None,
        registry: ExpertRegistry | None = None,
        pool: ModelPool | None = None,
        checkpointer: Any = None,
    ) -> None:
        from .planners.lite import LitePlanner

        self.config = config or AgentConfig()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self.registry = registry or ExpertRegistry.default()
        self.pool = pool or ModelPool(self.registry, ram_budget=self.config.ram_budget,
                                      vram_budget=self.config.vram_budget, device=self.config.device)
        self.planner = planner or LitePlanner()
        self.checkpointer = checkpointer if checkpointer is not None else self._sqlite()
        self.graph = build_graph(self.checkpointer)
        self.context = AgentContext(self.registry, self.pool, self.planner, self.config)

    def _sqlite(self) -> Any:
        from langgraph.checkpoint.sqlite import SqliteSaver

        connection = sqlite3.connect(self.config.state_dir / "checkpoints.sqlite", check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        return SqliteSaver(connection)

    # -- turns ----------------------------------------------------------------------------------
    def invoke(
        self,
        text: str = "",
        *,
        images: Sequence[str | os.PathLike[str]] = (),
        videos: Sequence[str | os.PathLike[str]] = (),
        region: Sequence[float] | Region | dict[str, Any] | None = None,
        thread: str | None = None,
        invocations: Sequence[Invocation | dict[str, Any]] | str | None = None,
    ) -> TurnResult:
        """Run one turn and return its result. Bad input raises ``BadInputError`` before anything is saved.

        ``region``: a box ``[x1, y1, x2, y2]`` in pixels (or a ``Region``) on the first medium of this
        turn, or, with no new media, on the thread's latest medium.
        ``invocations``: run these instead of asking the planner (scripted pipelines): objects, dicts, or
        VITRON's tag text (``<module>B</module> <instruction>segmentation: the cup</instruction>``).
        """
        thread = thread or new_thread_id()
        request = self._request(thread, text, images, videos, region, invocations)
        for _ in self.graph.stream(request, self._run_config(thread), context=self.context, stream_mode="updates"):
            pass
        return self.result(thread)

    def stream(self, text: str = "", *, thread: str | None = None, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Like ``invoke`` but yields ``(mode, event)``: node ``updates`` and ``custom`` progress events."""
        thread = thread or new_thread_id()
        request = self._request(thread, text, kwargs.get("images", ()), kwargs.get("videos", ()),
                                kwargs.get("region"), kwargs.get("invocations"))
        yield from self.graph.stream(request, self._run_config(thread), context=self.context,
                                     stream_mode=["updates", "custom"])

    def plan(
        self,
        text: str = "",
        *,
        images: Sequence[str | os.PathLike[str]] = (),
        videos: Sequence[str | os.PathLike[str]] = (),
        region: Sequence[float] | Region | dict[str, Any] | None = None,
        thread: str | None = None,
    ) -> TurnResult:
        """What the planner would do this turn, validated (inserted steps included); runs and saves nothing."""
        from .graph.state import merge_records
        from .graph.turn_nodes import _planner_input, ingest
        from .graph.validate import validate_plan

        thread = thread or new_thread_id()
        state = self.state(thread)
        state.update(self._request(thread, text, images, videos, region, None))
        update = ingest(state)  # pure: ids for the new media, as the real turn would give them
        state.update({**update, "media": merge_records(state.get("media"), update["media"]),
                      "calls": merge_records(state.get("calls"), update.get("calls")),
                      "messages": [*state.get("messages", []), *update["messages"]]})
        output = self.planner.plan(_planner_input(state, self.context, thread))
        _, signals = self.context.stores(thread)
        media = {k: MediaRef(**v) for k, v in state["media"].items()}
        checked = validate_plan(output.invocations, media, self.registry, signals, update["turn_input"]["new_ids"])
        errors = [{"category": p.category, "message": p.text()} for p in checked.problems]
        invocations = [i.model_copy(update={"module": checked.experts.get(i.id, i.module)}) for i in checked.invocations]
        return TurnResult(thread, output.reply, invocations, errors=errors)

    def resume(self, thread: str, value: Any = None) -> TurnResult:
        """Continue a turn paused by human-in-the-loop (``result.interrupt``) with the user's answer ``value``,
        or a turn cut short when its process stopped (a crash, a kill): its unfinished steps run again from
        the thread's last checkpoint. A finished turn is left as it is."""
        snapshot = self.graph.get_state(self._run_config(thread))
        paused = any(task.interrupts for task in snapshot.tasks)
        if paused or snapshot.tasks:
            request = Command(resume=value) if paused else None
            for _ in self.graph.stream(request, self._run_config(thread), context=self.context):
                pass
        return self.result(thread)

    def _run_config(self, thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread}, "recursion_limit": self.config.recursion_limit}

    # -- request building -----------------------------------------------------------------------
    def _request(self, thread, text, images, videos, region, invocations) -> dict[str, Any]:
        store, _ = self.context.stores(thread)
        new_media = [store.ingest(p, "pending", expect="image") for p in images]
        new_media += [store.ingest(p, "pending", expect="video") for p in videos]
        request: dict[str, Any] = {"text": str(text), "new_media": [m.model_dump(mode="json", exclude={"id"}) for m in new_media]}
        if region is not None:
            parsed = _as_region(region)
            target, name = self._region_target(thread, new_media)
            check_region_bounds(parsed, target.width, target.height, target.frames, name)
            request["region"] = parsed.model_dump(mode="json", exclude_none=True)
            request["region_on"] = 0 if new_media else name
        if isinstance(invocations, str):
            request["invocations"] = invocations
        elif invocations is not None:
            if not isinstance(invocations, (list, tuple)):
                raise BadInputError(f"invocations must be a list of invocation objects or VITRON tag text, "
                                    f"got a {type(invocations).__name__}")
            request["invocations"] = [_as_invocation(inv).model_dump(mode="json") for inv in invocations]
        return {"turn_input": request}

    def _region_target(self, thread: str, new_media: list[MediaRef]) -> tuple[MediaRef, str]:
        if new_media:
            return new_media[0], "the first attached medium"
        media = self.state(thread).get("media", {})
        candidates = [m for m in media.values() if m["kind"] in ("image", "video") and not m.get("data", {}).get("preview")]
        if not candidates:
            raise RegionError("a region was given but there is no image or video to draw it on; attach one")
        latest = MediaRef(**candidates[-1])
        return latest, latest.id

    # -- reading threads ------------------------------------------------------------------------
    def state(self, thread: str) -> dict[str, Any]:
        """The thread's checkpointed state values (empty for a new thread)."""
        snapshot = self.graph.get_state(self._run_config(thread))
        return dict(snapshot.values or {})

    def result(self, thread: str) -> TurnResult:
        """The latest turn of a thread as a ``TurnResult``."""
        snapshot = self.graph.get_state(self._run_config(thread))
        values = snapshot.values or {}
        turn = values.get("turn", 0)
        records = [r for r in values.get("calls", {}).values() if r["turn"] == turn]
        store, _ = self.context.stores(thread)
        artifacts = []
        for record in records:
            for media_id in record.get("artifacts", []):
                ref = MediaRef(**values["media"][media_id])
                artifacts.append(Artifact(ref.id, ref.kind, str(store.path(ref)), ref.width, ref.height, ref.frames,
                                          bool(ref.data.get("preview"))))
        errors = list(values.get("errors", []))
        errors += [r["error"] for r in records if r.get("error")]
        interrupts = [i.value for task in snapshot.tasks for i in task.interrupts]
        messages = values.get("messages", [])
        reply = str(messages[-1].content) if messages and messages[-1].type == "ai" else ""
        data = {a.id: values["media"][a.id].get("data", {}) for a in artifacts}
        return TurnResult(
            thread=thread,
            reply=reply,
            invocations=[Invocation(**{**r["invocation"], "module": r["expert"]}) for r in records],
            artifacts=artifacts,
            errors=errors,
            interrupt=interrupts[0] if interrupts else None,
            data=data,
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
        """Add media to a thread outside a turn (for tools used by host agents); returns their ids."""
        store, _ = self.context.stores(thread)
        refs = [store.ingest(p, "pending", expect="image") for p in images]
        refs += [store.ingest(p, "pending", expect="video") for p in videos]
        count = sum(1 for key in self.state(thread).get("media", {}) if key.startswith("u"))
        named = {f"u{count + i}": ref.model_copy(update={"id": f"u{count + i}"}) for i, ref in enumerate(refs)}
        self.save_media(thread, named)
        return list(named)

    def save_media(self, thread: str, media: dict[str, MediaRef], next_output: int | None = None) -> None:
        """Record media refs (and the next output number) in a thread's checkpointed state."""
        update: dict[str, Any] = {"media": {k: v.model_dump(mode="json") for k, v in media.items()}}
        if next_output is not None:
            update["next_output"] = next_output
        self.graph.update_state(self._run_config(thread), update, as_node="respond")

    def add_expert(self, expert: Any, **options: Any) -> str:
        """Register an expert class for this agent; returns its name."""
        return self.registry.register(expert, **options)

    def close(self) -> None:
        connection = getattr(self.checkpointer, "conn", None)
        if connection is not None:
            connection.close()

    def __enter__(self) -> VitronAgent:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _as_region(region: Sequence[float] | Region | dict[str, Any]) -> Region:
    if isinstance(region, Region):
        return region
    try:
        return Region(**region) if isinstance(region, dict) else Region(box=tuple(region))
    except Exception as exc:
        raise RegionError(f"bad region {_brief(region)}: {_first_error(exc)}") from None


def _as_invocation(inv: Invocation | dict[str, Any]) -> Invocation:
    if isinstance(inv, Invocation):
        return inv
    if not isinstance(inv, dict):
        raise BadInputError(f"bad invocation {_brief(inv)}: expected an object such as "
                            '{"task": "segment", "region": {"box": [x1, y1, x2, y2]}}')
    try:
        return Invocation(**inv)
    except Exception as exc:
        raise BadInputError(f"bad invocation {_brief(inv)}: {_first_error(exc)}") from None


def _first_error(exc: Exception) -> str:
    """The first problem pydantic found, with the field it is in (``region.box: ...``)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    return str(exc)


def _brief(value: Any, limit: int = 120) -> str:
    """A bounded one-line quote of what arrived, for error messages."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

