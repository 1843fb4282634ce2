"""The one configuration object of a training run (TRL style: a dataclass with help text per field).

It is saved as JSON in the run directory before training starts, and the same file drives a multi-GPU
run: `accelerate launch -m backend.training.launch --config RUN_DIR/config.json`.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from db.models import StudentKind

CONFIG_FILE = "config.json"


class FilterPolicy(StrEnum):
    """SCoTD filter policies for sets that hold several samples per question."""

    all_correct = "all_correct"  # every rationale whose final answer matches the gold answer
    one_correct_per_question = "one_correct_per_question"  # the first correct rationale of each question
    balanced = "balanced"  # each question once per epoch, with a freshly drawn correct rationale
    all = "all"  # no filter (e.g. to study training on wrong rationales)


@dataclass
class TrainConfig:
    set_id: int | None = field(default=None, metadata={"help": "Frozen curated set to train on (id)."})
    set_name: str | None = field(default=None, metadata={"help": "Frozen curated set to train on (name)."})
    kind: StudentKind = field(
        default=StudentKind.cot,
        metadata={"help": "Student kind: answer_only, cot, decomposer, solver, unified or decompose_only."},
    )
    base_model: str = field(
        default="default",
        metadata={
            "help": "Local folder or hub id; 'default' is the embedded SmolLM2-135M. T5-family configs "
            "train as seq2seq, everything else as a causal LM."
        },
    )
    name: str = field(
        default="", metadata={"help": "Run name (also the checkpoint's name); default SET-KIND-ID."}
    )
    lora: bool = field(default=False, metadata={"help": "Train LoRA adapters (peft) instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] | None = field(
        default=None, metadata={"help": "Modules to adapt; None = peft's default for the architecture."}
    )
    merge_lora: bool = field(
        default=True,
        metadata={
            "help": "Merge the adapters into the base weights on save (a plain transformers folder); "
            "off saves the adapter only."
        },
    )
    # The defaults are the recipe the ladder measured for full fine-tuning of SmolLM2-135M on a few hundred
    # rationales (docs/benchmarks.md, "Distillation ladder"): 2 epochs, peak 2e-4, 10% warmup.
    epochs: float = field(default=2.0, metadata={"help": "Passes over the training examples."})
    max_steps: int = field(
        default=-1, metadata={"help": "Stop after this many optimizer steps (-1: use epochs)."}
    )
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak learning rate (AdamW)."})
    batch_size: int = field(default=8, metadata={"help": "Examples per device per step."})
    grad_accumulation: int = field(default=1, metadata={"help": "Gradient accumulation steps."})
    max_length: int = field(default=512, metadata={"help": "Longest tokenized prompt+completion kept."})
    warmup: float = field(default=0.1, metadata={"help": "Warmup steps (>= 1) or ratio of all steps (< 1)."})
    seed: int = field(
        default=0, metadata={"help": "Seed for initialisation, shuffling and the balanced policy."}
    )
    filter_policy: FilterPolicy = field(
        default=FilterPolicy.all_correct, metadata={"help": "Which rationales of the set to train on."}
    )
    skip_flagged_sub_questions: bool = field(
        default=False,
        metadata={
            "help": "Decomposer/unified: leave the sub-questions the checks flag (repeats, stated results, "
            "non-questions) out of the loss, keeping their rationales as context."
        },
    )
    output_dir: str = field(
        default="", metadata={"help": "Run directory; default RUNS_DIR/train-RUN_ID (SOCRATIC_RUNS_DIR)."}
    )
    device: str = field(default="auto", metadata={"help": "auto (GPU when present), cuda or cpu."})

    def __post_init__(self) -> None:
        self.kind = StudentKind(self.kind)
        self.filter_policy = FilterPolicy(self.filter_policy)
        self.validate()

    def validate(self) -> None:
        """Reject impossible values with a message naming the field."""
        checks = [
            (self.set_id is not None or bool(self.set_name), "set_id or set_name is required"),
            (bool(self.base_model.strip()), "base_model is required"),
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0 (or max_steps set)"),
            (
                self.max_steps == -1 or self.max_steps > 0,
                f"max_steps must be -1 or > 0, got {self.max_steps}",
            ),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.grad_accumulation >= 1, f"grad_accumulation must be >= 1, got {self.grad_accumulation}"),
            (self.max_length >= 8, f"max_length must be >= 8, got {self.max_length}"),
            (self.warmup >= 0, f"warmup must be >= 0, got {self.warmup}"),
            (self.lora_r >= 1, f"lora_r must be >= 1, got {self.lora_r}"),
            (
                self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
                f"device must be auto, cpu or cuda, got {self.device!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"], data["filter_policy"] = str(self.kind), str(self.filter_policy)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training config fields: {sorted(unknown)}")
        return cls(**data)


def write_run_file(config: TrainConfig, *, training_run_id: int) -> Path:
    """Save `{"training_run_id", "train_config"}` into the run directory (before training starts)."""
    run_dir = Path(config.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CONFIG_FILE
    payload = {"training_run_id": training_run_id, "train_config": config.to_json()}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def read_run_file(path: Path) -> tuple[int, TrainConfig]:
    """The run id and config a run directory's config.json holds; a clear error if it is not one."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return int(payload["training_run_id"]), TrainConfig.from_json(payload["train_config"])
    except FileNotFoundError as error:
        raise ValueError(f"no training config at {path}") from error
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a training run config ({error})") from error
