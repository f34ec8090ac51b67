"""Past one process: several processes writing one shared state folder at once, and the load test of
``benchmarks/bench_scaleout.py`` (two agent processes on PostgreSQL, a shared folder and Ray Serve, each
continuing the other's threads) at a size CI can afford."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from vitron_agent.stores.media import MediaStore
    from vitron_agent.stores.signals import SignalStore

    root, me = sys.argv[1], int(sys.argv[2])
    media, signals = MediaStore(root + "/media"), SignalStore(root + "/signals")
    ids = []
    for i in range(40):  # the same 40 images and signals from every process, then one of its own
        image = np.full((64, 96, 3), i, np.uint8)
        image[i % 64, :, 0] = 255 - i
        ids.append(media.put_image(image, f"o{i}", source="test").file)
        ids.append(signals.put(np.arange(i, i + 32, dtype=np.float32).reshape(4, 8)))
    ids.append(media.put_image(np.full((8, 8, 3), 100 + me, np.uint8), "mine", source="test").file)
    print("\\n".join(ids))
""")


def test_processes_writing_one_shared_folder_at_once_leave_whole_content_addressed_files(tmp_path):
    import numpy as np

    from vitron_agent.stores.media import MediaRef, MediaStore
    from vitron_agent.stores.signals import SignalStore

    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)], stdout=subprocess.PIPE,
                                text=True, cwd=ROOT) for n in range(4)]
    outputs = [w.communicate(timeout=300)[0].split() for w in writers]
    assert all(w.returncode == 0 for w in writers)
    assert all(out[:-1] == outputs[0][:-1] for out in outputs)  # same content, same names, in every process
    assert len({out[-1] for out in outputs}) == 4

    media, signals = MediaStore(tmp_path / "media"), SignalStore(tmp_path / "signals")
    blobs = sorted((tmp_path / "media" / "blobs").iterdir())
    assert len(blobs) == 40 + 4  # one file per distinct content, and no temp file left behind
    for blob in blobs:  # each name is its content's digest: every file is whole
        assert blob.name.split(".")[0] == hashlib.sha256(blob.read_bytes()).hexdigest()[:40]
    for i in range(40):
        ref = MediaRef(id=f"o{i}", kind="image", file=outputs[0][2 * i], width=96, height=64)
        image = media.load_image(ref)
        assert image[0, 0, 1] == i and image[i % 64, 0, 0] == 255 - i
        assert np.array_equal(signals.get(outputs[0][2 * i + 1]), np.arange(i, i + 32, dtype=np.float32).reshape(4, 8))
    assert sorted(p.name for p in (tmp_path / "signals").iterdir()) == sorted(
        f"{s}.safetensors" for s in set(outputs[0][1::2]))


def test_two_agent_processes_continue_each_others_threads_with_the_single_process_outputs(tmp_path):
    pytest.importorskip("ray.serve")
    pytest.importorskip("langgraph.checkpoint.postgres")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from tests.postgres_server import find_binaries

    if find_binaries() is None:
        pytest.skip("PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql)")
    from bench_scaleout import run_load_test

    result = run_load_test(tmp_path, conversations=4, turns=5, repeats=1, log=lambda line: None)
    assert result.mismatches == []  # every turn: the same reply, no error, the same bytes in every output file
    assert result.complete  # every thread holds all its turns, written by both processes
    turns = result.scaled[0].outcomes
    assert len(turns) == 20 and all(o.files for o in turns if o.turn != 3)  # the question's answer is text only
    for c in range(4):  # each thread was continued by both agent processes, turn after turn
        assert len({o.server for o in turns if o.conversation == c}) == 2
