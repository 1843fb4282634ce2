"""The one configuration object of a training run (TRL style: a typed model with help text per field).

It is stored once, in the run's database row (TrainingRun.hyperparams), before training starts; the job
worker and a multi-GPU run (`accelerate launch -m backend.training.launch --run-id N`) read it from there.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from backend.run_config import RunConfig
from db.models import StudentKind


class FilterPolicy(StrEnum):
    """SCoTD filter policies for sets that hold several samples per question."""

    all_correct = "all_correct"  # every rationale whose final answer matches the gold answer
    one_correct_per_question = "one_correct_per_question"  # the first correct rationale of each question
    balanced = "balanced"  # each question once per epoch, with a freshly drawn correct rationale
    all = "all"  # no filter (e.g. to study training on wrong rationales)


class CompileMode(StrEnum):
    """torch.compile of a causal student's backbone (backend.training.compiling)."""

    off = "off"
    on = "on"
    auto = "auto"  # compile only when the run is long enough to pay the compile back


class TrainConfig(RunConfig):
    title: ClassVar[str] = "training config"

    set_id: int | None = Field(default=None, description="Frozen curated set to train on (id).")
    set_name: str | None = Field(default=None, description="Frozen curated set to train on (name).")
    kind: StudentKind = Field(
        default=StudentKind.cot,
        description="Student kind: answer_only, cot, decomposer, solver, unified or decompose_only.",
    )
    base_model: str = Field(
        default="default",
        description="Local folder or hub id; 'default' is the embedded SmolLM2-135M. T5-family configs "
        "train as seq2seq, everything else as a causal LM.",
    )
    name: str = Field(default="", description="Run name (also the checkpoint's name); default SET-KIND-ID.")
    lora: bool = Field(default=False, description="Train LoRA adapters (peft) instead of all weights.")
    lora_r: int = Field(default=16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(default=32, description="LoRA scaling alpha.")
    lora_dropout: float = Field(default=0.05, description="LoRA dropout.")
    lora_target_modules: list[str] | None = Field(
        default=None, description="Modules to adapt; None = peft's default for the architecture."
    )
    merge_lora: bool = Field(
        default=True,
        description="Merge the adapters into the base weights on save (a plain transformers folder); "
        "off saves the adapter only.",
    )
    # The defaults are the recipe the `cpu` ladder measured for full fine-tuning of SmolLM2-135M on 600
    # rationales (docs/lab-notes/ladder.md, run 8): 3 epochs, peak 2e-4, 10% warmup, batch 8. A
    # third epoch gained CoT 14.7 and the Socratic pair 16.0 points held out over two.
    epochs: float = Field(default=3.0, description="Passes over the training examples.")
    max_steps: int = Field(default=-1, description="Stop after this many optimizer steps (-1: use epochs).")
    learning_rate: float = Field(default=2e-4, gt=0, description="Peak learning rate (AdamW).")
    batch_size: int = Field(default=8, ge=1, description="Examples per device per step.")
    grad_accumulation: int = Field(default=1, ge=1, description="Gradient accumulation steps.")
    max_length: int = Field(default=512, ge=8, description="Longest tokenized prompt+completion kept.")
    warmup: float = Field(default=0.1, ge=0, description="Warmup steps (>= 1) or ratio of all steps (< 1).")
    seed: int = Field(default=0, description="Seed for initialisation, shuffling and the balanced policy.")
    filter_policy: FilterPolicy = Field(
        default=FilterPolicy.all_correct, description="Which rationales of the set to train on."
    )
    skip_flagged_sub_questions: bool = Field(
        default=False,
        description="Decomposer/unified: leave the sub-questions the checks flag (repeats, stated results, "
        "non-questions) out of the loss, keeping their rationales as context.",
    )
    output_dir: str = Field(
        default="", description="Run directory; default RUNS_DIR/train-RUN_ID (SOCRATIC_RUNS_DIR)."
    )
    device: str = Field(default="auto", description="auto (GPU when present), cuda or cpu.")
    compile: CompileMode = Field(
        default=CompileMode.off,
        description="torch.compile the backbone of a causal student: off, on, or auto (only when the "
        "steps left after timing the first 8 would take at least 40 minutes: the compile costs minutes).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        """Reject impossible values with a message naming the field."""
        checks = [
            (self.set_id is not None or bool(self.set_name), "set_id or set_name is required"),
            (bool(self.base_model.strip()), "base_model is required"),
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0 (or max_steps set)"),
            (
                self.max_steps == -1 or self.max_steps > 0,
                f"max_steps must be -1 or > 0, got {self.max_steps}",
            ),
            (
                self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
                f"device must be auto, cpu or cuda, got {self.device!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        return self

    @classmethod
    def from_run(cls, hyperparams: Mapping[str, Any]) -> Self:
        """The config a run was started with, from its row: TrainingRun.hyperparams holds the config's
        fields beside what the run measured (examples, dropped rationales, precision), which are not
        settings."""
        return cls.from_json({key: value for key, value in hyperparams.items() if key in cls.model_fields})
