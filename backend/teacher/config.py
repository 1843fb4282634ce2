"""What a teacher run is asked to do: one typed model, with help text per field, shared by CLI and web app."""

from typing import Any, ClassVar

from pydantic import Field

from backend.queries.filters import ProblemFilter
from backend.run_config import RunConfig
from backend.teacher.base import BACKENDS, DEFAULT_MODEL_ALIAS, GenerationParams
from backend.teacher.options import check_options
from backend.teacher.prompts import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_STOP,
    default_few_shot,
    default_template,
    validate_few_shot,
    validate_template,
)
from db.models import TeacherMode


class GenerationConfig(RunConfig):
    title: ClassVar[str] = "generation settings"

    backend: str = Field(
        default="auto",
        description="auto (the fastest installed local backend for the run's length), transformers, vllm "
        "or openai",
    )
    model: str = Field(
        default=DEFAULT_MODEL_ALIAS,
        description="'default' (the embedded SmolLM2), a checkpoint's or model root's folder, or a "
        "configured teacher endpoint's name (openai); resolved by backend.model_ref",
    )
    mode: str = Field(default="cot", description="cot, socratic, rationalize or decompose")
    dataset: str | None = Field(default=None, description="dataset name (narrowed by problem_filter)")
    problem_filter: ProblemFilter = Field(
        default_factory=ProblemFilter, description="which problems: split, ids, search, limit, offset"
    )
    samples: int = Field(default=1, description="rationales per problem (SCoTD sampled 30)")
    temperature: float = Field(default=0.0, description="0 is greedy; about 0.7-1.0 for many samples")
    top_p: float = Field(default=1.0, description="nucleus sampling mass")
    max_tokens: int | None = Field(default=None, description="generated tokens per output (default per mode)")
    stop: list[str] | None = Field(default=None, description="stop strings (default per mode)")
    seed: int = Field(default=0, description="sampling seed")
    batch_size: int = Field(
        default=8, description="problems per batch; each batch is stored in one transaction"
    )
    price_per_1k_tokens: float | None = Field(
        default=None, description="estimated cost per 1K tokens in+out (default: settings)"
    )
    template: str | None = Field(default=None, description="prompt template override (default per mode)")
    few_shot: list[dict[str, Any]] | None = Field(
        default=None, description="few-shot examples override: [{question, steps, answer}]"
    )
    show_gold: bool = Field(default=False, description="show the gold answer in the prompt (rationalization)")
    calculator: bool = Field(
        default=False,
        description="write each text with the calculator, as students are evaluated: for a student that "
        "learned GSM8K's <<a*b=c>> annotations (a round's samples)",
    )
    name: str = Field(default="", description="run name (default: mode, model and dataset)")
    backend_options: dict[str, Any] = Field(
        default_factory=dict,
        description="typed backend settings from backend.teacher.options' allow-list, e.g. "
        "{'chat': true, 'concurrency': 8} or {'dtype': 'bfloat16', 'max_model_len': 4096}",
    )

    @property
    def teacher_mode(self) -> TeacherMode:
        return TeacherMode(self.mode)

    def resolved_template(self) -> str:
        return self.template if self.template is not None else default_template(self.teacher_mode)

    def resolved_few_shot(self) -> list[dict[str, Any]]:
        return self.few_shot if self.few_shot is not None else default_few_shot()

    def generation_params(self) -> GenerationParams:
        mode = self.teacher_mode
        return GenerationParams(
            n=self.samples,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens or DEFAULT_MAX_TOKENS[mode],
            stop=list(self.stop) if self.stop is not None else list(DEFAULT_STOP[mode]),
            seed=self.seed,
        )

    def check(self, *, free_endpoint: bool = False) -> None:
        """Raise ValueError naming the first bad setting (before anything is stored).

        `free_endpoint`: the owner of a login-free install, on the command line, may give an openai run
        a `base_url` and `api_key_env` instead of a configured endpoint's name.
        """
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if not self.model.strip():
            raise ValueError("model is required")
        if self.mode not in TeacherMode.__members__:
            raise ValueError(f"mode must be one of {', '.join(TeacherMode.__members__)}, got {self.mode!r}")
        self.generation_params()  # checks samples, temperature, top_p, max_tokens
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if (self.price_per_1k_tokens or 0) < 0:
            raise ValueError("price_per_1k_tokens cannot be negative")
        validate_template(self.mode, self.resolved_template())
        validate_few_shot(self.mode, self.resolved_few_shot())
        self.backend_options = check_options(self.backend, self.backend_options, free_endpoint=free_endpoint)
