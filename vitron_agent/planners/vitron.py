"""``VitronPlanner``: the VITRON MLLM as the graph's planner. It reads the dialogue and its media,
writes the reply and invocations in the tag form, and turns the hidden states at each invocation's
signal tokens into embeddings in the chosen expert's conditioning space.

    planner = VitronPlanner.from_pretrained("checkpoints/vitron")
    agent = VitronAgent(planner=planner)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInputError, ParseError
from ..experts.base import ExpertSpec
from ..protocol.invocation import AUTO_MODULE, MODULE_LETTERS, Invocation
from ..protocol.text_form import parse
from ..protocol.text_regions import unescape
from .base import PlannerInput, PlannerOutput
from .vitron_prompt import best_expert, default_medium, dialogue_turns

if TYPE_CHECKING:
    import torch

    from ..model.dialogue import Prompt
    from ..model.generation import Generated, GenerationSettings
    from ..model.modeling import VitronModel
    from ..model.processor import VitronProcessor

__all__ = ["VitronPlanner", "ReplyStream"]


class VitronPlanner:
    """Plans with a VITRON model and processor (``from_pretrained`` loads both from one folder).

    ``settings``: decoding (greedy by default). ``max_user_turns``: history kept in the prompt.
    ``answer_after_tools``: call the model again with the tools' results (VITRON itself replies before
    the tools run, so off by default). ``constraint``: logits processors applied while decoding (a
    grammar constraint, for instance), see ``generation.generate``.
    """

    can_revise = True

    def __init__(self, model: VitronModel, processor: VitronProcessor, settings: GenerationSettings | None = None,
                 *, name: str = "vitron", max_user_turns: int = 8, answer_after_tools: bool = False,
                 constraint: Any = None) -> None:
        from ..model.generation import GenerationSettings

        self.model, self.processor = model.eval(), processor
        self.settings = settings or GenerationSettings()
        self.name, self.max_user_turns, self.answer_after_tools = name, max_user_turns, answer_after_tools
        self.constraint = constraint

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str = "cpu", dtype: Any = None, allow_pickle: bool = False,
                        **options: Any) -> VitronPlanner:
        """Load a checkpoint folder (or cached hub id); ``options`` go to ``__init__``."""
        from ..model.loading import load_vitron

        model, processor = load_vitron(path, device=device, dtype=dtype, allow_pickle=allow_pickle)
        return cls(model, processor, **options)

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        """With ``inp.on_token``, the reply goes to it as the model writes it (the tags are not sent)."""
        _, batch = self.prepare(inp)
        streamer = None if inp.on_token is None else ReplyStream(self.processor.decode, inp.on_token)
        return self.read(self.generate(batch, streamer=streamer), inp)

    # -- the steps of plan(), public for benchmarks, fine-tuning and the chat-model wrapper ---------
    def prepare(self, inp: PlannerInput) -> tuple[Prompt, dict[str, torch.Tensor]]:
        """The rendered prompt and the model's input tensors."""
        from ..model.dialogue import render_dialogue

        prompt = render_dialogue(dialogue_turns(inp, self.processor.num_signal_tokens, self.max_user_turns))
        if prompt.media and inp.pixels is None:
            raise BadInputError("the VITRON planner needs the media's pixels (PlannerInput.pixels)")
        pixels = {m.id: inp.pixels(m.id) for m in prompt.media} if prompt.media else {}
        return prompt, self.processor(prompt, pixels)

    def generate(self, batch: dict[str, torch.Tensor], streamer: Any = None, stop: Sequence[str] = ()) -> Generated:
        """The model's raw generation for prepared inputs, with this planner's settings and constraint
        (``stop``: extra stop strings for this call)."""
        from dataclasses import replace

        from ..model.generation import generate

        settings = replace(self.settings, stop=(*self.settings.stop, *stop)) if stop else self.settings
        return generate(self.model, batch, settings, tokenizer=self.processor.tokenizer, streamer=streamer,
                        constraint=self.constraint)

    def read(self, generated: Generated, inp: PlannerInput) -> PlannerOutput:
        """Generated ids -> reply, invocations and their signals; off-grammar text -> ``BadInputError``
        whose message tells the model what to fix (the graph sends it back as feedback)."""
        text, runs = self.processor.decode_marked(generated.ids)
        sizes = {m.id: (m.width, m.height) for m in inp.media if m.kind in ("image", "video")}
        try:
            parsed = parse(text, sizes, default_medium(inp))
        except ParseError as err:
            cut = "" if generated.finished else f" (cut off at max_new_tokens={self.settings.max_new_tokens})"
            raise BadInputError(f"the VITRON model wrote text outside the invocation grammar{cut}: {err}") from None
        invocations, signals = [], {}
        for inv in parsed.invocations:
            run = _run_index(inv.signal)
            if run is None:
                invocations.append(inv)
                continue
            inv = inv.model_copy(update={"signal": None})
            expert = self._expert_for(inv, inp.catalogue)
            if expert is not None and run < len(runs):
                signals[inv.id] = self._project(expert, generated, runs[run].start, runs[run].stop)
                if expert in inp.catalogue:
                    signals[inv.id]["space"] = inp.catalogue[expert].embedding_space
                inv = inv.model_copy(update={"module": expert})
            invocations.append(inv)
        needs_followup = self.answer_after_tools and bool(invocations)
        return PlannerOutput(parsed.reply, invocations, needs_followup, signals)

    def _expert_for(self, inv: Invocation, catalogue: dict[str, ExpertSpec]) -> str | None:
        """The expert whose head projects this invocation's signal: its module, or for ``auto`` and
        letters the best available expert for the task (the registry's rule); None without a head."""
        if inv.module not in (AUTO_MODULE, *MODULE_LETTERS):
            return inv.module if inv.module in self.model.expert_heads else None
        chosen = best_expert(inv, catalogue)
        return chosen if chosen in self.model.expert_heads else None

    def _project(self, expert: str, generated: Generated, start: int, stop: int) -> dict[str, Any]:
        """The run's states -> ``features`` (tokens, width) in ``expert``'s space, plus the two parts."""
        import torch

        rows = [generated.signal_positions.index(p) for p in range(start, stop)]
        with torch.inference_mode():
            specific, invariant = self.model.signal_features(generated.signal_states[rows])
            features = self.model.project(expert, specific, invariant)
        return {"features": features.float().cpu().numpy(), "specific": specific.float().cpu().numpy(),
                "invariant": invariant.float().cpu().numpy()}


