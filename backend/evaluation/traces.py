"""What one evaluated problem leaves behind (steps, tokens, latency, final answer) and how a trace is
read against the reference: first divergent step by intermediate value, error category, majority vote."""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.checks.answers import normalize_answer
from backend.checks.calculator import parse_checks, parse_number, step_value, values_equal
from backend.student_formats import ANSWER_PREFIX


@dataclass
class StepRecord:
    sub_question: str | None  # None for a CoT sentence
    answer: str
    tokens: int = 0  # generated tokens (decomposer + solver) for this step
    tokens_in: int = 0
    latency_s: float = 0.0  # wall time of the batched calls that produced this step
    calculator: list[dict[str, Any]] = field(default_factory=list)  # claims the calculator corrected

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Trace:
    steps: list[StepRecord] = field(default_factory=list)
    final_answer: str | None = None
    # end (the decomposer wrote the end marker), repeat (the solver repeated an earlier answer), cap (step
    # limit), empty (no sub-question at all),
    # single (one generation: CoT, answer-only, Divide-or-Conquer)
    stop_reason: str = ""
    raw_text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    error: str | None = None

    @property
    def tokens(self) -> int:
        """Tokens a paid API would bill: every prompt (re-sent at each step) plus every generated token."""
        return self.tokens_in + self.tokens_out


def socratic_transcript(trace: Trace) -> str:
    lines = []
    for number, step in enumerate(trace.steps, start=1):
        lines += [f"Q{number}: {step.sub_question or ''}", f"A{number}: {step.answer}"]
    return "\n".join([*lines, f"[stop: {trace.stop_reason}]"])


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z$(\d])|\n+")


def cot_steps(text: str) -> list[str]:
    """A CoT rationale's steps: its sentences before the answer line (training joins steps with spaces)."""
    body = text.split(ANSWER_PREFIX)[0]
    return [part.strip() for part in _SENTENCE_END.split(body) if part.strip()]


def first_divergent_step(values: Sequence[str | None], gold_steps: Sequence[dict[str, Any]]) -> int | None:
    """Index of the first step whose intermediate value differs from the reference step's value.

    Reference steps without a value are skipped; a trace that stops before a checkable reference step
    diverges at its length; extra steps after every reference value matched are not a divergence.
    """
    for index, gold in enumerate(gold_steps):
        gold_value = parse_number(str(gold.get("value") or ""))
        if gold_value is None:
            continue
        if index >= len(values):
            return index
        value = parse_number(values[index] or "")
        if value is None or not values_equal(value, gold_value):
            return index
    return None


def trace_values(trace: Trace) -> list[str | None]:
    return [step_value(step.answer) for step in trace.steps]


def error_category(
    trace: Trace, *, correct: bool, first_divergent: int | None, num_gold_steps: int
) -> str | None:
    """Why a wrong answer is wrong, the most specific reason first (None when correct).

    truncated: stopped before its answer marker; looped: ended by the loop rule (one block written over
    and over) before its answer; unparseable: no final answer; arithmetic: an equation
    or calculator annotation in the output is wrong; too_many_steps: hit the step cap; wrong_first_step:
    departs from the reference at step 1; stopped_early: ended with fewer steps than the reference;
    wrong_final: anything else (departed later, or only the last answer).
    """
    if correct:
        return None
    if trace.final_answer is None:
        return trace.stop_reason if trace.stop_reason in ("truncated", "looped") else "unparseable"
    if any(a.ok is False for step in trace.steps for a in parse_checks(step.answer)):
        return "arithmetic"
    if trace.stop_reason == "cap":
        return "too_many_steps"
    if first_divergent == 0:
        return "wrong_first_step"
    if trace.stop_reason in ("end", "repeat", "empty") and len(trace.steps) < num_gold_steps:
        return "stopped_early"
    return "wrong_final"


def majority_vote(answers: Sequence[str | None], answer_type: str = "numeric") -> str | None:
    """The most frequent normalised answer (ties: the one seen first); None when no sample has one."""
    normalised = [normalize_answer(answer, answer_type) for answer in answers]
    counts = Counter(answer for answer in normalised if answer is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(answer for answer in normalised if answer is not None and counts[answer] == best)


def vote(traces: Sequence[Trace], answer_type: str = "numeric") -> Trace:
    """One trace for n samples of a problem: the first sample that states the majority answer, with the
    tokens and latency of all samples (what the vote cost) and the tally in its raw text."""
    if len(traces) == 1:
        return traces[0]
    winner = majority_vote([trace.final_answer for trace in traces], answer_type)
    normalised = [normalize_answer(trace.final_answer, answer_type) for trace in traces]
    chosen = traces[normalised.index(winner)] if winner is not None else traces[0]
    tally = Counter(str(answer) for answer in normalised)
    summary = ", ".join(f"{answer} x{count}" for answer, count in tally.most_common())
    return Trace(
        steps=chosen.steps,
        final_answer=winner,
        stop_reason=chosen.stop_reason,
        raw_text=f"{chosen.raw_text}\n[majority vote over {len(traces)} samples: {summary}]",
        tokens_in=sum(trace.tokens_in for trace in traces),
        tokens_out=sum(trace.tokens_out for trace in traces),
        latency_s=max(trace.latency_s for trace in traces),  # the samples ran in the same batches
        error=next((trace.error for trace in traces if trace.error), None),
    )
