"""The configuration of one evaluation run (stored whole in EvalRun.params)."""

from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, model_validator

from backend.evaluation.socratic import DEFAULT_MAX_STEPS
from backend.run_config import RunConfig


class EvalMethod(StrEnum):
    socratic = "socratic"  # decomposer + solver loop
    cot = "cot"  # one generation: rationale + answer
    answer_only = "answer_only"  # one short generation: the answer
    divide_conquer = "divide_conquer"  # decompose-only student + any teacher as solver


FALLBACKS = {"max_tokens": 256, "question_tokens": 64, "answer_tokens": 128, "max_steps": DEFAULT_MAX_STEPS}


class EvalConfig(RunConfig):
    title: ClassVar[str] = "evaluation config"

    method: EvalMethod = Field(
        default=EvalMethod.socratic, description="socratic, cot, answer_only, divide_conquer."
    )
    decomposer: dict[str, Any] = Field(
        default_factory=dict,
        description='Socratic / Divide-or-Conquer decomposer: {"checkpoint_id": N} or {"backend", "model"}.',
    )
    solver: dict[str, Any] = Field(
        default_factory=dict,
        description="The Socratic solver, the CoT / answer-only model, or the Divide-or-Conquer teacher.",
    )
    dataset_id: int | None = Field(default=None, description="Dataset whose problems are evaluated (id).")
    dataset_name: str | None = Field(default=None, description="Dataset whose problems are evaluated (name).")
    split: str | None = Field(default=None, description="Only problems of this split.")
    problem_ids: list[int] | None = Field(default=None, description="Only these problems.")
    offset: int = Field(default=0, description="Skip this many problems (in id order).")
    limit: int | None = Field(default=None, description="Evaluate at most this many problems.")
    samples: int = Field(default=1, description="Samples per problem; > 1 takes a majority vote.")
    temperature: float = Field(default=0.0, description="0 = greedy; sampling needs > 0.")
    top_p: float = Field(default=1.0, description="Nucleus sampling.")
    # None: from the student's training data (its run's generation budget), else the FALLBACKS below.
    max_steps: int | None = Field(default=None, description="Socratic step cap.")
    question_tokens: int | None = Field(default=None, description="Longest sub-question (tokens).")
    answer_tokens: int | None = Field(default=None, description="Longest sub-answer (tokens).")
    max_tokens: int | None = Field(
        default=None, description="Longest CoT / Divide-or-Conquer solution (tokens)."
    )
    calculator: bool = Field(default=True, description="Evaluate <<expr=...>> annotations as models write.")
    few_shot_set_id: int | None = Field(default=None, description="Frozen set whose first records are shots.")
    few_shot: int = Field(
        default=0,
        description="Solved examples before each CoT, answer-only or Divide-or-Conquer solver prompt.",
    )
    chunk_size: int = Field(default=32, description="Problems run together (one batch per step) and stored.")
    batch_size: int = Field(default=16, description="Micro-batch of the transformers backend.")
    price_per_1k_tokens: float | None = Field(default=None, description="Cost estimate; default: settings.")
    seed: int = Field(default=0, description="Sampling seed.")
    name: str = Field(default="", description="Run name; default METHOD-ID.")

    @model_validator(mode="after")
    def _check(self) -> Self:
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
        return self

    def budget(self) -> dict[str, int]:
        """The token limits and step cap, with the fallbacks where nothing set them."""
        values = {key: getattr(self, key) for key in FALLBACKS}
        return {key: FALLBACKS[key] if value is None else int(value) for key, value in values.items()}
