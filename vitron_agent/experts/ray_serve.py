"""Experts on Ray Serve: one deployment per expert family, the graph and the stores in the agent process.

``RayServePool`` has the ``ModelPool`` interface the graph calls (``with pool.use(name) as expert``), but
``expert.run(call)`` sends the resolved call (its arrays travel as bytes through Ray's object store) to the
family's deployment and returns the ``ExpertResult`` the replica computed. Inside a replica an ordinary
``ModelPool`` loads the family's experts lazily and keeps them warm under its budgets: model multiplexing
within a family, as in one process. Progress the expert reports streams back and reaches the turn's stream.

Families follow the extras experts need (``sam``, ``diffusion``, ``yolo``, ...; ``core`` for the embedded
OpenCV ones), so a GPU family can get GPU fractions and replicas of its own while the CPU ones stay small.
Ray is imported only here, and only when this backend is chosen.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInputError, ExpertFailure, UnavailableError, VitronError
from .base import ExpertCall, ExpertResult, ExpertSpec
from .pool import ModelPool, PoolStats
from .registry import ExpertRegistry

__all__ = [
    "APP_PREFIX",
    "FamilySettings",
    "RayServeSettings",
    "RayServePool",
    "ExpertFamily",
    "all_families",
    "family_of",
    "deploy_families",
    "parse_backend",
]

APP_PREFIX = "vitron-experts-"
"""Each family is one Serve application, ``vitron-experts-<family>``, holding its one deployment."""

CORE_FAMILY = "core"


def family_of(spec: ExpertSpec) -> str:
    """The family an expert is served in: the extra it needs (experts sharing libraries share replicas), or
    ``core`` for those the base install runs."""
    return spec.extra or CORE_FAMILY


@dataclass(frozen=True)
class FamilySettings:
    """How one family's deployment runs.

    ``replicas``: a fixed count, or ``(min, max)`` for Serve's autoscaling on ongoing requests.
    ``num_cpus`` / ``num_gpus``: Ray resources one replica reserves (``num_gpus=0.5`` puts two on a GPU).
    ``max_ongoing_requests``: calls one replica takes at once (different experts run in parallel, calls to one
    expert take turns, as in the in-process pool).
    ``ram_budget`` / ``vram_budget``: the replica's own pool budgets, in bytes (None: unlimited).
    """

    replicas: int | tuple[int, int] = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    max_ongoing_requests: int = 8
    ram_budget: int | None = None
    vram_budget: int | None = None

    def deployment_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Deployment.options``."""
        options: dict[str, Any] = {
            "ray_actor_options": {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus},
            "max_ongoing_requests": self.max_ongoing_requests,
        }
        if isinstance(self.replicas, tuple):
            low, high = self.replicas
            options["autoscaling_config"] = {"min_replicas": low, "max_replicas": high,
                                             "target_ongoing_requests": max(1, self.max_ongoing_requests // 2)}
        else:
            options["num_replicas"] = self.replicas
        return options


@dataclass(frozen=True)
class RayServeSettings:
    """Where the expert service runs and how its families are deployed.

    ``address``: the Ray cluster (``auto``: the one ``ray start --head`` runs on this machine; None: that one,
    else a local one started in this process).
    ``app_prefix``: the family ``f`` is the Serve application ``<app_prefix>f`` (agents with other registries
    can share a cluster under other prefixes).
    ``deploy``: deploy a family's application when the cluster lacks it (an agent alone); with False, only
    ``vitron-agent serve-experts`` deploys, and a missing family is an error that says so.
    ``families``: settings per family name; the others get ``default``.
    ``device`` / ``dtype`` / ``cpu_offload``: as ``AgentConfig``'s, for the replicas' pools.
    """

    address: str | None = None
    app_prefix: str = APP_PREFIX
    deploy: bool = True
    families: dict[str, FamilySettings] = field(default_factory=dict)
    default: FamilySettings = field(default_factory=FamilySettings)
    device: str = "auto"
    dtype: str | None = None
    cpu_offload: bool = False

    def for_family(self, family: str) -> FamilySettings:
        return self.families.get(family, self.default)


def parse_backend(text: str | None) -> RayServeSettings | None:
    """``AgentConfig.experts``: None or ``local`` -> None (the in-process pool); ``ray`` -> the local cluster
    (``$RAY_ADDRESS`` or one started here); ``ray://host:port`` (Ray Client) or ``ray:ADDRESS`` (``ray:auto``,
    ``ray:10.0.0.2:6379``) -> that cluster."""
    if text is None or text in ("", "local"):
        return None
    if text == "ray":
        return RayServeSettings()
    if text.startswith("ray://"):
        return RayServeSettings(address=text)
    if text.startswith("ray:") and len(text) > 4:
        return RayServeSettings(address=text[4:])
    raise BadInputError(f"experts must be 'local', 'ray', 'ray:ADDRESS' or 'ray://host:port', got {text!r}")


# -- inside a replica -----------------------------------------------------------------------------------
def _no_progress(fraction: float, message: str) -> None:
    """The progress callback calls travel with (module-level, so it pickles by name); the replica sets its own."""


class ExpertFamily:
    """The body of one family's deployment: a model pool over the registry, run one call at a time per expert.

    ``run`` is a generator: ``("progress", fraction, message)`` events while the expert works, then
    ``("result", ExpertResult)`` or ``("error", exception)``, so the agent reports the expert's own error."""

    def __init__(self, registry: ExpertRegistry, family: str, settings: RayServeSettings) -> None:
        budget = settings.for_family(family)
        self.family = family
        self.pool = ModelPool(registry, ram_budget=budget.ram_budget, vram_budget=budget.vram_budget,
                              device=settings.device, dtype=settings.dtype, cpu_offload=settings.cpu_offload)

    def run(self, name: str, call: ExpertCall) -> Iterator[tuple[Any, ...]]:
        events: queue.Queue[tuple[Any, ...]] = queue.Queue()

        def work() -> None:
            try:
                spec = self.pool.registry.spec(name)
                if family_of(spec) != self.family:
                    raise UnavailableError(f"{name} is served by family {family_of(spec)!r}, not {self.family!r}")
                with self.pool.use(name) as expert:
                    result = expert.run(dataclasses.replace(call, progress=lambda f, m: events.put(("progress", f, m))))
                events.put(("result", result))
            except BaseException as exc:  # sent to the agent, which reports it as the in-process pool would
                events.put(("error", _portable(exc)))

        threading.Thread(target=work, name=f"vitron-{name}", daemon=True).start()
        while True:
            event = events.get()
            yield event
            if event[0] != "progress":
                return

    def loaded(self) -> list[str]:
        return self.pool.loaded()

    def memory(self) -> dict[str, int]:
        return self.pool.memory()

    def evict(self, name: str) -> bool:
        return self.pool.evict(name)

    def stats(self) -> PoolStats:
        return self.pool.stats


def _portable(exc: BaseException) -> BaseException:
    """The exception to send back: our own errors as they are (the agent reports their category), any other as a
    plain one with its type and words (a library's exception class may not exist in the agent process)."""
    if isinstance(exc, VitronError):
        return exc
    return RuntimeError(f"{type(exc).__name__}: {exc}")


# -- in the agent process -------------------------------------------------------------------------------
class RemoteExpert:
    """What ``RayServePool.use`` yields: ``run`` sends the call to the family's deployment."""

    def __init__(self, name: str, family: str, handle: Any) -> None:
        self.name = name
        self.family = family
        self.handle = handle

    def run(self, call: ExpertCall) -> ExpertResult:
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, RayError

        sent = dataclasses.replace(call, progress=_no_progress)
        try:
            for event in self.handle.options(stream=True).run.remote(self.name, sent):
                if event[0] == "progress":
                    call.progress(event[1], event[2])
                elif event[0] == "result":
                    return event[1]
                else:
                    raise event[1]
        except (ActorDiedError, ActorUnavailableError, RayActorError) as exc:
            raise ExpertFailure(
                f"the expert service lost the {self.family!r} replica running {self.name} during the call "
                f"({_first_line(exc)}); nothing was stored; Serve starts a new replica, so ask again"
            ) from None
        except RayError as exc:
            raise ExpertFailure(f"the expert service failed on {self.name}: {_first_line(exc)}") from None
        raise ExpertFailure(f"the expert service ended the {self.name} call without a result")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class RayServePool:
    """The expert pool of an agent whose experts run on Ray Serve (``AgentConfig.experts = "ray"``).

    The agent keeps its registry (routing, the catalogue, availability); the replicas load what it names.
    ``stats`` counts this process's calls per expert (``hits``); loads happen in the replicas."""

    def __init__(self, registry: ExpertRegistry, settings: RayServeSettings | None = None) -> None:
        self.registry = registry
        self.settings = settings or RayServeSettings()
        self.stats = PoolStats()
        self._handles: dict[str, Any] = {}
        self._lock = threading.Lock()

    @contextmanager
    def use(self, name: str) -> Iterator[RemoteExpert]:
        family = family_of(self.registry.spec(name))
        with self._lock:
            self.stats.hits[name] = self.stats.hits.get(name, 0) + 1
        yield RemoteExpert(name, family, self.handle(family))

    def handle(self, family: str) -> Any:
        """The family's deployment handle, deploying the family first where settings allow."""
        with self._lock:
            if family not in self._handles:
                connect(self.settings.address)
                self._handles[family] = _app_handle(self.settings.app_prefix + family) or self._deploy(family)
            return self._handles[family]

    def _deploy(self, family: str) -> Any:
        if not self.settings.deploy:
            raise UnavailableError(f"the expert service on Ray has no {family!r} family deployed; start it with "
                                   f"`vitron-agent serve-experts --family {family}`")
        return deploy_families(self.registry, self.settings, [family])[family]

    def families(self) -> list[str]:
        return sorted(self._handles)

    def loaded(self) -> list[str]:
        """Experts loaded in one replica of each family this process has used."""
        return [name for family in self.families() for name in self.handle(family).loaded.remote().result()]

    def memory(self) -> dict[str, int]:
        totals = {"ram": 0, "vram": 0}
        for family in self.families():
            for kind, held in self.handle(family).memory.remote().result().items():
                totals[kind] = totals.get(kind, 0) + held
        return totals

    def evict(self, name: str) -> bool:
        family = family_of(self.registry.spec(name))
        return family in self._handles and bool(self.handle(family).evict.remote(name).result())

    def clear(self) -> None:
        for name in self.loaded():
            self.evict(name)


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` once per process (None: the local one, else a new local one)."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, namespace="vitron-agent", include_dashboard=False, log_to_driver=False,
                 configure_logging=False, ignore_reinit_error=True)


def _app_handle(app: str) -> Any | None:
    from ray import serve
    from ray.serve.exceptions import RayServeException

    try:
        return serve.get_app_handle(app)
    except (RayServeException, KeyError, ValueError):
        return None


def deploy_families(registry: ExpertRegistry, settings: RayServeSettings, families: list[str]) -> dict[str, Any]:
    """Deploy each family as its application (replacing one of that name) and return their handles; Serve
    starts without an HTTP proxy: the agent calls replicas through handles."""
    from ray import serve

    connect(settings.address)
    serve.start(proxy_location="Disabled")
    deployment = serve.deployment(ExpertFamily, name="ExpertFamily")
    handles = {}
    for family in families:
        bound = deployment.options(**settings.for_family(family).deployment_options()).bind(registry, family, settings)
        handles[family] = serve.run(bound, name=settings.app_prefix + family, route_prefix=None)
    return handles


def all_families(registry: ExpertRegistry) -> list[str]:
    """Every family some registered expert belongs to."""
    return sorted({family_of(spec) for spec in registry.specs().values()})
