"""Which local backend a teacher run uses when the user leaves the choice to the app (`auto`), and in
which precision a local backend runs. Both are recorded with the run.

vLLM batches continuously and decodes faster, but takes about a minute to start on 2 CPU cores; the
transformers backend starts in seconds. So `auto` takes vLLM (where it is installed) only for a run
expected to take longer than that minute in transformers. Nothing here imports torch or vLLM at module
level: the web process calls `pick_backend` when a run is started.
"""

import importlib.util

AUTO = "auto"
LOCAL_BACKENDS = ("transformers", "vllm")
VLLM_WORTH_IT_S = 60.0  # about vLLM's start-up on 2 CPU cores (domain notes)
# Transformers with continuous batching, SmolLM2 on 2 cores, sampled cot (bench/generation_speed.py).
TRANSFORMERS_CPU_TOKENS_PER_S = 20.0
MEAN_FILL = 0.5  # sampled outputs stop, on average, about half way to max_tokens


def vllm_installed() -> bool:
    """Whether vLLM can be imported here (found without importing it: that takes seconds)."""
    return importlib.util.find_spec("vllm") is not None


def expected_seconds(sequences: int, max_tokens: int) -> float:
    """A rough transformers run time on CPU: what decides whether vLLM's start-up pays off."""
    return sequences * max_tokens * MEAN_FILL / TRANSFORMERS_CPU_TOKENS_PER_S


def pick_backend(sequences: int, max_tokens: int) -> str:
    """The fastest installed local backend for a run of `sequences` outputs of up to `max_tokens`."""
    if vllm_installed() and expected_seconds(sequences, max_tokens) > VLLM_WORTH_IT_S:
        return "vllm"
    return "transformers"


def local_precision(options: dict[str, object]) -> str:
    """The precision a local backend will run in: the run's `dtype` option, else what
    backend.precision finds fastest on the device (imports torch: call it in the worker)."""
    requested = options.get("dtype")
    if isinstance(requested, str) and requested != AUTO:
        return requested
    import torch

    from backend.precision import choose_dtype

    device = options.get("device")
    return choose_dtype(str(device) if device else ("cuda" if torch.cuda.is_available() else "cpu"))
