"""The configuration of one evaluation run (stored whole in EvalRun.params)."""

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from backend.evaluation.socratic import DEFAULT_MAX_STEPS


class EvalMethod(StrEnum):
    socratic = "socratic"  # decomposer + solver loop
    cot = "cot"  # one generation: rationale + answer
    answer_only = "answer_only"  # one short generation: the answer
    divide_conquer = "divide_conquer"  # decompose-only student + any teacher as solver


FALLBACKS = {"max_tokens": 256, "question_tokens": 64, "answer_tokens": 128, "max_steps": DEFAULT_MAX_STEPS}


@dataclass
class EvalConfig:
    method: EvalMethod = field(
        default=EvalMethod.socratic, metadata={"help": "socratic, cot, answer_only, divide_conquer."}
    )
    decomposer: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": 'Socratic / Divide-or-Conquer decomposer: {"checkpoint_id": N} or {"backend", "model"}.'
        },
    )
    solver: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "The Socratic solver, the CoT / answer-only model, or the Divide-or-Conquer teacher."
        },
    )
    dataset_id: int | None = field(
        default=None, metadata={"help": "Dataset whose problems are evaluated (id)."}
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "Dataset whose problems are evaluated (name)."}
    )
    split: str | None = field(default=None, metadata={"help": "Only problems of this split."})
    problem_ids: list[int] | None = field(default=None, metadata={"help": "Only these problems."})
    offset: int = field(default=0, metadata={"help": "Skip this many problems (in id order)."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate at most this many problems."})
    samples: int = field(default=1, metadata={"help": "Samples per problem; > 1 takes a majority vote."})
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy; sampling needs > 0."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling."})
    # None: from the student's training data (its run's generation budget), else the FALLBACKS below.
    max_steps: int | None = field(default=None, metadata={"help": "Socratic step cap."})
    question_tokens: int | None = field(default=None, metadata={"help": "Longest sub-question (tokens)."})
    answer_tokens: int | None = field(default=None, metadata={"help": "Longest sub-answer (tokens)."})
    max_tokens: int | None = field(
        default=None, metadata={"help": "Longest CoT / Divide-or-Conquer solution (tokens)."}
    )
    calculator: bool = field(
        default=True, metadata={"help": "Evaluate <<expr=...>> annotations as models write."}
    )
    few_shot_set_id: int | None = field(
        default=None, metadata={"help": "Frozen set whose first records are shots."}
    )
    few_shot: int = field(
        default=0,
        metadata={"help": "Solved examples before each CoT, answer-only or Divide-or-Conquer solver prompt."},
    )
    chunk_size: int = field(
        default=32, metadata={"help": "Problems run together (one batch per step) and stored."}
    )
    batch_size: int = field(default=16, metadata={"help": "Micro-batch of the transformers backend."})
    price_per_1k_tokens: float | None = field(
        default=None, metadata={"help": "Cost estimate; default: settings."}
    )
    seed: int = field(default=0, metadata={"help": "Sampling seed."})
    name: str = field(default="", metadata={"help": "Run name; default METHOD-ID."})

    def __post_init__(self) -> None:
        self.method = EvalMethod(self.method)
        self.validate()

    def validate(self) -> None:
        needs_decomposer = self.method in (EvalMethod.socratic, EvalMethod.divide_conquer)
        checks = [
            (bool(self.solver), "a solver (the model to evaluate) is required"),
            (bool(self.decomposer) or not needs_decomposer, f"the {self.method} method needs a decomposer"),
            (
                self.dataset_id is not None or bool(self.dataset_name) or bool(self.problem_ids),
                "a dataset (or problem ids) is required",
            ),
            (self.samples >= 1, f"samples must be >= 1, got {self.samples}"),
            (self.samples == 1 or self.temperature > 0, "sampling several answers needs temperature > 0"),
            (self.temperature >= 0, f"temperature must be >= 0, got {self.temperature}"),
            (
                self.max_steps is None or 1 <= self.max_steps <= 64,
                f"max_steps must be 1..64, got {self.max_steps}",
            ),
            (self.limit is None or self.limit >= 1, f"limit must be >= 1, got {self.limit}"),
            (self.offset >= 0, f"offset must be >= 0, got {self.offset}"),
            (self.few_shot == 0 or self.few_shot_set_id is not None, "few_shot needs few_shot_set_id"),
            (
                min(
                    value
                    for value in (
                        self.chunk_size,
                        self.batch_size,
                        self.question_tokens,
                        self.answer_tokens,
                        self.max_tokens,
                    )
                    if value is not None
                )
                >= 1,
                "chunk_size, batch_size and token limits must be >= 1",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def budget(self) -> dict[str, int]:
        """The token limits and step cap, with the fallbacks where nothing set them."""
        values = {key: getattr(self, key) for key in FALLBACKS}
        return {key: FALLBACKS[key] if value is None else int(value) for key, value in values.items()}

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"method": str(self.method)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EvalConfig":
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown evaluation config fields: {sorted(unknown)}")
        return cls(**data)
