"""``vitron-agent ui``: the Gradio web UI. This file lays out the page and wires events; what the events do
with media and regions is in ``canvas.py``, and how a thread becomes chat messages is in ``history.py``.

    agent = VitronAgent(web_config("~/.vitron-agent"))
    launch(build_app(agent), agent)            # http://127.0.0.1:7860

The page: a chat with uploads (images, videos), a canvas where two clicks draw a box on the image or on a
chosen video frame (the box goes into the next message as its region), each turn's invocation trace, live
progress while experts run, the reply growing as a streaming planner writes it, and Approve/Decline for human-in-the-loop questions. The thread id is kept in
the browser (``localStorage``; ``?thread=ID`` in the URL also works), so a reload shows the conversation
again from the agent's checkpoints.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Any

from ..agent import new_thread_id
from ..config import AgentConfig
from ..errors import BadInputError, UnavailableError, VitronError
from ..stores.media_io import MediaLimits
from .canvas import add_point, canvas_source, check_upload, click, format_box, parse_region, region_for, render_canvas
from .history import latest_medium, live_messages, note, progress_message, render_thread, render_turn

__all__ = ["build_app", "launch", "serve", "web_config", "upload_folder", "WebSession"]

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no usage pings
try:
    import gradio as gr
except ImportError:
    raise UnavailableError('the web UI needs gradio; install it with: pip install "vitron-agent[ui]"') from None

_log = logging.getLogger(__name__)
_DRAW_MODES = {"a box (two corners)": None, "points on the object": True, "points on the background": False}
"""The canvas's click modes: a box, or points (positive on the object, negative on the background)."""
_THREAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HINT = "e.g. segment the object in the box · find the faces · remove it"


def upload_folder() -> Path:
    """Where Gradio stores uploads (``$GRADIO_TEMP_DIR``, else ``<tmp>/gradio``): the one folder the web
    UI's agent may read media from."""
    return Path(gr.utils.get_upload_folder())


def web_config(state_dir: str | os.PathLike[str] | None = None, *, max_upload_mb: float = 100,
               human_in_the_loop: bool = False, **options: Any) -> AgentConfig:
    """An ``AgentConfig`` for paths that come from the web: media must lie in Gradio's upload folder,
    files are capped at ``max_upload_mb`` MiB (also the server's upload cap)."""
    limits = MediaLimits(max_bytes=int(max_upload_mb * 2**20))
    if state_dir is not None:
        options["state_dir"] = state_dir
    return AgentConfig(limits=limits, media_roots=(upload_folder(),), human_in_the_loop=human_in_the_loop,
                       **options)


