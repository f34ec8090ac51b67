"""Bad media, given to a thread mid-conversation: 22 kinds of broken, hostile or odd file, each built here
(25 cases: some are given both as an image and as a video), 4 paths that are no readable file of ours
(a directory, a missing file, an unreadable one, a symlink out of the allowed root) and 10 path
traversal strings in planner output (tag text and JSON).

Each is either refused with one clear line (a ``MediaError`` naming the file and why) or accepted
through a documented conversion checked on pixels. Refused or not, the thread goes on: the next good
turn succeeds and the earlier messages and media are intact. The content decides what a file is,
never its extension: a PNG named ``.mp4`` is a PNG (fine as an image, refused as a video).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitron_agent import AgentConfig
from vitron_agent.errors import BadInputError, MediaError
from vitron_agent.experts.base import Expert, ExpertCall, ExpertResult, ExpertSpec
from vitron_agent.stores import MediaRef

from ..conftest import save_png
from ..synthetic_experts import BoxMaskExpert
from .bad_files import KINDS, Kind, png
from .conftest import assert_actionable, assert_thread_goes_on, begin_thread, small_photo


class EchoExpert(Expert):
    """Returns its input image unchanged: its output is exactly the pixels an expert sees."""

    spec = ExpertSpec(name="echo", tasks=("edit_image",), edit_ops=("restyle",), description="Returns its input.",
                      outputs=("image",))

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        return ExpertResult(images=[call.images[0].copy()], text="echo")


# --- the thread around each bad file ---------------------------------------------------------


@pytest.fixture
def agent(make_agent, synthetic_registry, tmp_path):
    synthetic_registry.register(EchoExpert)
    synthetic_registry.register(BoxMaskExpert)
    return make_agent(registry=synthetic_registry, config=AgentConfig(state_dir=tmp_path / "state"))


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: f"{k.name}-as-{k.given_as}")
def test_bad_file_is_refused_or_converted_and_the_thread_goes_on(kind, agent, good_image, tmp_path):
    thread = "bad-media"
    before = begin_thread(agent, good_image, thread)
    path = tmp_path / "given" / kind.name
    path.parent.mkdir()
    path.write_bytes(kind.build())
    media = {"images": [path]} if kind.given_as == "image" else {"videos": [path]}
    if kind.refused is not None:
        with pytest.raises(MediaError) as info:
            agent.invoke("look at this", thread=thread, **media)
        assert kind.refused in str(info.value)
        assert_actionable(str(info.value), names=kind.name)
        assert agent.state(thread) == before  # refused before anything was saved
    else:
        _accepted(agent, thread, kind, media)
    assert_thread_goes_on(agent, thread, before, good_image)


def _accepted(agent, thread: str, kind: Kind, media: dict[str, list[Path]]) -> None:
    if kind.given_as == "image":
        echo = {"module": "echo", "task": "edit_image", "args": {"op": "restyle"}, "inputs": ["u1"]}
        result = agent.invoke("", thread=thread, invocations=[echo], **media)
        assert result.errors == [], result.errors
        kind.check(np.asarray(Image.open(result.artifacts[0].path)))
    else:
        result = agent.invoke("here is a clip", thread=thread, invocations=[], **media)
        assert result.errors == [], result.errors
        ref = MediaRef(**agent.state(thread)["media"]["u1"])
        assert ref.kind == "video"
        store, _ = agent.context.stores(thread)
        kind.check(*store.load_video(ref))


# --- files that are not files, or not ours -----------------------------------------------------


def test_a_directory_is_refused(agent, good_image, tmp_path):
    before = begin_thread(agent, good_image, "dir")
    folder = tmp_path / "photos.png"
    folder.mkdir()
    with pytest.raises(MediaError) as info:
        agent.invoke("look", thread="dir", images=[folder])
    assert "not a regular file (a directory)" in str(info.value)
    assert_actionable(str(info.value), names="photos.png")
    assert_thread_goes_on(agent, "dir", before, good_image)


def test_a_missing_file_is_refused(agent, good_image, tmp_path):
    before = begin_thread(agent, good_image, "missing")
    with pytest.raises(MediaError) as info:
        agent.invoke("look", thread="missing", videos=[tmp_path / "nowhere.mp4"])
    assert_actionable(str(info.value), names="nowhere.mp4")
    assert_thread_goes_on(agent, "missing", before, good_image)


@contextmanager
def _as_nobody():
    """Drop the effective user to 'nobody' (root reads anything, so the test would mean nothing as root)."""
    if os.geteuid() != 0:
        yield
        return
    try:
        os.seteuid(65534)
    except (PermissionError, AttributeError):
        pytest.skip("running as root without the right to drop privileges")
    try:
        yield
    finally:
        os.seteuid(0)


def test_an_unreadable_file_is_refused(agent, good_image):
    before = begin_thread(agent, good_image, "unreadable")
    folder = Path(tempfile.mkdtemp(prefix="vitron-unreadable-"))
    try:
        folder.chmod(0o755)
        locked = folder / "locked.png"
        locked.write_bytes(png(small_photo(4)))
        locked.chmod(0)
        with _as_nobody(), pytest.raises(MediaError) as info:
            agent.invoke("look", thread="unreadable", images=[locked])
        assert "cannot be read (Permission denied)" in str(info.value)
        assert_actionable(str(info.value), names="locked.png")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert agent.state("unreadable") == before
    assert_thread_goes_on(agent, "unreadable", before, good_image)


def test_a_symlink_out_of_the_allowed_root_is_refused(make_agent, synthetic_registry, good_image, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = save_png(small_photo(5), tmp_path / "outside.png")
    (inbox / "escape.png").symlink_to(secret)
    (inbox / "sneaky.png").symlink_to(Path("..") / "outside.png")
    inside = Path(shutil.copy(good_image, inbox / "good.png"))
    synthetic_registry.register(BoxMaskExpert)
    agent = make_agent(registry=synthetic_registry,
                       config=AgentConfig(state_dir=tmp_path / "state", media_roots=[inbox]))
    before = begin_thread(agent, inside, "links")
    for path in (inbox / "escape.png", inbox / "sneaky.png", inbox / ".." / "outside.png", secret):
        with pytest.raises(MediaError) as info:
            agent.invoke("look", thread="links", images=[path])
        assert "resolves outside the allowed folders" in str(info.value)
        assert_actionable(str(info.value), names=path.name)
    assert agent.state("links") == before
    with pytest.raises(MediaError):
        agent.attach("links", images=[inbox / "escape.png"])  # the host agent's tools use the same door
    assert_thread_goes_on(agent, "links", before, inside)


# --- paths in planner output ---------------------------------------------------------------------

TRAVERSAL_PLANS = [
    ("<module>box_mask</module> <instruction>segment: x</instruction> <input>../../etc/passwd</input>",
     "'../../etc/passwd' is not a media id"),
    ("<module>box_mask</module> <instruction>segment: x</instruction> <region>../../x</region>",
     "invocation #1 <region>: expected finite numbers such as 0.120, got '../../x'"),
    ("<module>box_mask</module> <instruction>segment: x</instruction> <region>o1/../../x</region>",
     "got 'o1/../../x'"),
    ("<module>../../tools/evil</module> <instruction>segment: x</instruction>",
     "module must be an expert name such as 'grabcut'"),
    ("<module>box_mask</module> <instruction>segment: x</instruction> <SP>../../signals/s1</SP>",
     "signal must be a signal-store id"),
]


@pytest.mark.parametrize("text, reason", TRAVERSAL_PLANS, ids=["input", "region", "region-ref", "module", "signal"])
def test_path_traversal_in_planner_text_is_an_error_not_a_file_access(text, reason, agent, good_image):
    before = begin_thread(agent, good_image, "traversal")
    result = agent.invoke("do it", thread="traversal", invocations=text)
    assert result.artifacts == [] and len(result.errors) == 1
    assert reason in result.errors[0]["message"]
    assert_actionable(result.errors[0]["message"])
    assert_thread_goes_on(agent, "traversal", before, good_image)


@pytest.mark.parametrize("invocation", [
    {"task": "segment", "inputs": ["../../etc/passwd"]},
    {"task": "segment", "region": {"ref": "../../o1"}},
    {"task": "segment", "region": {"box": [0, 0, 9, 9]}, "inputs": ["/etc/shadow"]},
    {"task": "edit_image", "module": "..", "args": {"op": "remove"}},
    {"task": "segment", "signal": "../s0123456789abcdef"},
])
def test_path_traversal_in_json_invocations_is_refused_before_the_turn(invocation, agent, good_image):
    before = begin_thread(agent, good_image, "traversal-json")
    with pytest.raises(BadInputError) as info:
        agent.invoke("do it", thread="traversal-json", invocations=[invocation])
    assert_actionable(str(info.value))
    assert agent.state("traversal-json") == before
    assert_thread_goes_on(agent, "traversal-json", before, good_image)

