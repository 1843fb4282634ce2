"""Generation with the calculator: a model's arithmetic is set right before it goes on writing.

Two spellings (backend.checks.calculator): a GSM8K annotation `<<expr=` is closed with the computed value
(`>>` is an extra stop string, so generation pauses right after an annotation); a plain equation `a op b =
c` whose written value is wrong is rewound: the text is cut after `=`, the computed value written in, and
the model continues from there (plain equations need no stop string, so this works through every backend,
and a right equation costs nothing). Every paused or rewound text continues in one batch. Small students
copy numbers well but multiply badly, so fixing the value *before* they go on writing is what makes the rest
of the step (and the next steps) use the right number. A value written in is never extended by the model: a
model that meant "2 * 2 = 42" writes "2" again right after the "4" it was given (the digits it was set on),
so the round after a rewind is kept only from where the number has ended (`end_of_number`), and the equation
is read again with the round after it.

A prompt longer than the `max_prompt_tokens` setting, or than the model's context leaves room for, is not
sent: its text gets an error instead (the batch's other prompts go on). Refused rather than cut: the
start of a Socratic prompt is the problem itself, so a left-truncated prompt would have the model answer
another question while the score (or the step-through page) looked normal; and a local model reading a
prompt of many thousand tokens holds the shared model worker for minutes.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from backend.checks.calculator import CURRENCIES, claim_holds, claim_spelling, first_wrong_equation, safe_eval
from backend.teacher.base import Completion, GenerationParams, TeacherBackend
from backend.teacher.progress import regrouped

MAX_CALCULATOR_CALLS = 12  # per text: a model looping on annotations or wrong sums still ends
OPEN_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)$")  # an annotation the `>>` stop left open at the end
# What goes on with a number written right before it: digits, or a decimal point or thousands comma before
# a digit ("4" + "2" is 42, "4" + ".5" is 4.5, "4" + ",000" is 4,000; "4" + ". Then" ends it).
NUMBER_GOES_ON = re.compile(r"(?:[.,]?\d)+")


@dataclass
class Generated:
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    # Each annotation whose claimed value the calculator replaced: {"expression", "claimed", "computed"}.
    calculator: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    checked_upto: int = 0  # plain equations before this offset are verified (or were corrected)
    kept_tokens: int = 0  # tokens of `text` (tokens_out also counts the ones a rewind discarded)
    value_end: int | None = None  # where a value the calculator wrote in ends, until the model ends it
    looped: bool = False  # the backend ended it as a loop (backend.teacher.loops): cut before its answer


def close_annotation(text: str) -> tuple[str, dict[str, Any] | None] | None:
    """If `text` ends inside `<<expr=claimed`, the text with the computed value and `>>` written in,
    plus a record when the model's claim was wrong; None when no annotation is open."""
    match = OPEN_ANNOTATION.search(text)
    if match is None:
        return None
    expression, claimed = match.group(1), match.group(2).strip()
    computed = safe_eval(expression)
    if computed is None or claim_holds(computed, claimed, expression):  # rounded and percent claims hold
        return text[: match.start()] + f"<<{expression}={claimed}>>", None
    value = claim_spelling(computed, claimed, expression)
    fixed = {"expression": expression.strip(), "claimed": claimed, "computed": value}
    return text[: match.start()] + f"<<{expression}={value}>>", fixed


def rewind_wrong_equation(text: str, start: int = 0) -> tuple[str, dict[str, Any], int] | None:
    """The text cut after the first wrong plain equation's `=` with the computed value written in (what
    the model goes on from), its record, and where the equation starts; None when every equation from
    `start` on holds."""
    wrong = first_wrong_equation(text, start)
    if wrong is None or wrong.computed is None:
        return None
    value = claim_spelling(wrong.computed, wrong.claimed, wrong.expression)  # 40% is set right to 50%
    prefix = wrong.claimed[0] if wrong.claimed[:1] in CURRENCIES else ""  # keep the model's own spelling
    fixed = {"expression": wrong.expression, "claimed": wrong.claimed, "computed": value}
    return text[: wrong.value_start] + prefix + value, fixed, wrong.start


