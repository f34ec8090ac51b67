"""The agent behind a LangGraph server: ``langgraph dev`` (``langgraph.json`` at the repository root points here)
serves ``graph`` on localhost with LangGraph's thread, run and streaming APIs.

    pip install -e ".[serve]"
    VITRON_MEDIA_ROOTS=$HOME/Pictures langgraph dev --no-browser --config langgraph.json

Why a wrapper graph: our turn graph needs an ``AgentContext`` (registry, model pool, planner, stores) as its
runtime context, and a LangGraph server only passes JSON as context. So the served graph is a thin one whose
``turn`` node runs a VITRON turn on the agent's thread of the same id (one ``VitronAgent`` per server process,
experts loaded once) and re-emits the turn's ``custom`` events (planner tokens, expert progress) on the
server's stream. The server's checkpointer keeps the served thread (messages, the latest turn's reply,
invocations and artifacts); the agent keeps its own checkpoints of the turn graph (SQLite in its state folder,
or the PostgreSQL database ``$VITRON_CHECKPOINTER`` names), so a thread goes on across runs and server
restarts, and the CLI, the web UI and the server can share it.

Input (``ServeInput``), all optional but the message::

    {"messages": [{"role": "user", "content": "segment the object in the box"}],
     "images": ["/abs/path/coffee.png" or "data:image/png;base64,..."], "videos": [...],
     "region": [x1, y1, x2, y2] (pixels, on the first attached medium, else on the thread's latest one)}

Image content blocks in the message (``{"type": "image_url", "image_url": {"url": "data:..."}}`` or
``{"type": "image", "base64": ..., "mime_type": ...}``) are attached too. Data URLs are saved in
``<state dir>/uploads``; paths must lie inside ``$VITRON_MEDIA_ROOTS`` (folders, ``os.pathsep``-separated;
unset: only the uploads folder), since they come over HTTP.

Output (the thread's state): ``messages`` (with the reply as the last AI message), ``reply``, ``invocations``
(as ``vitron-agent run --json`` prints them), ``artifacts`` (``{id, kind, path, width, height, frames,
preview}``; paths on the server's disk), ``errors`` and ``interrupt`` (a human-in-the-loop question: resume
the run with ``Command(resume=answer)``, ``True``/``False`` to approve or ``{"box": [...]}`` for a region).

Environment: ``VITRON_STATE_DIR`` (default ``~/.vitron-agent``), ``VITRON_PLANNER`` (``lite``, ``rules``,
``vitron:PATH`` or ``module:factory``; default ``lite``), ``VITRON_MEDIA_ROOTS``, ``VITRON_HUMAN_IN_THE_LOOP``
(``1`` to ask before costly or destructive steps), ``VITRON_CHECKPOINTER`` (``postgresql://...`` to keep the
agent's threads in PostgreSQL, the ``postgres`` extra; default SQLite in the state folder), ``VITRON_EXPERTS``
(``ray`` or ``ray:ADDRESS`` to run experts on Ray Serve; default in this process).
"""

from __future__ import annotations

import contextvars
import hashlib
import mimetypes
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from typing_extensions import TypedDict

from .errors import BadInputError, VitronError
from .messages import decode_data_url, read_content
from .stores.files import write_once

__all__ = ["ServeInput", "ServeState", "build_serve_graph", "agent_from_env", "upload_folder", "graph"]


class ServeInput(TypedDict, total=False):
    """One request: the user's message, media (paths or data URLs), a box in pixels, and the agent thread to
    continue (``thread``; default: the server's thread id). Name the thread in stateless runs when several server
    processes share one address: the agent's thread is in PostgreSQL and the shared state folder, so any of them
    continues it, while each server keeps its own threads only in its own memory."""

    messages: Annotated[list[AnyMessage], add_messages]
    images: list[str]
    videos: list[str]
    region: list[float] | dict[str, Any] | None
    thread: str


class ServeState(ServeInput, total=False):
    """The served thread: the conversation and the latest turn's outcome (``vitron-agent run --json``'s keys)."""

    reply: str
    invocations: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]
    errors: list[str]
    interrupt: dict[str, Any] | None


def upload_folder(agent: Any) -> Path:
    """Where media sent as data URLs are saved (``<state dir>/uploads``); always an allowed media root."""
    return Path(agent.config.state_dir) / "uploads"


def agent_from_env() -> Any:
    """The ``VitronAgent`` the environment describes (see the module docstring)."""
    from .agent import VitronAgent
    from .config import AgentConfig, default_checkpointer
    from .planners.spec import planner_from_spec

    config = AgentConfig(human_in_the_loop=os.environ.get("VITRON_HUMAN_IN_THE_LOOP", "") in ("1", "true", "yes"),
                         checkpointer=default_checkpointer())
    roots = [Path(p) for p in os.environ.get("VITRON_MEDIA_ROOTS", "").split(os.pathsep) if p.strip()]
    config.media_roots = (*(r.expanduser() for r in roots), config.state_dir / "uploads")
    planner = planner_from_spec(os.environ.get("VITRON_PLANNER") or "lite", option="$VITRON_PLANNER")
    return VitronAgent(config, planner=planner)


