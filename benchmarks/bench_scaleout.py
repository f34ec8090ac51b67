"""Scale-out load test: two agent processes sharing PostgreSQL, one state folder and one Ray Serve cluster,
against one process with the embedded defaults (in-process experts, SQLite), on the same conversations.

Each agent process serves the LangGraph graph of ``vitron_agent.serve`` over HTTP on loopback, as a server
would; a client sends each conversation's turns one after another, and turn k of a conversation goes to
process (conversation + k) mod 2, so every thread is continued by both processes in turn. All conversations run
at once. Every turn's outputs (reply, errors, each stored file's SHA-256) must equal the single process's,
and every thread must hold all its turns afterwards. Repetitions alternate which set-up runs first.

    python benchmarks/bench_scaleout.py [--conversations 16] [--turns 5] [--repeats 2]

Needs PostgreSQL's binaries (``initdb``) and the ``ray`` extra; it starts and stops both itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

PHOTOS = {"astronaut": (175, 55, 265, 170), "coffee": (172, 18, 410, 300), "chelsea": (140, 40, 330, 260),
          "rocket": (308, 127, 336, 360)}
"""The photos conversations open with, and the box drawn on each (the face, the cup, the cat's head, the rocket)."""

SCRIPT = ["segment the object in the box", "remove it", "find the faces", "how many faces are there?",
          "make it look like a pencil sketch"]
"""One conversation: a segmentation from a drawn box, then an edit, a grounding, a question and a restyle, each on
the latest result."""


RAY_ENV = {"RAY_AUTH_MODE": "token"}
"""The cluster and every process that joins it use Ray's token authentication (the token in ~/.ray/auth_token)."""


@dataclass(frozen=True)
class TurnOutcome:
    conversation: int
    turn: int
    seconds: float
    reply: str
    errors: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    """(kind, SHA-256) of every stored output that is not a preview."""
    server: int
    """The process id of the agent process that ran the turn."""

    @property
    def outputs(self) -> tuple[Any, ...]:
        return self.reply, self.errors, self.files


@dataclass
class RunFigures:
    name: str
    wall: float
    outcomes: list[TurnOutcome]

    @property
    def turns_per_second(self) -> float:
        return len(self.outcomes) / self.wall

    def latency(self, q: float) -> float:
        seconds = sorted(o.seconds for o in self.outcomes)
        return seconds[min(len(seconds) - 1, int(round(q * (len(seconds) - 1))))]


# -- an agent process ----------------------------------------------------------------------------------------
def serve_worker(port_file: Path) -> None:
    """Serve ``POST /turn`` ({thread, text, images, region}) with the served graph until killed."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from vitron_agent.serve import agent_from_env, build_serve_graph

    agent = agent_from_env()
    graph = build_serve_graph(agent)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            start = time.perf_counter()
            state = graph.invoke({"messages": [{"role": "user", "content": request["text"]}],
                                  "images": request.get("images", []), "region": request.get("region"),
                                  "thread": request["thread"]},
                                 {"configurable": {"thread_id": uuid.uuid4().hex}})
            body = json.dumps({"reply": state.get("reply", ""), "errors": state.get("errors", []),
                               "artifacts": state.get("artifacts", []), "seconds": time.perf_counter() - start,
                               "pid": os.getpid()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # every conversation may connect at once; the default backlog of 5 resets some
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


@contextmanager
def agent_process(env: dict[str, str], log: Path):
    """A worker process with ``env`` (the agent's settings); yields its URL."""
    port_file = log.with_suffix(".port")
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, __file__, "--worker", str(port_file)], env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not port_file.exists() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"an agent process did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port_file.read_text()}/turn"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


# -- the client ----------------------------------------------------------------------------------------------
def post(url: str, request: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(request).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data, {"Content-Type": "application/json"}),
                                timeout=600) as response:
        return json.loads(response.read())


def run_conversations(urls: list[str], photos: dict[str, Path], conversations: int, turns: int,
                      prefix: str) -> RunFigures:
    """All conversations at once; turn k of conversation c goes to ``urls[(c + k) % len(urls)]``."""
    names = list(PHOTOS)

    def conversation(c: int) -> list[TurnOutcome]:
        name = names[c % len(names)]
        done = []
        for k in range(turns):
            request: dict[str, Any] = {"thread": f"{prefix}-c{c}", "text": SCRIPT[k % len(SCRIPT)]}
            if k == 0:
                request.update(images=[str(photos[name])], region=list(PHOTOS[name]))
            start = time.perf_counter()
            answer = post(urls[(c + k) % len(urls)], request)
            seconds = time.perf_counter() - start
            files = tuple((a["kind"], hashlib.sha256(Path(a["path"]).read_bytes()).hexdigest())
                          for a in answer["artifacts"] if not a["preview"])
            done.append(TurnOutcome(c, k, seconds, answer["reply"], tuple(answer["errors"]), files, answer["pid"]))
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(conversations) as pool:
        outcomes = [o for part in pool.map(conversation, range(conversations)) for o in part]
    return RunFigures(prefix, time.perf_counter() - start, outcomes)


def warm(urls: list[str], photos: dict[str, Path]) -> None:
    """One conversation per process first, so both set-ups are measured warm (experts loaded, planner read)."""
    for i, url in enumerate(urls):
        run_conversations([url], photos, 1, len(SCRIPT), f"warm-{i}-{uuid.uuid4().hex[:6]}")


