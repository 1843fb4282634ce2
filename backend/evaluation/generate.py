"""Generation with the GSM8K calculator: when a model writes `<<expr=`, the expression is evaluated
(backend.calculator.safe_eval) and the true result is written in before the model continues.

Done through any backend, batched: `>>` is an extra stop string, so generation pauses right after an
annotation; its claimed value is replaced by the computed one, the annotation closed, and every paused
text continues in one batch. Small students copy numbers well but multiply badly, so fixing the value
*before* they go on writing is what makes the rest of the step (and the next steps) use the right number.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from backend.calculator import format_number, safe_eval
from backend.teacher.base import GenerationParams, TeacherBackend

MAX_CALCULATOR_CALLS = 8  # per text: a model looping on annotations still ends
OPEN_ANNOTATION = re.compile(r"<<([^<>=]*)=([^<>]*)$")  # an annotation the `>>` stop left open at the end


@dataclass
class Generated:
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    # Each annotation whose claimed value the calculator replaced: {"expression", "claimed", "computed"}.
    calculator: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def close_annotation(text: str) -> tuple[str, dict[str, Any] | None] | None:
    """If `text` ends inside `<<expr=claimed`, the text with the computed value and `>>` written in,
    plus a record when the model's claim was wrong; None when no annotation is open."""
    match = OPEN_ANNOTATION.search(text)
    if match is None:
        return None
    expression, claimed = match.group(1), match.group(2).strip()
    computed = safe_eval(expression)
    value = claimed if computed is None else format_number(computed)
    fixed = (
        None
        if value == claimed
        else {"expression": expression.strip(), "claimed": claimed, "computed": value}
    )
    return text[: match.start()] + f"<<{expression}={value}>>", fixed


def generate_texts(
    backend: TeacherBackend, prompts: Sequence[str], params: GenerationParams, *, calculator: bool = True
) -> list[Generated]:
    """One text per prompt (params.n must be 1: repeat a prompt to sample it several times)."""
    if params.n != 1:
        raise ValueError("generate_texts makes one text per prompt; repeat prompts to draw several samples")
    stop = [*params.stop, ">>"] if calculator else list(params.stop)
    results = [Generated() for _ in prompts]
    pending = list(range(len(prompts)))
    for round_number in range(MAX_CALCULATOR_CALLS + 1):
        if not pending:
            break
        budget = max(1, params.max_tokens - min(results[i].tokens_out for i in pending))
        call = replace(params, stop=stop, max_tokens=budget, seed=params.seed + round_number)
        outputs = backend.generate([prompts[i] + results[i].text for i in pending], call)
        still_open = []
        for index, (completion, *_) in zip(pending, outputs, strict=True):
            result = results[index]
            result.text += completion.text
            result.tokens_in += completion.tokens_in
            result.tokens_out += completion.tokens_out
            result.error = result.error or completion.error
            closed = close_annotation(result.text) if calculator and completion.tokens_out < budget else None
            if closed is not None and round_number < MAX_CALCULATOR_CALLS:
                result.text, fixed = closed
                if fixed is not None:
                    result.calculator.append(fixed)
                still_open.append(index)
        pending = still_open
    return results