def end_of_number(text: str, value_end: int) -> tuple[str, bool] | None:
    """When the model went on writing a value the calculator wrote in ("= 4" + "2 apples."): the text up
    to that value plus the first character that ends the number (" "), and whether the model must go on
    from there; None when the number was left as written.

    Why the rest of the round is dropped and not kept after the stray digits: it was written after the
    model's own "42", so it goes on with 42; from "= 4 " the model writes the rest after the right value.
    Why at the level of text: servers (vLLM, OpenAI-compatible) give no control over single tokens."""
    stray = NUMBER_GOES_ON.match(text, value_end)
    if stray is None:
        return None
    boundary = text[stray.end() : stray.end() + 1]  # empty: the model stopped right after the digits
    return text[:value_end] + boundary, bool(boundary)


def _kept_share(tokens_out: int, kept_chars: int, completion_text: str) -> int:
    """The tokens of a round that stay in the text, in proportion to its characters that stay."""
    return round(tokens_out * min(1.0, max(0, kept_chars) / max(1, len(completion_text))))


def _apply_calculator(result: Generated, completion_text: str, tokens_out: int, *, hit_budget: bool) -> bool:
    """Set the arithmetic of a finished round right; True when the text must be continued."""
    round_start = len(result.text) - len(completion_text)
    if result.value_end is not None:
        ended = end_of_number(result.text, result.value_end)
        if ended is not None:  # the value stays written-in; its equation is read again next round
            result.text, going_on = ended
            result.kept_tokens += _kept_share(tokens_out, len(result.text) - round_start, completion_text)
            return going_on
        if len(result.text) > result.value_end:
            result.value_end = None  # the model ended the number itself
    closed = None if hit_budget else close_annotation(result.text)
    if closed is not None:
        result.text, fixed = closed
        if fixed is not None:
            result.calculator.append(fixed)
        result.kept_tokens += tokens_out
        return True
    rewound = rewind_wrong_equation(result.text, result.checked_upto)
    if rewound is None:
        result.kept_tokens += tokens_out
        result.checked_upto = len(result.text)
        return False
    result.kept_tokens += _kept_share(tokens_out, len(rewound[0]) - round_start, completion_text)
    result.text, fixed, equation_start = rewound
    result.calculator.append(fixed)
    # The corrected equation is read again once the model has gone on after it.
    result.checked_upto, result.value_end = equation_start, len(result.text)
    return True


def _local_model(backend: TeacherBackend) -> Any | None:
    """The transformers backend that will read the prompts (the model worker wraps it), else None: a
    server (vLLM, OpenAI-compatible) counts and refuses by its own context."""
    from backend.model_worker.streaming import StreamingModel

    inner = backend.inner if isinstance(backend, StreamingModel) else backend
    return inner if inner.name == "transformers" else None


