"""vitron-agent inside your own LangGraph / LangChain app, two ways:

1. ``host_graph``: your ``MessagesState`` graph has the VITRON graph as a node; a user message carries the photo
   as an image content block and the box in ``additional_kwargs``; the reply names the files it made.
2. ``tool_agent``: ``langchain.agents.create_agent`` with any tool-calling chat model and vitron-agent's
   experts as its tools (``expert_tools``), acting on one thread whose media the tools can see.

    python examples/langgraph_host.py                       # offline: a scripted chat model
    python examples/langgraph_host.py --model openai:gpt-4o # any chat model init_chat_model knows
"""

from __future__ import annotations

import argparse
import base64
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from vitron_agent import AgentConfig, VitronAgent, expert_tools

BOX = [172, 18, 410, 300]


class HostState(MessagesState):
    files: list[str]


def photo_message(text: str, image: str | Path, region: list[float] | None = None) -> HumanMessage:
    """A user message with the photo as a standard image content block (base64) and a box drawn on it."""
    block = {"type": "image", "base64": base64.b64encode(Path(image).read_bytes()).decode(), "mime_type": "image/png"}
    return HumanMessage(content=[{"type": "text", "text": text}, block],
                        additional_kwargs={"region": region} if region else {})


def host_graph(agent: VitronAgent) -> Any:
    """A two-node host app: ``vision`` is the VITRON graph itself (it reads the conversation's messages, keeps
    each host thread's media in the host's checkpointer), ``report`` uses the files its reply names."""

    def report(state: HostState) -> dict:
        reply = state["messages"][-1]
        files = [a["path"] for a in reply.additional_kwargs.get("artifacts", []) if not a["preview"]]
        return {"messages": [AIMessage(f"{len(files)} file(s) ready: " + ", ".join(Path(f).name for f in files))],
                "files": files}

    graph = StateGraph(HostState)
    graph.add_node("vision", agent.as_subgraph())
    graph.add_node("report", report)
    graph.add_edge(START, "vision")
    graph.add_edge("vision", "report")
    graph.add_edge("report", END)
    return graph.compile(checkpointer=InMemorySaver())


class ScriptedChatModel(FakeMessagesListChatModel):
    """An offline stand-in for a tool-calling chat model: replies with the messages it was given, in order."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self


def scripted_model(image_id: str) -> ScriptedChatModel:
    call = {"name": "grabcut", "id": "call_1", "type": "tool_call",
            "args": {"task": "segment", "command": "the cup", "inputs": [image_id], "region": {"box": BOX}}}
    return ScriptedChatModel(responses=[AIMessage("", tool_calls=[call]),
                                        AIMessage("I segmented the cup; the mask is in the tool's artifact.")])


def tool_agent(agent: VitronAgent, thread: str, image: Path, model: Any = None) -> tuple[Any, str]:
    """A ``create_agent`` agent whose tools are the experts, acting on ``thread``; returns it and the image id."""
    from langchain.agents import create_agent

    image_id = agent.attach(thread, images=[image])[0]
    model = model or scripted_model(image_id)
    prompt = (f"You can see image {image_id} (a photo of a coffee cup). Use the tools to act on it; "
              "refer to media by id.")
    return create_agent(model, tools=expert_tools(agent, thread), system_prompt=prompt), image_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="provider:model for langchain's init_chat_model (default: scripted)")
    args = parser.parse_args()
    from PIL import Image
    from skimage import data

    with tempfile.TemporaryDirectory() as scratch:
        photo = Path(scratch) / "coffee.png"
        Image.fromarray(data.coffee()).save(photo)
        with VitronAgent(AgentConfig(state_dir=Path(scratch) / "state")) as agent:
            app = host_graph(agent)
            out = app.invoke({"messages": [photo_message("segment the object in the box", photo, BOX)]},
                             {"configurable": {"thread_id": "1"}})
            print("host graph:", out["messages"][-1].content)
            model = None
            if args.model:
                from langchain.chat_models import init_chat_model

                model = init_chat_model(args.model)
            host, _ = tool_agent(agent, "tools-demo", photo, model)
            final = host.invoke({"messages": [HumanMessage("segment the cup in the box")]})
            for message in final["messages"]:
                print(f"{type(message).__name__}: {str(message.content)[:120]}")


if __name__ == "__main__":
    main()