def build_app(agent: Any, title: str = "vitron-agent") -> Any:
    """The ``gr.Blocks`` app for ``agent`` (a ``VitronAgent``; build its config with ``web_config``)."""
    session = WebSession(agent)
    secret = _browser_secret(agent.config.state_dir)
    with gr.Blocks(title=title, analytics_enabled=False) as app:
        gr.Markdown(f"## {title}\nAttach an image or video, click two corners on it to draw a box (or click points "
                    "on the object), and ask. "
                    f"Limits: {agent.config.limits.max_bytes / 2**20:g} MiB per file, "
                    f"{agent.config.limits.max_pixels / 1e6:g} megapixels, {agent.config.limits.max_frames} frames.")
        thread = gr.BrowserState(None, storage_key="vitron-agent-thread", secret=secret)
        pending, source, anchor, waiting = gr.State([]), gr.State(None), gr.State(None), gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="vitron-chat", height=560, label="Conversation", feedback_options=None)
                with gr.Row():
                    text = gr.Textbox(placeholder=_HINT, show_label=False, scale=5, elem_id="vitron-text")
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="vitron-send")
                with gr.Row(visible=False) as approval:
                    approve = gr.Button("Approve", variant="primary", elem_id="vitron-approve")
                    decline = gr.Button("Decline", elem_id="vitron-decline")
                with gr.Row():
                    thread_label = gr.Markdown("New conversation", elem_id="vitron-thread")
                    new = gr.Button("New conversation", size="sm", elem_id="vitron-new")
            with gr.Column(scale=2):
                upload = gr.File(label="Attach images or videos", file_count="multiple", type="filepath",
                                 elem_id="vitron-upload")
                attached = gr.Markdown("", elem_id="vitron-attached")
                canvas = gr.Image(label="Click two corners to draw a box, or click points", interactive=False,
                                  format="jpeg", elem_id="vitron-canvas", buttons=["fullscreen"])
                draw = gr.Radio(list(_DRAW_MODES), value=next(iter(_DRAW_MODES)), label="Clicks draw",
                                elem_id="vitron-draw")
                frame = gr.Slider(0, 1, value=0, step=1, label="Video frame to draw on", visible=False)
                with gr.Row():
                    region = gr.Textbox(label="Region: x1,y1,x2,y2 or points x,y,+; x,y,- (pixels)", scale=3,
                                        elem_id="vitron-region")
                    clear = gr.Button("Clear", size="sm", scale=1)
                with gr.Accordion("Last turn as JSON", open=False):
                    trace = gr.JSON(elem_id="vitron-trace")

        s = session
        turn_outputs = [chat, thread, thread_label, text, pending, attached, source, canvas, frame, anchor, region,
                        trace, waiting, approval]
        s.bind(chat=chat, thread=thread, thread_label=thread_label, text=text, pending=pending, attached=attached,
               source=source, canvas=canvas, frame=frame, anchor=anchor, region=region, trace=trace,
               waiting=waiting, approval=approval, upload=upload)
        app.load(s.on_load, [thread], turn_outputs)
        upload.upload(s.on_upload, [upload, pending, chat, thread], [upload, pending, attached, chat, source, canvas,
                                                                       frame, anchor, region])
        canvas.select(s.on_click, [anchor, source, frame, draw, region], [anchor, region, canvas])
        region.submit(s.on_region_typed, [region, source, frame], [canvas, anchor])
        frame.release(s.on_region_typed, [region, source, frame], [canvas, anchor])
        clear.click(s.on_clear, [source, frame], [anchor, region, canvas])
        turn_inputs = [text, region, frame, pending, source, thread, chat, waiting]
        for trigger in (send.click, text.submit):
            trigger(s.on_send, turn_inputs, turn_outputs, concurrency_id="agent", concurrency_limit=1)
        approve.click(s.on_approve, [thread, chat], turn_outputs, concurrency_id="agent")
        decline.click(s.on_decline, [thread, chat], turn_outputs, concurrency_id="agent")
        new.click(s.on_new, None, turn_outputs)
    return app


def launch(app: Any, agent: Any, *, host: str = "127.0.0.1", port: int | None = None, block: bool = True) -> Any:
    """Serve ``app`` on ``host:port`` (localhost by default), uploads capped at the agent's byte limit.
    With ``block=False`` it returns at once (the server runs in a thread; ``app.close()`` stops it)."""
    state_dir = Path(agent.config.state_dir).resolve()
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])  # local fonts: no font downloads
    return app.launch(server_name=host, server_port=port, max_file_size=agent.config.limits.max_bytes,
                      prevent_thread_lock=not block, share=False, ssr_mode=False, theme=theme, quiet=not block,
                      show_error=False, blocked_paths=[str(state_dir)])


def serve(*, host: str = "127.0.0.1", port: int = 7860, state_dir: str | None = None, checkpointer: str | None = None,
          experts: str | None = None, planner: Any = None, human_in_the_loop: bool = False,
          max_upload_mb: float = 100) -> int:
    """``vitron-agent ui``: build the agent and the app, serve until interrupted; returns the exit code.
    ``checkpointer``: where threads are kept (``AgentConfig.checkpointer``; None: ``$VITRON_CHECKPOINTER``);
    ``experts``: where experts run (``AgentConfig.experts``; None: ``$VITRON_EXPERTS``)."""
    from ..agent import VitronAgent

    options = {"checkpointer": checkpointer} if checkpointer else {}
    if experts:
        options["experts"] = experts
    config = web_config(state_dir, max_upload_mb=max_upload_mb, human_in_the_loop=human_in_the_loop, **options)
    with VitronAgent(config, planner=planner) as agent:
        launch(build_app(agent), agent, host=host, port=port, block=True)
    return 0


