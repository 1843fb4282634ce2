"""What a teacher run is asked to do: one dataclass, with help text per field, shared by CLI and web app."""

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from backend.filters import ProblemFilter
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


@dataclass
class GenerationConfig:
    backend: str = field(
        default="auto",
        metadata={
            "help": "auto (the fastest installed local backend for the run's length), transformers, vllm "
            "or openai"
        },
    )
    model: str = field(
        default=DEFAULT_MODEL_ALIAS,
        metadata={
            "help": "'default' (the embedded SmolLM2), a checkpoint's or model root's folder, or a "
            "configured teacher endpoint's name (openai); resolved by backend.model_ref"
        },
    )
    mode: str = field(default="cot", metadata={"help": "cot, socratic, rationalize or decompose"})
    dataset: str | None = field(default=None, metadata={"help": "dataset name (narrowed by problem_filter)"})
    problem_filter: ProblemFilter = field(
        default_factory=ProblemFilter, metadata={"help": "which problems: split, ids, search, limit, offset"}
    )
    samples: int = field(default=1, metadata={"help": "rationales per problem (SCoTD sampled 30)"})
    temperature: float = field(default=0.0, metadata={"help": "0 is greedy; about 0.7-1.0 for many samples"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass"})
    max_tokens: int | None = field(
        default=None, metadata={"help": "generated tokens per output (default per mode)"}
    )
    stop: list[str] | None = field(default=None, metadata={"help": "stop strings (default per mode)"})
    seed: int = field(default=0, metadata={"help": "sampling seed"})
    batch_size: int = field(
        default=8, metadata={"help": "problems per batch; each batch is stored in one transaction"}
    )
    price_per_1k_tokens: float | None = field(
        default=None, metadata={"help": "estimated cost per 1K tokens in+out (default: settings)"}
    )
    template: str | None = field(
        default=None, metadata={"help": "prompt template override (default per mode)"}
    )
    few_shot: list[dict[str, Any]] | None = field(
        default=None, metadata={"help": "few-shot examples override: [{question, steps, answer}]"}
    )
    show_gold: bool = field(
        default=False, metadata={"help": "show the gold answer in the prompt (rationalization)"}
    )
    name: str = field(default="", metadata={"help": "run name (default: mode, model and dataset)"})
    backend_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "typed backend settings from backend.teacher.options' allow-list, e.g. "
            "{'chat': true, 'concurrency': 8} or {'dtype': 'bfloat16', 'max_model_len': 4096}"
        },
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

    def validate(self, *, free_endpoint: bool = False) -> None:
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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problem_filter"] = self.problem_filter.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GenerationConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown generation settings: {sorted(unknown)}")
        values = dict(data)
        values["problem_filter"] = ProblemFilter.from_json(values.get("problem_filter"))
        return cls(**values)
