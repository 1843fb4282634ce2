"""A scripted backend for the loop logic (stop rules, batching, calculator): the text a prompt gets is
chosen by a rule, then cut at the call's stop strings exactly as real backends do (base.cut_at_stop).
Real tiny checkpoints run wherever a model must actually run (tests/backend/evaluation/test_job.py)."""

from collections.abc import Callable

from backend.teacher.base import Completion, GenerationParams, cut_at_stop


class ScriptedBackend:
    name = "scripted"

    def __init__(self, rule: Callable[[str], str], model: str = "scripted") -> None:
        self.rule = rule
        self.model = model
        self.calls: list[list[str]] = []  # the prompts of each generate call (one call = one batch)
        self.closed = False

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        self.calls.append(list(prompts))
        results = []
        for prompt in prompts:
            text = cut_at_stop(self.rule(prompt), params.stop)
            completion = Completion(
                text=text, tokens_in=len(prompt.split()), tokens_out=max(1, len(text.split()))
            )
            results.append([completion] * params.n)
        return results

    def close(self) -> None:
        self.closed = True


class RevisingScriptedBackend(ScriptedBackend):
    """The same rule, read the way backend.teacher.refill reads a revising batch: a text that would end is
    handed to `revise`, and the rule goes on from the text it gives back, prompt by prompt."""

    revises = True

    def generate_revising(
        self,
        prompts: list[str],
        params: GenerationParams,
        revise: Callable[[int, str, int, bool], str | None],
    ) -> list[Completion]:
        completions = []
        for index, prompt in enumerate(prompts):
            text: str | None = ""
            while text is not None:
                self.calls.append([prompt + text])
                written = cut_at_stop(self.rule(prompt + text), params.stop)
                text = revise(index, written, max(1, len(written.split())), False)
            completions.append(Completion(text="", tokens_in=len(prompt.split()), tokens_out=0))
        return completions
