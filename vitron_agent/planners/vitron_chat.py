"""``VitronChatModel``: the VITRON planner as a LangChain chat model, so a plain tool loop (or
``langchain.agents.create_agent``) can drive our expert tools with it.

The model writes the tag form; its invocations become ``AIMessage.tool_calls`` for the bound tools.
Images attached to human messages (``{"type": "image", "base64": ...}`` or an ``image_url`` data URL)
get ids ``u0``, ``u1``... in order, as ``VitronAgent.attach`` numbers a thread's media. With a
``signal_store`` (the tools' thread store: ``agent.context.stores(thread)[1]``), signal embeddings are
stored there and their ids sent as ``additional_kwargs["signals"]`` (tool call id -> signal id); a host
graph that keeps them in its ``signals`` state key hands them to the tools through ``InjectedState``.
"""

from __future__ import annotations

import base64
import io
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict

from ..errors import BadInputError
from ..experts.base import ExpertSpec
from ..protocol.invocation import Invocation
from .base import MediaInfo, PlannerInput, PlannerOutput
from .vitron import ReplyStream
from .vitron_prompt import best_expert

__all__ = ["VitronChatModel"]


class VitronChatModel(BaseChatModel):
    """A ``VitronPlanner`` behind LangChain's chat-model interface (``invoke``, ``stream``, ``bind_tools``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    planner: Any
    signal_store: Any = None

    @classmethod
    def from_pretrained(cls, path: str, *, signal_store: Any = None, **options: Any) -> VitronChatModel:
        from .vitron import VitronPlanner

        return cls(planner=VitronPlanner.from_pretrained(path, **options), signal_store=signal_store)

    @property
    def _llm_type(self) -> str:
        return "vitron"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> Any:
        """Offer ``tools``; an ``ExpertTool`` brings its expert's spec, others a spec read from their schema."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], catalogue=_catalogue(tools), **kwargs)

    # -- one call -------------------------------------------------------------------------------
    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        inp = _planner_input(messages, kwargs.get("catalogue") or {})
        _, batch = self.planner.prepare(inp)
        generated = self.planner.generate(batch, stop=stop or ())
        return ChatResult(generations=[ChatGeneration(message=self._message(generated, inp, kwargs))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """Reply tokens as they are generated (the text before the first tag), then one chunk with the
        tool-call chunks and the rest of the reply."""
        inp = _planner_input(messages, kwargs.get("catalogue") or {})
        _, batch = self.planner.prepare(inp)
        tokens = _TokenQueue()
        done: dict[str, Any] = {}

        def work() -> None:
            try:
                done["generated"] = self.planner.generate(batch, streamer=tokens, stop=stop or ())
            except Exception as exc:  # re-raised below, in the caller's thread
                done["error"] = exc
            finally:
                tokens.end()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        reply = ReplyStream(self.planner.processor.decode)
        for new in tokens:
            delta = reply.feed(new)
            if delta:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager is not None:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        worker.join()
        if "error" in done:
            raise done["error"]
        final = self._message(done["generated"], inp, kwargs)
        shown = reply.shown
        rest = final.content[len(shown):] if final.content.startswith(shown) else ""
        yield ChatGenerationChunk(message=AIMessageChunk(
            content=rest, additional_kwargs=final.additional_kwargs,
            tool_call_chunks=[{"name": c["name"], "args": _json(c["args"]), "id": c["id"], "index": n,
                               "type": "tool_call_chunk"} for n, c in enumerate(final.tool_calls)],
            invalid_tool_calls=final.invalid_tool_calls))

    # -- generated ids -> AIMessage --------------------------------------------------------------
    def _message(self, generated: Any, inp: PlannerInput, kwargs: dict[str, Any]) -> AIMessage:
        try:
            out = self.planner.read(generated, inp)
        except BadInputError as err:
            text = self.planner.processor.decode(generated.ids)
            bad = {"name": None, "args": text, "id": f"call_{uuid.uuid4().hex[:12]}", "error": str(err),
                   "type": "invalid_tool_call"}
            return AIMessage(content="", invalid_tool_calls=[bad])
        return self._to_message(out, inp.catalogue, {t["function"]["name"]: t for t in kwargs.get("tools") or []})

    def _to_message(self, out: PlannerOutput, catalogue: dict[str, ExpertSpec], tools: dict[str, Any]) -> AIMessage:
        calls, invalid, signals = [], [], {}
        for inv in out.invocations:
            name = best_expert(inv, catalogue)
            call_id = f"call_{uuid.uuid4().hex[:12]}"
            if name is None:
                invalid.append({"name": inv.module, "args": _json(inv.model_dump(mode="json")), "id": call_id,
                                "error": f"no bound tool does {inv.label}", "type": "invalid_tool_call"})
                continue
            calls.append({"name": name, "args": _tool_args(inv, tools.get(name)), "id": call_id, "type": "tool_call"})
            if self.signal_store is not None and inv.id in out.signals:
                signals[call_id] = self.signal_store.put(**out.signals[inv.id])
        extra = {"signals": signals} if signals else {}
        return AIMessage(content=out.reply, tool_calls=calls, invalid_tool_calls=invalid, additional_kwargs=extra)


class _TokenQueue:
    """A transformers streamer (``put``/``end``) read as an iterator of new token-id lists."""

    def __init__(self) -> None:
        self._queue: queue.Queue[list[int] | None] = queue.Queue()

    def put(self, value: Any) -> None:
        ids = value.reshape(-1).tolist()
        if ids:  # the first put is the prompt's ids: empty when generating from embeddings
            self._queue.put(ids)

    def end(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[list[int]]:
        while (ids := self._queue.get()) is not None:
            yield ids


def _catalogue(tools: Sequence[Any]) -> dict[str, ExpertSpec]:
    """Tool name -> expert spec: the registry's for expert tools, else one read from the tool's schema
    (its ``task`` enum); tools that fit no task are offered to the model by description only."""
    specs: dict[str, ExpertSpec] = {}
    for tool in tools:
        agent, expert = getattr(tool, "agent", None), getattr(tool, "expert", None)
        if agent is not None and expert is not None:
            specs[tool.name] = agent.registry.spec(expert)
            continue
        function = convert_to_openai_tool(tool)["function"]
        task = function.get("parameters", {}).get("properties", {}).get("task", {})
        tasks = tuple(task.get("enum") or ([task["default"]] if "default" in task else ["answer"]))
        try:
            specs[function["name"]] = ExpertSpec(name=function["name"], tasks=tasks,
                                                 description=function.get("description", ""))
        except ValueError:
            continue
    return specs


def _planner_input(messages: list[BaseMessage], catalogue: dict[str, ExpertSpec]) -> PlannerInput:
    """LangChain messages -> the planner's input; attached images become media ``u0``, ``u1``..."""
    pixels: dict[str, np.ndarray] = {}
    media: list[MediaInfo] = []
    converted: list[BaseMessage] = []
    for message in messages:
        if isinstance(message, HumanMessage) and not isinstance(message.content, str):
            ids = []
            for block in message.content:
                image = _image(block)
                if image is not None:
                    media_id = f"u{len(pixels)}"
                    pixels[media_id] = image
                    media.append(MediaInfo(media_id, "image", image.shape[1], image.shape[0]))
                    ids.append(media_id)
            message = HumanMessage(content=message.text, additional_kwargs={**message.additional_kwargs, "media": ids})
        converted.append(message)
    last = [m for m in converted if isinstance(m, HumanMessage)]
    new_media = list(last[-1].additional_kwargs.get("media", [])) if last else []
    return PlannerInput(text=last[-1].text if last else "", messages=converted, media=media, new_media=new_media,
                        catalogue=catalogue, pixels=pixels.__getitem__)


def _image(block: Any) -> np.ndarray | None:
    """An image content block (base64, or a data URL) -> (H, W, 3) uint8 RGB; other blocks -> None."""
    from PIL import Image

    if not isinstance(block, dict) or block.get("type") not in ("image", "image_url"):
        return None
    nested = block.get("image_url")
    url = block.get("url") or (nested.get("url") if isinstance(nested, dict) else nested)
    data = block.get("base64") or (url.split(",", 1)[1] if isinstance(url, str) and url.startswith("data:") else None)
    if not data:
        raise BadInputError("VitronChatModel reads images as base64 or data URLs, not remote URLs or paths")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def _tool_args(inv: Invocation, tool: dict[str, Any] | None) -> dict[str, Any]:
    """The invocation as the tool's arguments (pixels for regions), limited to what its schema takes."""
    args = inv.model_dump(mode="json", include={"task", "command", "inputs", "args", "region"}, exclude_none=True)
    accepted = ((tool or {}).get("function", {}).get("parameters", {}).get("properties") or {}).keys()
    return {k: v for k, v in args.items() if not accepted or k in accepted}


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