class ReplyStream:
    """A transformers streamer (``put`` new token ids, ``end``) that sends the reply as it is written:
    the text before the first tag, unescaped, outer spaces stripped, in pieces that join to exactly that.

    ``decode``: token ids -> text (the processor's). ``on_text``: called with each new piece, or None to
    only collect them; ``feed`` also returns each new piece, for callers that iterate.
    """

    _PARTIAL = re.compile(r"&[#\w]*$|\ufffd+$")  # an entity or a character not complete yet

    def __init__(self, decode: Callable[[Sequence[int]], str], on_text: Callable[[str], None] | None = None) -> None:
        self.decode, self.on_text = decode, on_text
        self.ids: list[int] = []
        self.shown = ""

    def put(self, value: Any) -> None:
        ids = value.reshape(-1).tolist()
        if ids:  # the first put is the prompt's ids: empty when generating from embeddings
            self.feed(ids)

    def end(self) -> None:
        pass

    def feed(self, ids: Sequence[int]) -> str:
        """Add generated ids; the reply text they add (often empty: a tag, spaces, half a character)."""
        self.ids += ids
        head = self.decode(self.ids).split("<", 1)[0]
        visible = unescape(self._PARTIAL.sub("", head)).strip()
        if len(visible) <= len(self.shown) or not visible.startswith(self.shown):
            return ""
        delta, self.shown = visible[len(self.shown):], visible
        if self.on_text is not None:
            self.on_text(delta)
        return delta


def _run_index(signal: str | None) -> int | None:
    """``sp3`` -> 2 (the third run of signal tokens); None for no signal or another id."""
    from ..model.tokens import SIGNAL_MARK

    match = SIGNAL_MARK.match(signal or "")
    return int(match.group(1)) - 1 if match else None
