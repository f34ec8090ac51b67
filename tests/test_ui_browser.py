"""The web UI end to end, in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The suite serves the UI itself on 127.0.0.1 (a free port, in a thread of this process) and starts Chromium
with flags that keep it off the network. It uploads scikit-image's coffee photo, draws the box around the
cup by two clicks on the canvas, asks "segment the object in the box", and checks the mask overlay shows
in the chat and the mask covers the cup. Screenshots go to ``test-artifacts/`` (gitignored).

Needs the ``ui`` extra, ``playwright`` (the Python package only: no browser download) and a Chromium
executable (``apt-get install chromium chromium-driver``, as ``.ci/run`` does; ``$VITRON_CHROMIUM`` picks
another one). Without them the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from .ports import free_port

pytest.importorskip("gradio", reason='the web UI needs gradio: pip install "vitron-agent[ui]"')
pytest.importorskip("playwright.sync_api", reason="browser tests need playwright: pip install playwright")
CHROMIUM = os.environ.get("VITRON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium executable; install Debian's chromium (see .ci/run)"),
]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CUP = (172, 18, 410, 300)  # the coffee cup in skimage's coffee photo (600x400), pixels x1, y1, x2, y2
WAIT_MS = 120_000  # generous: the machine is shared; nothing here asserts on time
OFFLINE_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # every name fails; only loopback works
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The UI on 127.0.0.1, uploads capped at 2 MiB, human in the loop on (it only asks before edits)."""
    from vitron_agent import VitronAgent
    from vitron_agent.ui import build_app, launch, web_config

    root = tmp_path_factory.mktemp("ui")
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(root / "uploads"))
    agent = VitronAgent(web_config(root / "state", max_upload_mb=2, human_in_the_loop=True))
    app = build_app(agent)
    port = free_port()
    launch(app, agent, host="127.0.0.1", port=port, block=False)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", agent=agent)
    finally:
        app.close()
        agent.close()
        patch.undo()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=OFFLINE_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    """A fresh browser profile (empty localStorage: a new conversation) on the UI."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.url)
    page.locator("#vitron-upload").wait_for()
    yield page
    context.close()


@pytest.fixture(scope="module")
def coffee(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "coffee.png"
    Image.fromarray(data.coffee()).save(path)
    return path


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _upload(page, path: Path) -> None:
    page.set_input_files("#vitron-upload input[type=file]", str(path))


def _click_pixel(page, x: float, y: float) -> None:
    """Click the canvas at image pixel (x, y), mapping pixels to screen as Gradio maps clicks back
    (the image is scaled down to fit, never up, and centred)."""
    image = page.locator("#vitron-canvas img")
    page.wait_for_function("() => document.querySelector('#vitron-canvas img')?.naturalWidth > 0")
    box = image.bounding_box()
    width, height = image.evaluate("e => [e.naturalWidth, e.naturalHeight]")
    scale = min(box["width"] / width, box["height"] / height, 1)
    left = box["x"] + (box["width"] - width * scale) / 2
    top = box["y"] + (box["height"] - height * scale) / 2
    page.mouse.click(left + (x + 0.5) * scale, top + (y + 0.5) * scale)


def _region_text(page) -> str:
    return page.locator("#vitron-region textarea, #vitron-region input").first.input_value()


def _draw_box(page, box: tuple[int, int, int, int]) -> list[float]:
    """Two clicks on the canvas, as a user draws a box; returns the box the UI took."""
    _click_pixel(page, box[0], box[1])
    page.locator("#vitron-canvas img").wait_for()  # redrawn with the first corner marked
    page.wait_for_timeout(300)  # let the first click's event finish before the second (not an assertion)
    _click_pixel(page, box[2], box[3])
    page.wait_for_function("() => { const e = document.querySelector('#vitron-region textarea, #vitron-region input');"
                           " return e && e.value.split(',').length === 4; }")
    return [float(v) for v in _region_text(page).split(",")]


def _send(page, text: str) -> None:
    page.locator("#vitron-text textarea, #vitron-text input").first.fill(text)
    page.click("#vitron-send")


def _thread(page) -> str:
    page.wait_for_function("() => /Thread\\s+\\S+/.test(document.querySelector('#vitron-thread')?.innerText || '')")
    return page.locator("#vitron-thread").inner_text().split()[-1]


def _wait_for_chat_image(page, path: str) -> None:
    """The chat shows the file ``path`` (served under its own name) and the browser decoded it."""
    name = Path(path).name
    page.locator(f'#vitron-chat img[src$="/{name}"]').first.wait_for()
    page.wait_for_function(
        "name => [...document.querySelectorAll('#vitron-chat img')].some(i => i.src.endsWith('/' + name) && i.naturalWidth > 0)",
        arg=name)


def _finished_turn(page, server, task: str):
    """Wait for the trace of the finished ``task`` in the chat, then read the turn from the agent's checkpoint."""
    page.locator("#vitron-chat").get_by_text(re.compile(rf"{task} by \S+ \(done\)")).first.wait_for()
    return server.agent.result(_thread(page))


