"""torch.compile of a causal student's backbone during training, when the run is long enough to pay for it.

Measured on an AVX-512 EPYC (docs/results.md, "Training speed"): compiling SmolLM2-135M's backbone with
dynamic shapes costs about 190 s over its first two steps with a cold cache (17 s warm), then trains
1.08-1.19x faster in a 12-step benchmark. So it could pay back only after some 1,300-2,200 s of training:
a short run (the demo chain, a tiny test) loses time. In the one real run so far (a ladder-sized CoT run
on a Zen 5 EPYC) it gained 1.01x after a 137 s compile, which is why the option is off by default.

Modes (TrainConfig.compile): `off`; `on` compiles before the first step; `auto` times the first
PROBE_STEPS steps uncompiled and compiles once the steps left would take at least PAYBACK_SECONDS. The
compile is in place (nn.Module.compile), so the saved weights and their names are unchanged, and the head
loss (backend.training.compact_head) stays outside it. Inductor's own cache on disk (on by default) is
what makes a second compile of the same shapes cheap.
"""

import shutil
import time
from typing import Any

from transformers import TrainerCallback

from backend.training.config import CompileMode

PROBE_STEPS = 8  # steps timed before `auto` decides (the first, a warm-up, is left out of the rate)
# The steps left must take this long for `auto` to compile: above the measured 1,300-2,200 s break-even,
# because the gain is small (8-19%) and a machine's compile time is not known in advance.
PAYBACK_SECONDS = 2400.0
COMPILERS = ("g++", "c++", "clang++")  # inductor writes C++ kernels on a CPU


def worth_compiling(steps_left: int, seconds_per_step: float) -> bool:
    return steps_left * seconds_per_step >= PAYBACK_SECONDS


def has_compiler(device: str) -> bool:
    return device != "cpu" or any(shutil.which(name) for name in COMPILERS)


def compile_backbone(model: Any) -> None:
    """Compile the transformer body in place, with dynamic shapes (rows differ in length batch to batch)."""
    model.get_decoder().compile(dynamic=True)


class CompileWhenItPays(TrainerCallback):
    """Compiles the model's backbone at the start (`on`) or after timing the first steps (`auto`);
    `decision` says what it did and why, for the run's record."""

    def __init__(self, mode: CompileMode, device: str) -> None:
        self.mode = mode
        self.device = device
        self.decision = "off"
        self.compiled_at_step: int | None = None
        self._first_step_done: float | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.mode == CompileMode.off:
            return
        if not has_compiler(self.device):
            if self.mode == CompileMode.on:
                raise RuntimeError(
                    "compile=on needs a C++ compiler (g++, c++ or clang++) on this machine; "
                    "install one or train with compile=off"
                )
            self.decision = "auto: not compiled (no C++ compiler found)"
            self.mode = CompileMode.off
            return
        if self.mode == CompileMode.on:
            self._compile(model, 0, "on: compiled before the first step")
        else:
            self.decision = "auto: not compiled (the run ended before the probe)"

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.mode != CompileMode.auto or self.compiled_at_step is not None:
            return
        step = int(state.global_step)
        if step == 1:
            self._first_step_done = time.monotonic()
        if step != PROBE_STEPS or self._first_step_done is None:
            return
        per_step = (time.monotonic() - self._first_step_done) / (PROBE_STEPS - 1)
        steps_left = int(state.max_steps) - step
        estimate = f"{steps_left} steps left at {per_step:.1f} s = {steps_left * per_step:.0f} s"
        if worth_compiling(steps_left, per_step):
            self._compile(model, step, f"auto: compiled after step {step} ({estimate})")
        else:
            self.decision = f"auto: not compiled ({estimate}, under {PAYBACK_SECONDS:.0f} s)"
            self.mode = CompileMode.off

    def _compile(self, model: Any, step: int, decision: str) -> None:
        if not hasattr(model, "get_decoder"):  # a wrapper without the backbone accessor trains as it is
            self.decision, self.mode = "not compiled (the model has no backbone accessor)", CompileMode.off
            return
        compile_backbone(model)
        self.compiled_at_step = step
        self.decision = decision
