"""Shared fixtures: offline environment, real photos, agents built on temporary state directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.pop("VITRON_CHECKPOINTER", None)  # tests pick their checkpointer themselves


def save_png(array: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scikit-image's real photos saved as PNG files: astronaut, coffee, chelsea."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    return {name: save_png(getattr(data, name)(), folder / f"{name}.png") for name in ("astronaut", "coffee", "chelsea")}


@pytest.fixture
def spot_image(tmp_path: Path) -> Path:
    """A 120x100 black image with one white 20x10 spot at x 50-70, y 30-40."""
    image = np.zeros((100, 120, 3), np.uint8)
    image[30:40, 50:70] = 255
    return save_png(image, tmp_path / "spot.png")


@pytest.fixture
def synthetic_registry():
    from vitron_agent.experts.registry import ExpertRegistry

    from .synthetic_experts import BoxMaskExpert, BrightSpotGrounder, InvertRemover

    registry = ExpertRegistry()
    for expert in (BoxMaskExpert, BrightSpotGrounder, InvertRemover):
        registry.register(expert)
    return registry


CHECKPOINTERS = ["sqlite", "postgres"]
"""The backends thread tests run on: SQLite in the state folder, and PostgreSQL (a fresh database a test)."""


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for the session (``$VITRON_TEST_POSTGRES_URL``, else one started in a temporary
    folder and stopped at the end); skips when the extra or the server binaries are missing."""
    pytest.importorskip("langgraph.checkpoint.postgres", reason='needs the postgres extra: pip install -e ".[postgres]"')
    from .postgres_server import postgres_server

    given = os.environ.get("VITRON_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    with ExitStack() as running:
        try:
            url = running.enter_context(postgres_server())
        except RuntimeError as exc:
            pytest.skip(str(exc))
        yield url


@pytest.fixture(scope="module", params=CHECKPOINTERS)
def checkpointer_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: a test that asks for it (or for ``checkpointer_url``) runs on both."""
    return request.param


@pytest.fixture
def checkpointer_url(checkpointer_backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``AgentConfig.checkpointer`` for this test's backend: None (SQLite in the state folder) or the URL of a
    fresh PostgreSQL database, dropped afterwards."""
    yield from fresh_checkpointer(checkpointer_backend, request)


def fresh_checkpointer(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """What ``checkpointer_url`` yields, for fixtures of any scope."""
    if backend == "sqlite":
        yield None
        return
    from .postgres_server import create_database, drop_database

    server = request.getfixturevalue("postgres_server_url")
    url = create_database(server)
    yield url
    drop_database(server, url)


@pytest.fixture
def make_agent(tmp_path: Path, request: pytest.FixtureRequest):
    """Build agents on a temporary state dir; closed after the test. SQLite, or in a test that asks for
    ``checkpointer_url`` the checkpointer it names (configs given without one get it too)."""
    from vitron_agent import AgentConfig, VitronAgent

    url = request.getfixturevalue("checkpointer_url") if "checkpointer_url" in request.fixturenames else None
    made = []

    def build(**kwargs):
        config = kwargs.pop("config", None) or AgentConfig(state_dir=tmp_path / "state")
        if url is not None and config.checkpointer is None:
            config = replace(config, checkpointer=url)
        agent = VitronAgent(config, **kwargs)
        made.append(agent)
        return agent

    yield build
    for agent in made:
        agent.close()


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module of tiny models: on shared cores, far faster than contending threads."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