# -- services ------------------------------------------------------------------------------------------------
@contextmanager
def ray_cluster(log: Path, cpus: int = 2):
    """``ray start --head --block`` on loopback, stopped (its whole process group) afterwards; yields its address."""
    from tests.ports import free_port

    port = free_port()
    ray = Path(sys.executable).with_name("ray")
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(ray), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
             f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **RAY_ENV})
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield address
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def deploy_experts(address: str, log: Path) -> None:
    """``vitron-agent serve-experts`` for the embedded family: one replica, no CPU reserved (two cores here)."""
    command = [str(Path(sys.executable).with_name("vitron-agent")), "serve-experts", "--address", address,
               "--family", "core", "--num-cpus", "0"]
    with open(log, "w") as out:
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=300,
                       env={**os.environ, **RAY_ENV})


def threads_complete(state_url: str, state_dir: Path, prefix: str, conversations: int, turns: int) -> bool:
    """Every thread of a run holds all its user turns (read back by a third process's agent)."""
    from vitron_agent import AgentConfig, VitronAgent

    with VitronAgent(AgentConfig(state_dir=state_dir, checkpointer=state_url)) as agent:
        for c in range(conversations):
            messages = agent.state(f"{prefix}-c{c}").get("messages", [])
            if sum(1 for m in messages if getattr(m, "type", None) == "human") != turns:
                return False
    return True


@dataclass
class LoadTest:
    """Figures of both set-ups over the repetitions, and whether every output matched."""

    single: list[RunFigures]
    scaled: list[RunFigures]
    mismatches: list[str]
    complete: bool


def run_load_test(work: Path, conversations: int, turns: int, repeats: int, log=print) -> LoadTest:
    from tests.finetune_data import write_photos
    from tests.postgres_server import create_database, postgres_server

    photos = write_photos(work / "photos", PHOTOS)
    shared, alone = work / "shared-state", work / "single-state"
    base_env = {"VITRON_MEDIA_ROOTS": str(work / "photos"), "VITRON_PLANNER": "lite", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "YOLO_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **RAY_ENV}
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server())
        url = create_database(server)
        log("PostgreSQL started")
        address = stack.enter_context(ray_cluster(work / "ray.log"))
        deploy_experts(address, work / "deploy.log")
        log(f"Ray Serve: core family deployed on {address}")
        scaled_env = {**base_env, "VITRON_STATE_DIR": str(shared), "VITRON_CHECKPOINTER": url,
                      "VITRON_EXPERTS": f"ray:{address}"}
        scaled_urls = [stack.enter_context(agent_process(scaled_env, work / f"agent-{i}.log")) for i in range(2)]
        single_url = stack.enter_context(agent_process({**base_env, "VITRON_STATE_DIR": str(alone),
                                                        "VITRON_CHECKPOINTER": "sqlite", "VITRON_EXPERTS": "local"},
                                                       work / "single.log"))
        warm(scaled_urls, photos)
        warm([single_url], photos)
        log("warm")
        single, scaled = [], []
        for r in range(repeats):
            order = [("single", [single_url]), ("scaled", scaled_urls)]
            for name, urls in order if r % 2 == 0 else order[::-1]:
                figures = run_conversations(urls, photos, conversations, turns, f"{name}-r{r}")
                (single if name == "single" else scaled).append(figures)
                log(f"round {r + 1} {name}: {figures.turns_per_second:.2f} turns/s, p50 "
                    f"{figures.latency(0.5) * 1e3:.0f} ms, p95 {figures.latency(0.95) * 1e3:.0f} ms")
        reference = {(o.conversation, o.turn): o.outputs for o in single[0].outcomes}
        mismatches = [f"{run.name} conversation {o.conversation} turn {o.turn}"
                      for run in (*single, *scaled) for o in run.outcomes
                      if o.outputs != reference[(o.conversation, o.turn)] or o.errors]
        complete = all(threads_complete(url, shared, run.name, conversations, turns) for run in scaled)
    return LoadTest(single, scaled, mismatches, complete)


def why_not_here() -> str | None:
    """What this machine lacks for the load test, or None."""
    import importlib.util

    from tests.postgres_server import find_binaries

    if importlib.util.find_spec("ray") is None:
        return 'Ray is not installed (pip install -e ".[ray]")'
    if find_binaries() is None:
        return "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--worker", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        serve_worker(Path(args.worker))
        return
    missing = why_not_here()
    if missing:
        print(f"summary: skipped: {missing}")
        return
    with tempfile.TemporaryDirectory(prefix="vitron-scaleout-") as work:
        result = run_load_test(Path(work), args.conversations, args.turns, args.repeats,
                               log=lambda line: print(line, flush=True))
    rows = [("single process (in-process experts, SQLite)", result.single),
            ("2 processes (PostgreSQL, shared folder, Ray Serve)", result.scaled)]
    print(f"\n{args.conversations} conversations x {args.turns} turns at once, {args.repeats} round(s), "
          f"{os.cpu_count()} CPUs")
    print(f"{'set-up':<52}{'turns/s':>9}{'p50 ms':>9}{'p95 ms':>9}")
    for name, runs in rows:
        print(f"{name:<52}{statistics.median(r.turns_per_second for r in runs):>9.2f}"
              f"{statistics.median(r.latency(0.5) for r in runs) * 1e3:>9.0f}"
              f"{statistics.median(r.latency(0.95) for r in runs) * 1e3:>9.0f}")
    ratio = statistics.median(s.turns_per_second / b.turns_per_second for s, b in zip(result.scaled, result.single))
    same = not result.mismatches
    print(f"outputs equal to the single process: {'all' if same else result.mismatches[:5]}; "
          f"threads complete: {result.complete}")
    print(f"summary: 2 agent processes on PostgreSQL + Ray Serve give {ratio:.2f}x the single process's turns/s "
          f"(paired over {args.repeats} rounds); every turn's outputs equal: {same}; nothing lost: {result.complete}")
    if not same or not result.complete:
        sys.exit(1)


if __name__ == "__main__":
    main()
