"""The built wheel installs into a fresh venv and its namespace packages import from outside the repo."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_with_tools_finetune_and_prompts(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(REPO)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next(wheels.glob("vitron_agent-*.whl"))
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    # dependencies come from the test environment's site-packages; the package itself from the fresh venv
    deps = sysconfig.get_paths()["purelib"]
    probe = (
        "import vitron_agent, vitron_agent.tools, vitron_agent.finetune, vitron_agent.prompts as p, vitron_agent.tools.grabcut;"
        "from vitron_agent.prompts import load_prompt;"
        "print(vitron_agent.__file__); print(vitron_agent.tools.__file__); print(len(load_prompt('system')))"
    )
    out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": deps, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    package_file, tools_file, prompt_length = out.stdout.split()
    assert str(env_dir) in package_file and str(env_dir) in tools_file
    assert int(prompt_length) > 200
    assert (env_dir / "bin" / "vitron-agent").exists()
