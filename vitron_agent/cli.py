"""The ``vitron-agent`` command (DESIGN.md section 11). Exit codes: 0 ok, 2 bad input, 1 internal failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "exit_code"]

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2
_USER_CATEGORIES = ("bad_input", "unavailable", "budget", "declined", "skipped")


def _region(text: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"region must be x1,y1,x2,y2 in pixels, got {text!r}")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"region must be 4 numbers x1,y1,x2,y2, got {text!r}") from None


def _point(text: str) -> tuple[float, float, bool]:
    """``--point``: ``x,y`` or ``x,y,+`` (on the object) or ``x,y,-`` (background), pixels."""
    from .errors import RegionError
    from .protocol.inputs import read_point

    try:
        return read_point(text)
    except RegionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _frame(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"frame must be a frame number >= 0, got {text!r}")
    return int(text)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        print(f"vitron-agent: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _turn_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", default="", help="what to do, in words")
    parser.add_argument("--image", action="append", default=[], metavar="PATH", help="attach an image (repeatable)")
    parser.add_argument("--video", action="append", default=[], metavar="PATH", help="attach a video")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--region", type=_region, metavar="X1,Y1,X2,Y2", help="box in pixels on the first medium")
    where.add_argument("--point", type=_point, action="append", metavar="X,Y[,+|-]",
                       help="a click in pixels on the first medium, + on the object (default), - background "
                            "(repeatable)")
    where.add_argument("--mask", metavar="FILE", help="a mask image (white on black) of the first medium's size")
    parser.add_argument("--frame", type=_frame, metavar="N", help="the video frame the region is drawn on")
    threads = parser.add_mutually_exclusive_group()
    threads.add_argument("--thread", metavar="ID", help="continue this conversation (it must exist)")
    threads.add_argument("--new-thread", metavar="ID", help="start a new conversation under this id")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state-dir", help="where threads, media and checkpoints live (default ~/.vitron-agent)")
    parser.add_argument("--planner", default="lite", metavar="SPEC",
                        help="'lite' (default: the small learned planner, rules as its fallback), 'rules' (keyword "
                             "rules only), 'vitron:PATH' (a VITRON checkpoint "
                             "folder) or 'module:factory' "
                             "returning a planner or a LangChain chat model")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vitron-agent", description="A vision agent: ground, segment, track, generate and edit.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run one turn")
    _turn_options(run)
    run.add_argument("--invoke", metavar="INVOCATIONS",
                     help="run these instead of planning: a JSON object or list (regions in pixels), or VITRON's "
                          "tag text such as '<module>B</module> <instruction>segmentation: the cup</instruction>'")
    plan = commands.add_parser("plan", help="show the planner's validated plan for a turn; run nothing")
    _turn_options(plan)
    chat = commands.add_parser("chat", help="interactive multi-turn chat")
    chat.add_argument("--thread")
    demo = commands.add_parser("demo", help="offline showcase on bundled real photos")
    demo.add_argument("--out", default="vitron-demo", help="folder for overlays and summary.json")
    experts = commands.add_parser("experts", help="list experts, whether they can run here, and how to fix it")
    experts.add_argument("--json", action="store_true")
    _serve_experts_command(commands)
    _train_command(commands)
    _weights_command(commands)
    _eval_command(commands)
    ui = commands.add_parser("ui", help="web UI (Gradio) on localhost")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--max-upload-mb", type=float, default=100, help="largest file a user may upload (MiB)")
    ui.add_argument("--hitl", action="store_true", help="ask before costly steps and for missing regions")
    for sub in (run, plan, chat, demo, experts, ui):
        _common(sub)
    for sub in (run, plan, chat, ui):
        sub.add_argument("--checkpointer", metavar="URL",
                         help="where threads are kept: 'sqlite' (default: in the state folder) or a PostgreSQL URL "
                              "postgresql://user:password@host:5432/db (the postgres extra); default "
                              "$VITRON_CHECKPOINTER")
        sub.add_argument("--experts", metavar="BACKEND",
                         help="where experts run: 'local' (default: in this process), 'ray' (Ray Serve on the local "
                              "Ray cluster; the ray extra), 'ray:ADDRESS' or 'ray://host:port'; default $VITRON_EXPERTS")
    return parser


def _serve_experts_command(commands: Any) -> None:
    serve = commands.add_parser("serve-experts", help="deploy the expert families on a Ray cluster as Ray Serve "
                                                      "applications (start the cluster first: ray start --head)")
    serve.add_argument("--address", default="auto",
                       help="the Ray cluster (default 'auto': the one running on this machine)")
    serve.add_argument("--family", action="append", metavar="NAME",
                       help="a family to deploy (repeatable; default: every family); 'vitron-agent experts' lists "
                            "each expert's extra, which is its family ('core' for none)")
    serve.add_argument("--replicas", default="1", metavar="N|MIN-MAX",
                       help="replicas per family: a count, or MIN-MAX for autoscaling (default 1)")
    serve.add_argument("--num-cpus", type=float, default=1.0, help="CPUs one replica reserves (default 1)")
    serve.add_argument("--num-gpus", type=float, default=0.0,
                       help="GPUs one replica reserves; 0.5 puts two replicas on one GPU (default 0)")
    serve.add_argument("--app-prefix", default=None, help="name applications <prefix><family> (default "
                                                          "vitron-experts-)")


def _train_command(commands: Any) -> None:
    from .finetune.cli import STAGES, add_train_arguments

    train = commands.add_parser("train", help="run a fine-tuning stage (see finetune/README.md)")
    train.add_argument("stage", choices=list(STAGES), help="; ".join(f"{k}: {v}" for k, v in STAGES.items()))
    add_train_arguments(train)


def _cmd_train(args: argparse.Namespace) -> int:
    from .finetune.cli import run_train, summary

    print(summary(args.stage, run_train(args.stage, args.config, args.set)))
    return EXIT_OK


def _weights_command(commands: Any) -> None:
    from .weights import PROFILES

    weights = commands.add_parser("weights", help="list, download and check the experts' weights")
    actions = weights.add_subparsers(dest="action", metavar="{list,pull,verify}", required=True, parser_class=_Parser)
    listing = actions.add_parser("list", help="each expert's weights, size, licence and whether it is installed")
    listing.add_argument("--json", action="store_true")
    pull = actions.add_parser("pull", help="download experts' weights (safetensors only; set HF_TOKEN for gated ones)")
    pull.add_argument("experts", nargs="*", metavar="EXPERT")
    pull.add_argument("--profile", choices=list(PROFILES),
                      help="the experts for a machine: cpu (small models), gpu24 (a 24 GB GPU), gpu80 (80 GB)")
    verify = actions.add_parser("verify", help="check installed weights: files, safetensors headers, hashes")
    verify.add_argument("experts", nargs="*", metavar="EXPERT")
    verify.add_argument("--json", action="store_true")


def _eval_command(commands: Any) -> None:
    evaluate = commands.add_parser("eval", help="run a benchmark of the paper on its data; write results and a table")
    evaluate.add_argument("bench", metavar="BENCH", help="benchmark name (README, Evaluation): refcoco, davis17, ...")
    evaluate.add_argument("--data", required=True, help="the benchmark's data folder, as its users download it")
    evaluate.add_argument("--split", default="", help="split to score (default: the benchmark's own)")
    evaluate.add_argument("--planner", metavar="SPEC", help="planner spec as for run (default: lite)")
    evaluate.add_argument("--expert", metavar="NAME", help="run this expert directly instead of the agent end to end")
    evaluate.add_argument("--limit", type=int, metavar="N", help="score only the first N samples")
    evaluate.add_argument("--out", help="folder for results.jsonl, summary.json, summary.md (default eval-BENCH)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of generation benchmarks (default 0)")
    evaluate.add_argument("--feature-model", metavar="PATH",
                          help="folder of the metrics' feature models (Inception, I3D, CLIP, DINO; README, Evaluation)")


def _cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .eval import EvalOptions, run_eval

    options = EvalOptions(data=Path(args.data), split=args.split, out=Path(args.out or f"eval-{args.bench}"),
                          limit=args.limit, planner=args.planner, expert=args.expert, seed=args.seed,
                          feature_model=Path(args.feature_model) if args.feature_model else None)
    summary = run_eval(args.bench, options)
    print(summary.markdown(), end="")
    print(f"results: {options.out}")
    return EXIT_OK


def _cmd_weights(args: argparse.Namespace) -> int:
    from . import weights

    if args.action == "list":
        rows = weights.catalog()
        print(json.dumps([row.to_json() for row in rows]) if args.json else weights.format_catalog(rows))
        return EXIT_OK
    if args.action == "pull":
        failed = weights.pull(args.experts, profile=args.profile, log=lambda line: print(line, flush=True))
        if failed:
            print(f"vitron-agent: could not pull {', '.join(failed)}", file=sys.stderr)
        return EXIT_BAD_INPUT if failed else EXIT_OK
    checked = weights.verify(args.experts)
    print(json.dumps([c.to_json() for c in checked]) if args.json else weights.format_checks(checked))
    return EXIT_OK if all(c.ok for c in checked) else EXIT_INTERNAL


def _cmd_serve_experts(args: argparse.Namespace) -> int:
    """Deploy (or redeploy) the families and return; the applications live on in the cluster."""
    from dataclasses import replace

    from .errors import BadInputError
    from .experts.ray_serve import FamilySettings, RayServeSettings, all_families, deploy_families
    from .experts.registry import ExpertRegistry

    low, _, high = args.replicas.partition("-")
    try:
        replicas: int | tuple[int, int] = (int(low), int(high)) if high else int(low)
    except ValueError:
        raise BadInputError(f"--replicas takes N or MIN-MAX, got {args.replicas!r}") from None
    registry = ExpertRegistry.default()
    families = args.family or all_families(registry)
    unknown = sorted(set(families) - set(all_families(registry)))
    if unknown:
        raise BadInputError(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
                            f"known: {', '.join(all_families(registry))}")
    settings = RayServeSettings(address=args.address,
                                default=FamilySettings(replicas=replicas, num_cpus=args.num_cpus,
                                                       num_gpus=args.num_gpus))
    if args.app_prefix:
        settings = replace(settings, app_prefix=args.app_prefix)
    deploy_families(registry, settings, families)
    print(f"deployed on Ray Serve: {', '.join(settings.app_prefix + f for f in families)}; agents reach them with "
          f"--experts ray:{args.address} (or VITRON_EXPERTS=ray:{args.address})")
    return EXIT_OK


def make_agent(args: argparse.Namespace) -> Any:
    """The agent the CLI options describe."""
    from .agent import VitronAgent
    from .config import AgentConfig

    return VitronAgent(AgentConfig(**_config_options(args)), planner=_planner(args.planner))


def _config_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``AgentConfig`` settings given on the command line (``--state-dir``, ``--checkpointer``); the rest
    keep their defaults, which read the environment."""
    options: dict[str, Any] = {}
    if args.state_dir:
        options["state_dir"] = args.state_dir
    if args.checkpointer:
        options["checkpointer"] = args.checkpointer
    if getattr(args, "experts", None):
        options["experts"] = args.experts
    return options


