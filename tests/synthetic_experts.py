"""Small real experts for graph tests: deterministic numpy outputs, no model weights."""

from __future__ import annotations

import time

import numpy as np

from vitron_agent.experts.base import Detection, Expert, ExpertCall, ExpertResult, ExpertSpec


class BoxMaskExpert(Expert):
    """Segments the region's boxes as filled rectangles (or passes a mask hint through), after ``delay`` s."""

    spec = ExpertSpec(name="box_mask", tasks=("segment",), description="Rectangle masks from boxes.",
                      region_kinds=("box", "mask"), region_required=True, outputs=("mask",), quality=5)
    delay = 0.0

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.loads = getattr(self, "loads", 0) + 1

    def run(self, call: ExpertCall) -> ExpertResult:
        if self.delay:
            time.sleep(self.delay)
        h, w = call.images[0].shape[:2]
        if call.mask is not None:
            return ExpertResult(masks=[call.mask.copy()], text="mask passed through")
        masks = []
        for x1, y1, x2, y2 in call.boxes:
            mask = np.zeros((h, w), bool)
            mask[int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))] = True
            masks.append(mask)
        return ExpertResult(masks=masks, text=f"{len(masks)} box mask(s)")


class SignalMaskExpert(BoxMaskExpert):
    """Rectangle masks like ``box_mask``, but it takes signal embeddings (any (k, d) array) and says their shape."""

    spec = ExpertSpec(name="signal_mask", tasks=("segment",), description="Rectangle masks; takes signals.",
                      region_kinds=("box", "mask"), region_required=True, outputs=("mask",),
                      embedding_space="test-sparse kxd")

    def run(self, call: ExpertCall) -> ExpertResult:
        result = super().run(call)
        shape = "none" if call.signal is None else "x".join(str(n) for n in call.signal.shape)
        return ExpertResult(masks=result.masks, text=f"{result.text}; signal {shape}")


class SlowBoxMaskExpert(BoxMaskExpert):
    """The 20 ms synthetic expert of the overhead benchmark."""

    spec = ExpertSpec(name="slow_box_mask", tasks=("segment",), description="Rectangle masks after 20 ms.",
                      region_kinds=("box", "mask"), region_required=True, outputs=("mask",))
    delay = 0.02


class BusyBoxMaskExpert(BoxMaskExpert):
    """Rectangle masks after ``loops`` of pure-Python work: a CPU-bound expert that holds the GIL, as a model's
    Python-side work does (a sleep would let checkpoint threads run for free)."""

    spec = ExpertSpec(name="busy_box_mask", tasks=("segment",), description="Rectangle masks after CPU work.",
                      region_kinds=("box", "mask"), region_required=True, outputs=("mask",))
    loops = 100_000

    def run(self, call: ExpertCall) -> ExpertResult:
        total = 0
        for i in range(self.loops):
            total += i * i % 7
        return super().run(call)


class BrightSpotGrounder(Expert):
    """Grounds 'spot' as the box around the brightest pixels; knows nothing else."""

    spec = ExpertSpec(name="spot_finder", tasks=("ground",), description="Finds bright spots.",
                      outputs=("boxes",), vocabulary=("spot",), quality=5)

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        gray = call.images[0].mean(axis=2)
        ys, xs = np.nonzero(gray >= gray.max() - 1)
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        return ExpertResult(detections=[Detection(box, "spot", 1.0)], text="found 1 spot")


class InvertRemover(Expert):
    """'Removes' by inverting pixels inside the mask: a visible, checkable edit."""

    spec = ExpertSpec(name="invert_remove", tasks=("edit_image",), description="Inverts the masked pixels.",
                      region_kinds=("mask",), region_required=True, edit_ops=("remove",), outputs=("image",))

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        image = call.images[0].copy()
        image[call.mask] = 255 - image[call.mask]
        return ExpertResult(images=[image], text="inverted the region")


class CrashingExpert(Expert):
    """Raises like a real expert would: ``message`` decides which failure (e.g. CUDA out of memory)."""

    spec = ExpertSpec(name="crasher", tasks=("segment",), description="Always fails.",
                      region_kinds=("box",), region_required=True, outputs=("mask",), quality=9)
    message = "CUDA out of memory. Tried to allocate 20.00 GiB"

    def load(self, device: str = "cpu", dtype: str | None = None) -> None:
        pass

    def run(self, call: ExpertCall) -> ExpertResult:
        raise RuntimeError(self.message)


class WaitingMaskExpert(BoxMaskExpert):
    """Rectangle masks from a process that says which it is: writes its pid to ``pid_file``, reports progress,
    then waits ``hold`` seconds (long enough for a test to kill that process mid-call)."""

    spec = ExpertSpec(name="waiting_mask", tasks=("segment",), description="Rectangle masks after a wait.",
                      region_kinds=("box",), region_required=True, outputs=("mask",))

    def run(self, call: ExpertCall) -> ExpertResult:
        import os
        from pathlib import Path

        call.progress(0.25, f"working in process {os.getpid()}")
        Path(self.options["pid_file"]).write_text(str(os.getpid()))
        time.sleep(float(self.options.get("hold", 0.0)))
        call.progress(1.0, "done")
        return super().run(call)
