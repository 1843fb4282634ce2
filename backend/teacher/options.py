"""The backend options a user may set: a typed allow-list per backend, checked before anything is stored.

Anything else is refused with a message naming the option. The options that reached server secrets or
code before (an endpoint URL, the name of an environment variable holding a key, `trust_remote_code`,
raw engine arguments) have their own refusal message saying where that choice is made instead.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Refused for every user, with the reason; the teacher endpoint options are allowed only to the owner
# of a login-free install on the command line (see check_options' `free_endpoint`).
FORBIDDEN = {
    "trust_remote_code": "it would run code shipped with a model; it is never enabled",
    "engine_options": "raw engine arguments are not accepted; use the typed options",
    "api_key": "a key is never stored; the server reads it from the environment",
    "token": "a key is never stored; the server reads it from the environment",
    "password": "a key is never stored; the server reads it from the environment",
}
ENDPOINT_OPTIONS = {
    "base_url": "teacher endpoints are configured on the server; choose one by name",
    "api_key_env": "teacher endpoints are configured on the server; choose one by name",
    "endpoint": "teacher endpoints are configured on the server; choose one by name",
}


@dataclass(frozen=True)
class Option:
    kind: type  # int, float, bool or str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, name: str, value: Any) -> Any:
        """The value as this option's type, or ValueError naming the option and what it accepts."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"backend option {name!r} must be true or false, got {value!r}")
            return value
        if self.kind is str:
            if value not in self.choices:
                raise ValueError(
                    f"backend option {name!r} must be one of {', '.join(self.choices)}, got {value!r}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"backend option {name!r} must be a number, got {value!r}")
        if self.kind is int and value != int(value):
            raise ValueError(f"backend option {name!r} must be a whole number, got {value!r}")
        number = self.kind(value)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError(
                f"backend option {name!r} must be between {self.low:g} and {self.high:g}, got {value!r}"
            )
        return number


DTYPES = ("auto", "float32", "bfloat16", "float16")
CHAT = Option(bool, "send prompts through the model's chat template")

ALLOWED: dict[str, dict[str, Option]] = {
    "transformers": {
        "batch_size": Option(int, "sequences generated together", 1, 512),
        "chat": CHAT,
        "device": Option(str, "where the model runs", choices=("cpu", "cuda")),
        "dtype": Option(
            str, "precision (auto: the faster one here)", choices=("auto", "float32", "bfloat16")
        ),
        "batching": Option(
            str, "refill finished slots, or the old static batches", choices=("continuous", "static")
        ),
        "share_prefix": Option(bool, "compute a prompt prefix shared by the run (few-shot) once"),
        "stop_loops": Option(bool, "end a text whose last tokens repeat one block three times"),
    },
    "vllm": {
        "dtype": Option(str, "weight and activation precision", choices=DTYPES),
        "max_model_len": Option(int, "longest prompt + output in tokens", 64, 131072),
        "kv_cache_gib": Option(float, "KV cache size on CPU, GiB", 0.1, 512),
        "tensor_parallel_size": Option(int, "GPUs one model is split over", 1, 16),
        "gpu_memory_utilization": Option(float, "share of GPU memory vLLM may take", 0.05, 0.99),
        "max_num_seqs": Option(int, "sequences batched together", 1, 4096),
        "chat": CHAT,
    },
    "openai": {
        "concurrency": Option(int, "requests in flight", 1, 64),
        "chat": Option(bool, "use the chat completions API instead of plain completions"),
        "timeout": Option(float, "seconds per request", 1, 3600),
        "max_retries": Option(int, "retries per request", 0, 10),
    },
}
AUTO = "auto"  # the fastest installed local backend, chosen when a run is created (backend.teacher.choice)
# vLLM options that go into the engine's own arguments rather than the backend's constructor.
VLLM_ENGINE = ("tensor_parallel_size", "gpu_memory_utilization", "max_num_seqs")


def _refusal(name: str, backend: str) -> str:
    reason = FORBIDDEN.get(name) or ENDPOINT_OPTIONS.get(name)
    if reason:
        return f"backend option {name!r} is not allowed: {reason}"
    known = ", ".join(sorted(ALLOWED.get(backend, {}))) or "none"
    return f"unknown backend option {name!r} for {backend}; allowed: {known}"


def check_options(backend: str, options: Mapping[str, Any], *, free_endpoint: bool = False) -> dict[str, Any]:
    """The options, each checked and coerced; ValueError naming the first refused or bad one.

    `free_endpoint` lets `base_url` / `api_key_env` through for the openai backend: only the owner of a
    login-free install, on the command line, may point a run at an unconfigured server.
    """
    if not isinstance(options, Mapping):
        raise ValueError("backend options must be an object of name: value")
    # `auto` becomes a local backend when the run is created; its options are checked again then.
    allowed = {**ALLOWED["vllm"], **ALLOWED["transformers"]} if backend == AUTO else ALLOWED.get(backend)
    if allowed is None:
        raise ValueError(f"unknown teacher backend {backend!r}; choose one of {', '.join(ALLOWED)}")
    checked: dict[str, Any] = {}
    for name, value in options.items():
        if free_endpoint and backend == "openai" and name in ("base_url", "api_key_env"):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"backend option {name!r} must be a non-empty string")
            checked[name] = value.strip()
        elif name in allowed:
            checked[name] = allowed[name].coerce(name, value)
        else:
            raise ValueError(_refusal(str(name), backend))
    return checked