def _threads_at(agent: Any) -> str:
    """Where the agent keeps threads, for messages: its state folder, or its PostgreSQL server."""
    from .stores.checkpoints import describe_checkpointer, is_sqlite

    url = agent.config.checkpointer
    return str(agent.config.state_dir) if is_sqlite(url) else describe_checkpointer(url)


def _planner(spec: str) -> Any:
    """The planner a ``--planner`` value names (imported only when a command needs one)."""
    from .planners.spec import planner_from_spec

    return planner_from_spec(spec)


def exit_code(result: Any) -> int:
    """0 if anything succeeded or nothing failed; else 2 for the user's problems, 1 for crashes."""
    if not result.errors or any(a for a in result.artifacts):
        return EXIT_OK
    categories = {e.get("category") for e in result.errors}
    return EXIT_BAD_INPUT if categories <= set(_USER_CATEGORIES) else EXIT_INTERNAL


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    print(result.reply)
    for artifact in result.artifacts:
        print(f"  {artifact.id}: {artifact.kind} {artifact.width}x{artifact.height} -> {artifact.path}")
    if result.interrupt:
        print(f"  paused: {result.interrupt}")


def _cmd_turn(args: argparse.Namespace) -> int:
    region = args.region if args.region is not None else args.point if args.point else args.mask
    if args.frame is not None and region is None:
        raise _bad_input("--frame says which video frame a region is drawn on; give --region, --point or --mask too")
    agent = make_agent(args)
    with agent:
        thread = _thread(agent, args)
        if args.command == "plan":
            result = agent.plan(args.text, images=args.image, videos=args.video, region=region, frame=args.frame,
                                thread=thread)
        else:
            invocations = _invocations(args.invoke) if args.invoke else None
            result = agent.invoke(args.text, images=args.image, videos=args.video, region=region, frame=args.frame,
                                  thread=thread, invocations=invocations)
    _print_result(result, args.json)
    code = exit_code(result)
    if code:
        print(f"vitron-agent: {_one_line(Exception(result.errors[0]['message']))}", file=sys.stderr)
    return code


