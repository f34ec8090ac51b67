"""VITRON planner overhead beyond raw generation, and decoding speed, for a tiny random model on CPU.

One planning call is prepare (render the prompt from ``prompts/``, tokenise, preprocess pixels),
generate (vision tower + LM decoding with hidden states, what the model costs anyway) and read
(decode, parse the tag form, project the signal states through the heads). Each run times the three
side by side (``plan`` is exactly these three calls); overhead = (prepare + read) / generate, the
median over runs. Target (issue 4): <= 5 %. Whole-call timings on a shared machine vary by tens of
percent from run to run; the ratio within one run does not.

The random model's text is fixed by a decoding constraint (as in the tests), so every run parses a
realistic reply with two invocations and two signal runs; the constraint costs the same in both.

    python benchmarks/bench_planner.py [--runs 20] [--shape tiny|0.5b] [--only lite|vitron]

LitePlanner (the default planner) is measured too: its load in a fresh process (import + encoder + heads,
the median of 3 processes; target <= 1 s), its p50 latency per request on the hand-written sets next to
the rule planner's (target <= 30 ms), and its accuracy there, on the development sets of requests written
apart from the templates, and on the held-out set (``finetune/blind/``, scored by ``finetune/blind_eval.py``;
targets: English >= 95 % fully right, Chinese >= 85 %, written boxes 100 %, compound requests >= 90 %,
multi-turn turns >= 90 %).
``--only lite`` or ``--only vitron`` runs one half.

``--shape 0.5b`` builds random weights shaped like CLIP ViT-L/14-336 + Qwen2-0.5B (no download) to
measure decoding speed at that size; it needs several GB of memory and a minute to build.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402

from vitron_agent import ExpertRegistry  # noqa: E402
from vitron_agent.planners.base import MediaInfo, PlannerInput  # noqa: E402
from vitron_agent.planners.vitron import VitronPlanner  # noqa: E402
from vitron_agent.protocol import Invocation, Region  # noqa: E402

BOX = (172.0, 18.0, 410.0, 300.0)


def _photo() -> np.ndarray:
    try:
        from skimage import data

        return data.coffee()
    except ImportError:  # any real-sized image will do
        return (np.random.default_rng(0).random((400, 600, 3)) * 255).astype(np.uint8)


def _input(image: np.ndarray) -> PlannerInput:
    """One turn as the graph builds it: a photo, a drawn box, every built-in expert in the catalogue."""
    registry = ExpertRegistry.default(entry_points_too=False)
    region = {"box": list(BOX)}
    human = HumanMessage(content="segment the cup and draw one like it",
                         additional_kwargs={"media": ["u0"], "region": region, "region_media": "u0"})
    return PlannerInput(text=human.content, messages=[human], media=[MediaInfo("u0", "image", 600, 400)],
                        new_media=["u0"], region=Region(**region), region_media="u0",
                        catalogue={n: registry.spec(n) for n in registry.names()}, pixels={"u0": image}.__getitem__)


def _target(k: int) -> str:
    from vitron_agent.model import render_reply

    plan = [Invocation(module="sam", task="segment", command="the cup", region=Region(box=BOX), signal="x"),
            Invocation(module="stable_diffusion", task="generate_image", command="a cup of coffee", signal="x")]
    return render_reply("Segmenting the cup and drawing one.", plan, {"u0": (600, 400)}, k, "u0")


def _build(shape: str, folder: Path) -> VitronPlanner:
    import torch

    from vitron_agent.model import build_tiny_vitron, load_vitron

    if shape == "tiny":
        model, processor = load_vitron(build_tiny_vitron(folder / "tiny"))
    else:
        model, processor = _half_billion(folder)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return VitronPlanner(model.to(device), processor)


def _half_billion(folder: Path):
    """Random weights shaped like CLIP ViT-L/14-336 + Qwen2-0.5B, with the tiny tokenizer (speed only)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel, Qwen2Config, Qwen2ForCausalLM

    from vitron_agent.model import assemble
    from vitron_agent.model.tiny import tiny_tokenizer

    tokenizer = tiny_tokenizer(1024)
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        tower = CLIPVisionModel(CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                                 num_attention_heads=16, image_size=336, patch_size=14)).to(dtype)
        lm = Qwen2ForCausalLM(Qwen2Config(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                                          num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                                          tie_word_embeddings=True, max_position_embeddings=32768)).to(dtype)
    return assemble(tower, lm, tokenizer)


