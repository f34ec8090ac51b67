# Each target does its own set-up on a fresh machine: a virtual environment in .venv with everything installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export YOLO_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup demo test reliability bench gpu-check clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=64" wheel
	# torch/torchvision: the CUDA build that pip takes from this machine's local files (runs on CPU too)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[test,demo,ui,serve,postgres,ray,sam,sam2,sam3,diffusion,ground,model,lite,vlm,eval]"
	# ultralytics (the yolo extra) asks for opencv-python, the GUI build that needs libGL: keep the headless one
	$(PY) -m pip install -q --no-deps "ultralytics>=8.3" "ultralytics-thop>=2.2"
	$(PY) -m pip install -q "lap>=0.5" matplotlib pyyaml requests scipy psutil polars
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/vitron-agent demo --out vitron-demo

test: setup
	$(PY) -m pytest -q

reliability: setup
	$(PY) -m pytest -q tests/reliability

bench: setup
	$(PY) benchmarks/run_all.py

# Experts vs bare library calls on a CUDA machine (benchmarks/README.md). With the project's environment if it exists;
# else (a bare machine, no network) the machine's python3 and torch plus the wheels carried in .whl and this checkout.
GPU_SITE ?= /tmp/vitron-gpu-site
gpu-check:
	@if [ -x $(PY) ]; then PYTHONUNBUFFERED=1 $(PY) benchmarks/gpu_check.py $(GPU_CHECK_ARGS); else \
		$(PYTHON) -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir \
			--upgrade --target $(GPU_SITE) .whl/*.whl . && \
		PYTHONPATH=$(GPU_SITE) PYTHONUNBUFFERED=1 $(PYTHON) benchmarks/gpu_check.py $(GPU_CHECK_ARGS); fi

clean:
	rm -rf $(VENV) vitron-demo build dist *.egg-info