def context_length(config: Any) -> int | None:
    """The model's longest sequence (prompt + generation), where its config says (T5's relative positions
    have none)."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)  # names differ by architecture
        if isinstance(value, int) and value > 0:
            return value
    return None


def prompt_token_cap(
    backend: TeacherBackend, max_tokens: int, cap: int
) -> tuple[Callable[[str], int], int] | None:
    """(count a prompt's tokens, the most it may have) for a local model, else None."""
    model = _local_model(backend)
    if model is None:
        return None
    context = context_length(model.lm.config)
    if context is not None and not model.seq2seq:  # a causal model's context holds the generation too
        cap = min(cap, context - max_tokens)
    # The backend's own encoding: the chat template and special tokens as generation will see them.
    return (lambda prompt: len(model._encode(prompt))), max(1, cap)


def refused_prompts(
    backend: TeacherBackend, prompts: Sequence[str], params: GenerationParams, *, cap: int | None = None
) -> dict[int, str]:
    """The prompts over the token cap (`cap` or the max_prompt_tokens setting), each with its error."""
    from db.settings import get_settings

    limit = prompt_token_cap(backend, params.max_tokens, cap or get_settings().max_prompt_tokens)
    if limit is None:
        return {}
    count, most = limit
    refused = {}
    for index, prompt in enumerate(prompts):
        tokens = count(prompt)
        if tokens > most:
            refused[index] = (
                f"the prompt is {tokens} tokens long and this model takes at most {most}: shorten the "
                "question (or raise the max_prompt_tokens setting)"
            )
    return refused


def _generate_revising(
    backend: Any, prompts: list[str], params: GenerationParams, results: list[Generated]
) -> None:
    """The calculator applied inside the backend's batch (backend.teacher.refill): each text goes on from
    its correction at once, with no round that waits for the batch's slowest text and no prompt read
    again. `results` (one per prompt) are filled in place."""
    rounds = [0] * len(prompts)

    def revise(index: int, completion: str, tokens_out: int, hit_budget: bool) -> str | None:
        result = results[index]
        result.text += completion
        result.tokens_out += tokens_out
        going_on = _apply_calculator(result, completion, tokens_out, hit_budget=hit_budget)
        rounds[index] += 1
        if going_on and rounds[index] <= MAX_CALCULATOR_CALLS and result.kept_tokens < params.max_tokens:
            return result.text
        return None

    for result, completion in zip(results, backend.generate_revising(prompts, params, revise), strict=True):
        result.tokens_in = completion.tokens_in
        result.looped = completion.looped


def generate_texts(
    backend: TeacherBackend,
    prompts: Sequence[str],
    params: GenerationParams,
    *,
    calculator: bool = True,
    max_prompt_tokens: int | None = None,
) -> list[Generated]:
    """One text per prompt (params.n must be 1: repeat a prompt to sample it several times). A prompt over
    the token cap (`max_prompt_tokens`, else the setting) gets an error and no text."""
    if params.n != 1:
        raise ValueError("generate_texts makes one text per prompt; repeat prompts to draw several samples")
    stop = [*params.stop, ">>"] if calculator else list(params.stop)
    results = [Generated() for _ in prompts]
    refused = refused_prompts(backend, prompts, params, cap=max_prompt_tokens)
    for index, error in refused.items():
        results[index].error = error
    pending = [index for index in range(len(prompts)) if index not in refused]
    if calculator and getattr(backend, "revises", False):
        _generate_revising(
            backend, [prompts[i] for i in pending], replace(params, stop=stop), [results[i] for i in pending]
        )
        return results
    for round_number in range(MAX_CALCULATOR_CALLS + 1):
        if not pending:
            break
        budget = max(1, params.max_tokens - min(results[i].kept_tokens for i in pending))
        call = replace(params, stop=stop, max_tokens=budget, seed=params.seed + round_number)
        outputs = backend.generate([prompts[i] + results[i].text for i in pending], call)
        still_open = []
        for index, (completion, *_) in zip(pending, outputs, strict=True):
            result = results[index]
            result.text += completion.text
            result.tokens_in += completion.tokens_in
            result.tokens_out += completion.tokens_out
            result.error = result.error or completion.error
            result.looped = result.looped or completion.looped
            if not calculator or completion.error:
                result.kept_tokens += completion.tokens_out
                continue
            hit_budget = completion.tokens_out >= budget
            going_on = _apply_calculator(
                result, completion.text, completion.tokens_out, hit_budget=hit_budget
            )
            if going_on and round_number < MAX_CALCULATOR_CALLS and result.kept_tokens < params.max_tokens:
                still_open.append(index)
        pending = still_open
    return results


class WithCalculator:
    """A teacher backend whose every text is written with the calculator (generate_texts), so a teacher run
    of a student that learned GSM8K's `<<a*b=c>>` annotations samples the way the student is evaluated
    (a round's samples). Each of a prompt's n samples is its own row of the batch, sampled apart."""

    def __init__(self, inner: TeacherBackend) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model

    def generate(self, prompts: list[str], params: GenerationParams) -> list[list[Completion]]:
        repeated = [prompt for prompt in prompts for _ in range(params.n)]
        with regrouped(params.n):
            texts = generate_texts(self.inner, repeated, replace(params, n=1))
        completions = [
            Completion(text=t.text, tokens_in=t.tokens_in, tokens_out=t.tokens_out, error=t.error)
            for t in texts
        ]
        return [completions[i * params.n : (i + 1) * params.n] for i in range(len(prompts))]

    def close(self) -> None:
        self.inner.close()
