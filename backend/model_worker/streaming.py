"""A backend wrapper that reports a one-prompt generation's text as tokens arrive.

The loop functions (backend.evaluation.socratic) call `generate` as always, through generate_texts and
its calculator rounds; for a transformers model the wrapper hands `lm.generate` a streamer, so each new
token reaches `on_text` with the text so far (the earlier calculator rounds' text in front, cut at the
call's stop strings, as the finished text will be). Other backends report the text once, when done.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from backend.teacher.base import Completion, GenerationParams, TeacherBackend, cut_at_stop

OnText = Callable[[str], None]


class TokenSink:
    """A transformers streamer (put/end): the first put is the prompt, each later one new tokens."""

    def __init__(self, tokenizer: Any, on_tokens: Callable[[str], None], delay_s: float) -> None:
        self.tokenizer, self.on_tokens, self.delay_s = tokenizer, on_tokens, delay_s
        self.ids: list[int] = []
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.ids.extend(int(token) for token in value.reshape(-1).tolist())
        self.on_tokens(str(self.tokenizer.decode(self.ids, skip_special_tokens=True)))
        if self.delay_s:
            time.sleep(self.delay_s)

    def end(self) -> None:
        pass


def _with_streamer(lm: Any, current: Callable[[], "TokenSink | None"]) -> None:
    """Make `lm.generate` pass the current streamer (if any) for one-row generations; the model object
    stays the same (an instance attribute shadows the class's method)."""
    original = lm.generate

    def generate(*args: Any, **kwargs: Any) -> Any:
        streamer = current()
        if streamer is not None and kwargs["input_ids"].shape[0] == 1:  # a streamer takes one row
            kwargs["streamer"] = streamer
        return original(*args, **kwargs)

    lm.generate = generate


class StreamingModel:
    """A TeacherBackend whose one-prompt generations can be watched (`watching`)."""

    def __init__(self, inner: TeacherBackend, *, token_delay_s: float = 0.0) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.token_delay_s = token_delay_s
        self.on_text: OnText | None = None
        self.base_prompt: str | None = None
        from backend.teacher.transformers_backend import TransformersBackend

        # Only a transformers model streams token by token; the others report their text when done.
        self.streams = isinstance(inner, TransformersBackend)
        self._tokenizer = inner.tokenizer if isinstance(inner, TransformersBackend) else None
        self._sink: TokenSink | None = None
        if isinstance(inner, TransformersBackend):
            # One prompt at a time: the static path runs through `lm.generate`, which takes a streamer
            # (continuous batching, the backend's default, gains nothing for a single row).
            inner.batching = "static"
            _with_streamer(inner.lm, lambda: self._sink)

    @contextmanager
    def watching(self, on_text: OnText) -> Iterator[None]:
        """Within the block, the text of each step's generation goes to `on_text` as it grows."""
        self.on_text, self.base_prompt = on_text, None
        try:
            yield
        finally:
            self.on_text, self.base_prompt = None, None

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        on_text = self.on_text
        if on_text is None or len(prompts) != 1:
            return self.inner.generate(prompts, params)
        # generate_texts resends prompt + text so far after each calculator annotation: that text leads.
        if self.base_prompt is None or not prompts[0].startswith(self.base_prompt):
            self.base_prompt = prompts[0]
        before = prompts[0][len(self.base_prompt) :]

        def report(text: str) -> None:
            on_text(before + cut_at_stop(text, params.stop))

        if self.streams:
            self._sink = TokenSink(self._tokenizer, report, self.token_delay_s)
        try:
            results = self.inner.generate(prompts, params)
        finally:
            self._sink = None
        report(results[0][0].text)
        return results

    def close(self) -> None:
        self.inner.close()