def _mask_box(path: str) -> tuple[int, int, int, int]:
    from PIL import Image

    mask = np.asarray(Image.open(path).convert("L")) > 127
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def test_a_box_drawn_on_a_photo_segments_the_cup_and_the_conversation_survives_a_reload(page, server, coffee):
    _upload(page, coffee)
    page.get_by_text("coffee.png (image 600x400)").wait_for()
    drawn = _draw_box(page, CUP)
    assert all(abs(got - want) <= 3 for got, want in zip(drawn, CUP)), drawn

    _send(page, "segment the object in the box")
    result = _finished_turn(page, server, "segment")
    assert result.errors == [] and result.invocations[0].region.box == tuple(drawn)
    overlay = next(a for a in result.artifacts if a.preview)
    mask = next(a for a in result.artifacts if a.kind == "mask")
    _wait_for_chat_image(page, overlay.path)
    _screenshot(page, "ui-segment.png")
    found = _mask_box(mask.path)
    assert _iou(found, CUP) > 0.5, (found, CUP)

    thread = _thread(page)
    page.reload()
    _wait_for_chat_image(page, overlay.path)  # rebuilt from the checkpoint, thread id kept by the browser
    assert _thread(page) == thread
    page.locator("#vitron-chat").get_by_text("segment the object in the box").first.wait_for()


def test_bad_uploads_are_refused_in_the_chat_and_the_next_turn_works(page, server, coffee, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("these are my notes, not a picture\n")
    _upload(page, fake)
    refusal = page.locator("#vitron-chat").get_by_text("Could not attach notes.png", exact=False).first
    refusal.wait_for()
    assert "not a supported image" in refusal.inner_text()

    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 2**20))  # over the 2 MiB cap: refused before upload
    _upload(page, huge)
    page.get_by_text("exceed the maximum allowed size", exact=False).first.wait_for()
    _screenshot(page, "ui-bad-uploads.png")

    _upload(page, coffee)
    page.get_by_text("coffee.png (image 600x400)").wait_for()
    region = page.locator("#vitron-region textarea, #vitron-region input").first
    region.fill(",".join(map(str, CUP)))
    region.press("Enter")
    _send(page, "segment the object in the box")
    result = _finished_turn(page, server, "segment")
    assert result.errors == []
    _wait_for_chat_image(page, next(a for a in result.artifacts if a.preview).path)
    assert refusal.is_visible()  # the refusal stays in the conversation above the new turn


def test_a_costly_step_waits_for_approval_in_the_page(page, server, coffee):
    _upload(page, coffee)
    page.get_by_text("coffee.png (image 600x400)").wait_for()
    _draw_box(page, CUP)
    _send(page, "remove the object in the box")
    page.locator("#vitron-approve").wait_for()
    page.locator("#vitron-chat").get_by_text("Press Approve", exact=False).first.wait_for()
    assert server.agent.result(_thread(page)).interrupt["type"] == "approve"
    page.click("#vitron-approve")
    result = _finished_turn(page, server, "edit_image")
    assert result.interrupt is None and result.errors == []
    edited = next(a for a in result.artifacts if a.kind == "image" and not a.preview)
    _wait_for_chat_image(page, edited.path)
    _screenshot(page, "ui-approved-edit.png")


def test_points_clicked_on_the_cup_and_the_table_segment_the_cup(page, server, coffee):
    _upload(page, coffee)
    page.get_by_text("coffee.png (image 600x400)").wait_for()
    page.locator("#vitron-draw").get_by_text("points on the object").click()
    _click_pixel(page, 290, 150)  # on the coffee in the cup
    page.wait_for_function("() => (document.querySelector('#vitron-region textarea, #vitron-region input')?.value"
                           " || '').includes('+')")
    page.locator("#vitron-draw").get_by_text("points on the background").click()
    page.wait_for_timeout(300)  # let the mode change reach the server before the next click (not an assertion)
    _click_pixel(page, 60, 360)  # on the table
    page.wait_for_function("() => (document.querySelector('#vitron-region textarea, #vitron-region input')?.value"
                           " || '').includes('-')")
    points = [p.strip() for p in _region_text(page).split(";")]
    assert len(points) == 2 and points[0].endswith("+") and points[1].endswith("-"), points
    _send(page, "segment the object")
    result = _finished_turn(page, server, "segment")
    assert result.errors == [] and [p.positive for p in result.invocations[0].region.points] == [True, False]
    mask = next(a for a in result.artifacts if a.kind == "mask")
    from PIL import Image

    inside = np.asarray(Image.open(mask.path)) > 127
    assert inside[150, 290] and not inside[360, 60]
    _wait_for_chat_image(page, next(a for a in result.artifacts if a.preview).path)
    _screenshot(page, "ui-points.png")
