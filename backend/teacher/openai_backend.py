"""Teacher behind any OpenAI-compatible server: vLLM's own server, llama.cpp, Ollama, TGI or a hosted API.

One request per prompt (with `n` samples), at most `concurrency` in flight on a thread pool. The openai
client retries 408/409/429/5xx and connection errors with exponential back-off (0.5 s doubling to 8 s,
honouring Retry-After) and enforces the timeout. A prompt whose request still fails becomes completions
carrying `error`, so the rest of the batch is kept. The API key is read from an environment variable
whose *name* comes from the server's endpoint settings (backend.model_ref), never from a user.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from backend.teacher.base import Completion, GenerationParams, cut_at_stop

ENDPOINTS = ("completions", "chat")
LOCAL_SERVER_KEY = "not-needed"  # local servers ignore the key, but the client insists on one
MAX_STOP_STRINGS = 4  # the OpenAI API refuses more


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        endpoint: str = "completions",
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 5,
        logprobs: bool = True,
    ) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be 'completions' or 'chat', got {endpoint!r}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        # None: a local server that needs no key (a configured endpoint without api_key_env).
        api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        if not api_key and base_url is None:
            raise ValueError(
                f"set the environment variable {api_key_env} to the API key (it is never stored)"
            )
        self.model, self.endpoint, self.concurrency, self.logprobs = model, endpoint, concurrency, logprobs
        self.client = OpenAI(
            api_key=api_key or LOCAL_SERVER_KEY, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        if len(params.stop) > MAX_STOP_STRINGS:
            raise ValueError(f"OpenAI-compatible servers accept at most {MAX_STOP_STRINGS} stop strings")
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(prompts)))) as pool:
            return list(pool.map(lambda prompt: self._generate_one(prompt, params), prompts))

    def _request(self, prompt: str, params: GenerationParams) -> Any:
        common: dict[str, Any] = {
            "model": self.model,
            "n": params.n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "stop": params.stop or None,
            "seed": params.seed,
        }
        if self.endpoint == "chat":
            messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": prompt}]
            return self.client.chat.completions.create(messages=messages, logprobs=self.logprobs, **common)
        return self.client.completions.create(prompt=prompt, logprobs=1 if self.logprobs else None, **common)

    def _generate_one(self, prompt: str, params: GenerationParams) -> list[Completion]:
        try:
            response = self._request(prompt, params)
        except openai.OpenAIError as error:
            message = f"{type(error).__name__}: {error}"
            return [Completion(text="", tokens_in=0, tokens_out=0, error=message) for _ in range(params.n)]
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage else 0
        shared_out = (usage.completion_tokens if usage else 0) // max(1, len(response.choices))
        choices = sorted(response.choices, key=lambda choice: choice.index)
        return [self._completion(choice, tokens_in, shared_out, params.stop) for choice in choices]

    def _completion(self, choice: Any, tokens_in: int, shared_out: int, stop: list[str]) -> Completion:
        """One choice; per-token log-probabilities give its own token count, else the usage is shared out."""
        if self.endpoint == "chat":
            text = choice.message.content or ""
            token_logprobs = (
                [item.logprob for item in (choice.logprobs.content or [])] if choice.logprobs else None
            )
        else:
            text = choice.text or ""
            token_logprobs = list(choice.logprobs.token_logprobs or []) if choice.logprobs else None
        known = [value for value in token_logprobs or [] if value is not None]
        return Completion(
            text=cut_at_stop(text, stop),  # servers cut at stop strings already; this is for those that don't
            tokens_in=tokens_in,
            tokens_out=len(token_logprobs) if token_logprobs else shared_out,
            logprob=sum(known) if token_logprobs else None,
        )

    def close(self) -> None:
        self.client.close()