def build_serve_graph(agent: Any | Callable[[], Any]) -> Any:
    """The served graph over ``agent`` (a ``VitronAgent``, or a function that makes one on first use), compiled
    without a checkpointer: the server brings its own. ``START -> turn -> (paused?) -> ask -> ... -> END``."""
    get_agent = (lambda: agent) if hasattr(agent, "stream") else _once(agent)

    def turn(state: ServeState, config: RunnableConfig) -> dict[str, Any]:
        """Run one VITRON turn on this thread; its ``custom`` events go out on the server's stream."""
        vitron, thread = get_agent(), _thread(state, config)
        write = get_stream_writer()
        cleared: dict[str, Any] = {"images": [], "videos": [], "region": None}  # inputs are for one turn only
        try:
            text, images, videos = _request(state, upload_folder(vitron), vitron.config.limits.max_bytes)
            for mode, event in _top_level(vitron.stream, text, thread=thread, images=images, videos=videos,
                                          region=state.get("region")):
                if mode == "custom":
                    write(event)
        except VitronError as exc:  # bad input: said in the thread, which goes on
            return {**cleared, "reply": "", "invocations": [], "artifacts": [], "errors": [str(exc)],
                    "interrupt": None, "messages": [AIMessage(content=f"error: {exc}")]}
        return {**cleared, **_top_level(_outcome, vitron, thread)}

    def ask(state: ServeState, config: RunnableConfig) -> dict[str, Any]:
        """Pause the served run with the agent's question; the answer resumes the agent's turn."""
        answer = interrupt(state["interrupt"])
        vitron, thread = get_agent(), _thread(state, config)
        _top_level(vitron.resume, thread, answer)
        return _top_level(_outcome, vitron, thread)

    builder = StateGraph(ServeState, input_schema=ServeInput)
    builder.add_node("turn", turn)
    builder.add_node("ask", ask)
    builder.add_edge(START, "turn")
    builder.add_conditional_edges("turn", _paused, ["ask", END])
    builder.add_conditional_edges("ask", _paused, ["ask", END])
    return builder.compile(name="vitron-agent")


def _paused(state: ServeState) -> str:
    return "ask" if state.get("interrupt") else END


def _thread(state: ServeState, config: RunnableConfig) -> str:
    thread = state.get("thread") or config.get("configurable", {}).get("thread_id")
    if not thread:
        raise BadInputError("runs need a thread (the server gives every run one)")
    return str(thread)


def _top_level(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` as a top-level LangGraph run, not a subgraph of the served one.

    LangGraph passes a node's config (checkpoint namespace, task id, checkpointer) to graphs called inside it
    through context variables; the agent's graph must not see it, or the agent would keep the turn where no
    later run looks. So the call, and each step of a generator it returns, runs in a fresh, empty context,
    while the caller stays in its own (where the served graph's stream writer works)."""
    context = contextvars.Context()
    out = context.run(function, *args, **kwargs)
    if not isinstance(out, Iterator):
        return out

    def steps() -> Iterator[Any]:
        done = object()
        while (item := context.run(next, out, done)) is not done:
            yield item

    return steps()


def _outcome(vitron: Any, thread: str) -> dict[str, Any]:
    """The agent's latest turn as the served state's keys, the reply as an AI message."""
    result = vitron.result(thread)
    summary = result.to_json()
    artifacts = [{**a.to_json(), "preview": a.preview} for a in result.artifacts]
    messages = [AIMessage(content=result.reply)] if result.reply and result.interrupt is None else []
    return {"reply": result.reply, "invocations": summary["invocations"], "artifacts": artifacts,
            "errors": summary["errors"], "interrupt": result.interrupt, "messages": messages}


def _request(state: ServeState, uploads: Path, max_bytes: int) -> tuple[str, list[str], list[str]]:
    """The latest user message's text, and the media to attach as paths (bytes sent in the request saved in
    ``uploads``): its image and video blocks first, then ``images`` and ``videos`` (paths or data URLs)."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    text, blocks = read_content(last.content, max_bytes) if last is not None and last.type == "human" else ("", [])
    found = {"image": [], "video": []}
    for block in blocks:
        if block.error is not None:
            raise BadInputError(block.error)
        found[block.kind].append(_save(block.data, None, uploads) if block.data is not None else str(block.path))
    images = found["image"] + [_local(p, uploads, max_bytes) for p in state.get("images", [])]
    videos = found["video"] + [_local(p, uploads, max_bytes) for p in state.get("videos", [])]
    return text, images, videos


def _local(source: str, uploads: Path, max_bytes: int) -> str:
    """A path as given, or a data URL saved under ``uploads`` and its path."""
    if not isinstance(source, str):
        raise BadInputError(f"media must be given as paths or data URLs (strings), got a {type(source).__name__}")
    if not source.startswith("data:"):
        return source
    mime, data = decode_data_url(source, max_bytes)
    return _save(data, mime, uploads)


def _save(data: bytes, mime: str | None, uploads: Path) -> str:
    """``data`` as a content-addressed file under ``uploads``; its path."""
    suffix = mimetypes.guess_extension(mime or "") or ".bin"
    path = uploads / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    write_once(path, data)
    return str(path)


def _once(make: Callable[[], Any]) -> Callable[[], Any]:
    """``make()`` on the first call, the same object after (thread-safe: the server runs nodes in threads)."""
    made: list[Any] = []
    lock = threading.Lock()

    def get() -> Any:
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get


graph = build_serve_graph(agent_from_env)
"""What ``langgraph.json`` serves: the agent is built from the environment on the first run."""