class _FirstToken:
    """A transformers streamer that notes when the first new token arrives (the end of the prefill)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def put(self, value) -> None:
        if self.at is None and value.numel():
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def measure(planner: VitronPlanner, inp: PlannerInput, runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"prepare": [], "generate": [], "read": [], "first": [], "tokens": [], "prompt": []}
    out = planner.plan(inp)  # warm up; check the reply parses into two invocations with signals
    assert len(out.invocations) == 2 and set(out.signals) == {"c1", "c2"}, out
    for _ in range(runs):  # the body of VitronPlanner.plan, step by step
        start = time.perf_counter()
        _, batch = planner.prepare(inp)
        prepared = time.perf_counter()
        first = _FirstToken()
        generated = planner.generate(batch, streamer=first)
        made = time.perf_counter()
        planner.read(generated, inp)
        done = time.perf_counter()
        times["prepare"].append(prepared - start)
        times["generate"].append(made - prepared)
        times["read"].append(done - made)
        times["first"].append(first.at - prepared)
        times["tokens"].append(len(generated.ids) + 1)  # + the end token
        times["prompt"].append(batch["input_ids"].shape[1])
    return times


def lite_load_seconds(processes: int = 3) -> float:
    """Median wall time of importing LitePlanner and loading its encoder and heads in a fresh process."""
    code = ("import time; start = time.perf_counter()\nfrom vitron_agent.planners.lite import LitePlanner\n"
            "planner = LitePlanner(); assert planner.load() is not None, planner.last_fallback\n"
            "print(time.perf_counter() - start)")
    root = Path(__file__).resolve().parents[1]
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True, cwd=root).stdout.split()[-1]) for _ in range(processes))


def lite_main() -> None:
    from vitron_agent.finetune.lite_eval import BLIND_FILE, EVAL_FILE, TEST_FILE, evaluate, load_rows
    from vitron_agent.planners.lite import LitePlanner
    from vitron_agent.planners.rules import RuleBasedPlanner

    load = lite_load_seconds()
    lite, rules = LitePlanner(), RuleBasedPlanner()
    print(f"\nLitePlanner: load in a fresh process {load:.2f} s (target <= 1 s)")
    print(f"{'set':<20}{'requests':>9}{'lite p50 ms':>13}{'rules p50 ms':>14}{'lite en full':>14}{'rules en full':>15}"
          f"{'lite zh full':>14}")
    for path in (EVAL_FILE, TEST_FILE, BLIND_FILE):
        rows = load_rows(path)
        got, base = evaluate(lite, rows), evaluate(rules, rows)
        print(f"{path.name:<20}{len(rows):>9}{got['p50_ms']:>13.1f}{base['p50_ms']:>14.2f}{got['en']['full']:>14.1%}"
              f"{base['en']['full']:>15.1%}{got['zh']['full']:>14.1%}")
    from vitron_agent.finetune.blind_eval import DEV_SETS
    from vitron_agent.finetune.blind_eval import evaluate as evaluate_unseen

    print(f"\n{'requests written apart from the templates':<44}{'requests':>9}{'lite p50 ms':>13}{'en full':>9}"
          f"{'zh full':>9}{'turns':>8}")
    for requests, dialogues in DEV_SETS:
        result = evaluate_unseen(lite, load_rows(requests), load_rows(dialogues))
        singles, turns = result["requests"], result["turns"]
        p50 = 1000 * statistics.median(s.seconds for s in singles[1:])
        share = {lang: sum(s.right for s in singles if s.row["lang"] == lang) / sum(s.row["lang"] == lang for s in singles)
                 for lang in ("en", "zh")}
        print(f"{requests.name:<44}{len(singles):>9}{p50:>13.1f}{share['en']:>9.1%}{share['zh']:>9.1%}"
              f"{sum(t.right for t in turns) / len(turns):>8.1%}")
    from vitron_agent.finetune.blind_eval import DIALOGUES_FILE, REQUESTS_FILE, report

    print(f"\nthe held-out set ({REQUESTS_FILE.parent.name}/: written by someone who saw neither the templates nor "
          "the other sets)")
    test = report(evaluate_unseen(lite, load_rows(REQUESTS_FILE), load_rows(DIALOGUES_FILE)))
    print(f"summary: LitePlanner load {load:.2f} s (<= 1 s), p50 {test['p50 ms per request']} ms per request "
          f"(<= 30 ms); held-out set: English {test['English fully right']} (>= 95 %), Chinese "
          f"{test['Chinese fully right']} (>= 85 %), written boxes {test['written boxes']} (100 %), compound "
          f"{test['compound']} (>= 90 %), multi-turn {test['multi-turn turns']} (>= 90 %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--shape", choices=("tiny", "0.5b"), default="tiny")
    parser.add_argument("--only", choices=("lite", "vitron"), default=None)
    args = parser.parse_args()
    if args.only != "vitron":
        lite_main()
    if args.only == "lite":
        return
    import torch

    from tests.vitron_helpers import forcing

    with tempfile.TemporaryDirectory() as tmp:
        planner = _build(args.shape, Path(tmp))
        forcing(planner, _target(planner.processor.num_signal_tokens))
        times = measure(planner, _input(_photo()), args.runs)
    median = {k: statistics.median(v) for k, v in times.items()}
    overheads = [(p + r) / g for p, g, r in zip(times["prepare"], times["generate"], times["read"])]
    from paired import spread

    overhead, low, high = spread(overheads)
    device = "cuda" if torch.cuda.is_available() else f"cpu ({torch.get_num_threads()} threads)"
    print(f"{'step':<10}{'median ms':>12}")
    for step in ("prepare", "generate", "read"):
        print(f"{step:<10}{median[step] * 1e3:>12.1f}")
    rate = statistics.median((n - 1) / (g - f) for n, g, f in zip(times["tokens"], times["generate"], times["first"]))
    print(f"prompt {median['prompt']:.0f} tokens, first token after {median['first'] * 1e3:.0f} ms (vision + prefill), "
          f"reply {median['tokens']:.0f} tokens, decoding {rate:.1f} tokens/s")
    print(f"summary: VITRON planner overhead beyond generate = {overhead * 100:.2f}% [{low * 100:.2f}..{high * 100:.2f}] "
          f"(target <= 5%; prepare + read vs generate within each run, median [quartiles] of {args.runs} runs), decoding {rate:.1f} tokens/s on {device}, {args.shape} model")


if __name__ == "__main__":
    main()