def _thread(agent: Any, args: argparse.Namespace) -> str | None:
    """The thread to run on: ``--thread`` must exist, ``--new-thread`` must not; neither: a new one."""
    if args.new_thread is not None:
        if agent.has_thread(args.new_thread):
            raise _bad_input(f"thread {args.new_thread!r} already exists in {_threads_at(agent)}; continue it "
                             "with --thread")
        return args.new_thread
    if args.thread is not None and not agent.has_thread(args.thread):
        raise _bad_input(f"no thread {args.thread!r} in {_threads_at(agent)}; leave out --thread to start a "
                         "new conversation, or use --new-thread ID to start one under this id")
    return args.thread


def _bad_input(message: str) -> Exception:
    from .errors import BadInputError

    return BadInputError(message)


def _invocations(text: str) -> list[dict[str, Any]] | str:
    from .errors import BadInputError

    if not text.lstrip().startswith(("{", "[")):
        return text  # the tag form, parsed against the turn's media sizes
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"--invoke is not valid JSON ({exc.msg} at character {exc.pos})") from None
    data = data if isinstance(data, list) else [data]
    if not all(isinstance(d, dict) for d in data):
        raise BadInputError("--invoke must be a JSON object or a list of objects")
    return data


def _cmd_experts(args: argparse.Namespace) -> int:
    from .experts.registry import ExpertRegistry
    from .protocol.tasks import task_spec

    registry = ExpertRegistry.default()
    rows = []
    for name, spec in registry.specs().items():
        state = registry.availability(name)
        tasks = [f"{t} ({', '.join(spec.edit_ops)})" if task_spec(t).is_edit else t for t in spec.tasks]
        rows.append({"name": name, "tasks": tasks, "available": state.ok, "reason": state.reason,
                     "fix": state.fix, "weights": spec.weights, "looked_in": state.weights_path,
                     "extra": spec.extra, "description": spec.description})
    if args.json:
        print(json.dumps(rows))
        return EXIT_OK
    for row in rows:
        mark = "ok " if row["available"] else "-- "
        print(f"{mark}{row['name']:<16} {', '.join(row['tasks']):<30} {row['description']}")
        if not row["available"]:
            print(f"    {row['reason']}. {row['fix']}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; never shows a traceback for bad input."""
    from .errors import BadInputError, VitronError

    args = build_parser().parse_args(argv)
    if (args.command, getattr(args, "action", None)) != ("weights", "pull"):  # only a pull goes online
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        if args.command == "weights":
            return _cmd_weights(args)
        if args.command in ("run", "plan"):
            return _cmd_turn(args)
        if args.command == "experts":
            return _cmd_experts(args)
        if args.command == "serve-experts":
            return _cmd_serve_experts(args)
        if args.command == "eval":
            return _cmd_eval(args)
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(args.out, state_dir=args.state_dir)
        if args.command == "ui":
            from .ui.app import serve

            return serve(host=args.host, port=args.port, state_dir=args.state_dir, checkpointer=args.checkpointer,
                         experts=args.experts,
                         planner=_planner(args.planner),
                         human_in_the_loop=args.hitl, max_upload_mb=args.max_upload_mb)
        from .chat import run_chat

        agent = make_agent(args)
        with agent:
            if args.thread is not None and not agent.has_thread(args.thread):
                raise _bad_input(f"no thread {args.thread!r} in {_threads_at(agent)}; leave out --thread to start "
                                 "a new conversation")
            return run_chat(agent, thread=args.thread)
    except BadInputError as exc:
        print(f"vitron-agent: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except VitronError as exc:
        print(f"vitron-agent: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT if exc.category == "unavailable" else EXIT_INTERNAL
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # internal failure: one line, and the traceback only on request
        if os.environ.get("VITRON_DEBUG"):
            raise
        print(f"vitron-agent: internal error: {type(exc).__name__}: {_one_line(exc)} (set VITRON_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


if __name__ == "__main__":
    raise SystemExit(main())
