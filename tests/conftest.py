"""Shared fixtures: offline environment, real photos, agents built on temporary state directories."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")


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


@pytest.fixture
def make_agent(tmp_path: Path):
    """Build agents on a temporary state dir (SQLite checkpointer); closed after the test."""
    from vitron_agent import AgentConfig, VitronAgent

    made = []

    def build(**kwargs):
        config = kwargs.pop("config", None) or AgentConfig(state_dir=tmp_path / "state")
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