class WebSession:
    """Event handlers. Per-browser values arrive as arguments (Gradio state); the agent is shared."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.limits = agent.config.limits
        self.published = Path(tempfile.mkdtemp(prefix="vitron-ui-"))
        # the display copies go when the session does (at the latest when the process exits)
        self.discard = weakref.finalize(self, shutil.rmtree, str(self.published), True)
        self.c: dict[str, Any] = {}

    def bind(self, **components: Any) -> None:
        self.c = components

    def publish(self, path: str) -> str:
        """A copy of a stored file that the web server may serve (blob names are content hashes)."""
        target = self.published / Path(path).name
        if not target.exists():  # written aside and renamed: a page loading at the same time never sees half
            partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
            shutil.copyfile(path, partial)
            os.replace(partial, target)
        return str(target)

    # -- media and region panel -------------------------------------------------------------------
    def on_upload(self, files: list[str] | None, pending: list[dict], chat: list[dict], thread: str | None):
        pending, chat = list(pending or []), list(chat or [])
        for path in files or []:
            try:
                pending.append(check_upload(path, self.limits))
            except BadInputError as exc:
                chat.append(note(f"Could not attach {exc}"))
        src = canvas_source(pending, latest_medium(self.agent, _valid(thread)))
        return (None, pending, _describe(pending), chat, src, self._canvas(src), _frame_update(src), None, "")

    def on_click(self, anchor: list[int] | None, src: dict | None, frame: int, mode: str, text: str,
                 evt: gr.SelectData):
        if src is None or evt.index is None:
            return anchor, "", None
        x, y = evt.index[:2]
        positive = _DRAW_MODES.get(mode)
        if positive is not None:  # a point mode: each click adds one point
            text = add_point(text, x, y, positive)
            return None, text, self._canvas(src, frame, parse_region(text))
        anchor, box = click(anchor, x, y)
        return anchor, format_box(box), self._canvas(src, frame, {"box": box} if box else None, anchor)

    def on_region_typed(self, text: str, src: dict | None, frame: int):
        try:
            region = parse_region(text)
        except BadInputError:
            region = None
        return self._canvas(src, frame, region), None

    def on_clear(self, src: dict | None, frame: int):
        return None, "", self._canvas(src, frame)

    # -- turns ------------------------------------------------------------------------------------
    def on_send(self, text: str, region_text: str, frame: int, pending: list[dict], src: dict | None,
                thread: str | None, chat: list[dict], waiting: dict | None):
        c, chat, pending = self.c, list(chat or []), list(pending or [])
        thread = _valid(thread) or new_thread_id()
        text = (text or "").strip()
        try:
            drawn = parse_region(region_text)
            region = region_for(drawn, src, int(frame or 0))
        except BadInputError as exc:
            yield {c["chat"]: chat + [note(str(exc))]}
            return
        if waiting and waiting.get("type") == "region" and not text and not pending:
            if drawn is None:
                yield {c["chat"]: chat + [note("Draw a region first: click two corners, or click points.")]}
                return
            answer = region if isinstance(region, dict) else {"box": region}
            yield from self._resume(thread, chat + [{"role": "user", "content": f"Region: {region_text.strip()}"}],
                                    answer)
            return
        if not text and not pending:
            yield {c["chat"]: chat + [note(f"Type a request ({_HINT}).")]}
            return
        base = chat + ([{"role": "user", "content": text}] if text else [])
        base += [{"role": "user", "content": {"path": a["path"], "alt_text": a["name"]}} for a in pending]
        images = [a["path"] for a in pending if a["kind"] == "image"]
        videos = [a["path"] for a in pending if a["kind"] == "video"]
        events: list[dict[str, Any]] = []
        yield {c["chat"]: base + live_messages(events), c["thread"]: thread,
               c["thread_label"]: _thread_label(thread), c["text"]: ""}
        try:
            for mode, event in self.agent.stream(text, thread=thread, images=images, videos=videos, region=region):
                if mode == "custom" and isinstance(event, dict):
                    events.append(event)
                    yield {c["chat"]: base + live_messages(events)}
        except VitronError as exc:  # refused before anything was saved: the attachments stay
            yield {c["chat"]: base + [note(str(exc))], c["text"]: text}
            return
        except Exception as exc:  # the page must survive an internal failure
            _log.exception("turn failed")
            yield {c["chat"]: base + [note(f"internal error: {type(exc).__name__}: {exc}")], c["text"]: text}
            return
        yield self._after_turn(thread, base + render_turn(self.agent, thread, self.publish))

    def on_approve(self, thread: str | None, chat: list[dict]):
        yield from self._resume(_valid(thread), list(chat or []) + [{"role": "user", "content": "Approve"}], True)

    def on_decline(self, thread: str | None, chat: list[dict]):
        yield from self._resume(_valid(thread), list(chat or []) + [{"role": "user", "content": "Decline"}], False)

    def _resume(self, thread: str | None, chat: list[dict], value: Any):
        c = self.c
        if thread is None:
            yield {c["chat"]: chat + [note("There is no conversation to continue; send a new message.")]}
            return
        yield {c["chat"]: chat + [progress_message([])]}
        try:
            self.agent.resume(thread, value)
        except Exception as exc:
            _log.exception("resume failed")
            yield {c["chat"]: chat + [note(f"could not continue: {type(exc).__name__}: {exc}")]}
            return
        yield self._after_turn(thread, chat + render_turn(self.agent, thread, self.publish))

    def _after_turn(self, thread: str, chat: list[dict]) -> dict[Any, Any]:
        """Everything a finished (or paused) turn resets: attachments, box, canvas, trace, approval buttons."""
        result = self.agent.result(thread)
        paused = result.interrupt
        media = (paused or {}).get("media") or [None]
        src = latest_medium(self.agent, thread, media[0] if paused and paused.get("type") == "region" else None)
        c = self.c
        return {c["chat"]: chat, c["thread"]: thread, c["thread_label"]: _thread_label(thread), c["pending"]: [],
                c["attached"]: "", c["source"]: src, c["canvas"]: self._canvas(src), c["frame"]: _frame_update(src),
                c["anchor"]: None, c["region"]: "", c["trace"]: result.to_json(), c["waiting"]: paused,
                c["approval"]: gr.Row(visible=bool(paused and paused.get("type") == "approve"))}

    def on_load(self, thread: str | None, request: gr.Request):
        asked = request.query_params.get("thread") if request is not None else None
        thread = _valid(asked) or _valid(thread)
        if thread is None or not self.agent.state(thread):
            return self.on_new()
        try:
            chat = render_thread(self.agent, thread, self.publish)
        except VitronError as exc:  # a damaged thread: say so, start afresh
            return {**self.on_new(), self.c["chat"]: [note(f"Could not show thread {thread}: {exc}")]}
        return self._after_turn(thread, chat)

    def on_new(self) -> dict[Any, Any]:
        c = self.c
        return {c["chat"]: [], c["thread"]: None, c["thread_label"]: "New conversation", c["text"]: "",
                c["pending"]: [], c["attached"]: "", c["source"]: None, c["canvas"]: None,
                c["frame"]: gr.Slider(visible=False), c["anchor"]: None, c["region"]: "", c["trace"]: None,
                c["waiting"]: None, c["approval"]: gr.Row(visible=False)}

    def _canvas(self, src: dict | None, frame: int = 0, region: dict | None = None, anchor: list | None = None) -> Any:
        region = region or {}
        try:
            return render_canvas(src, int(frame or 0), region.get("box"), anchor, region.get("points"))
        except (BadInputError, OSError):
            return None


def _valid(thread: Any) -> str | None:
    """A thread id from the browser, if it is one we could have made; anything else starts a new thread."""
    return thread if isinstance(thread, str) and _THREAD_ID.match(thread) else None


def _thread_label(thread: str) -> str:
    return f"Thread `{thread}`"


def _describe(pending: list[dict[str, Any]]) -> str:
    if not pending:
        return ""
    items = ", ".join(f"{a['name']} ({a['kind']} {a['width']}x{a['height']}"
                      + (f", {a['frames']} frames" if a["kind"] == "video" else "") + ")" for a in pending)
    return f"Attached to your next message: {items}"


def _frame_update(src: dict[str, Any] | None) -> Any:
    if src is None or src["kind"] != "video":
        return gr.Slider(visible=False, value=0)
    return gr.Slider(visible=True, minimum=0, maximum=max(int(src["frames"]) - 1, 1), value=0)


def _browser_secret(state_dir: Path) -> str:
    """The key the browser's stored thread id is encrypted with; kept in the state folder so it survives
    server restarts (a new key would make every browser forget its thread)."""
    from ..stores.files import write_once

    path = Path(state_dir) / "ui-secret"
    if not path.exists():  # the first process to write it wins, so every UI process on a shared folder agrees
        write_once(path, secrets.token_hex(16).encode(), mode=0o600)
    return path.read_text().strip()
