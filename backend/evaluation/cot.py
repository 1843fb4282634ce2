"""CoT and answer-only evaluation: one generation per problem from `Q: {question}\\nA:` (the training
prompt), optionally after a few solved examples (the base model's few-shot floor); the final answer is read
with backend.checks.answers.extract_final_answer, only after the answer marker the students are trained to
write: an output that stops before it is truncated (stop reason "truncated", or "looped" where the backend
ended it as a loop), never graded on its last number."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from backend.checks.answers import extract_final_answer
from backend.evaluation.generate import generate_texts
from backend.evaluation.traces import StepRecord, Trace, cot_steps
from backend.sets.curation import CuratedRecord
from backend.student_formats import cot_prompt, examples_for
from backend.teacher.base import GenerationParams, TeacherBackend
from db.models import StudentKind

# A fine-tuned student ends with EOS; a few-shot base model would go on to invent the next question.
STOP = ["\nQ:", "\n\n"]


@dataclass(frozen=True)
class SingleParams:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    calculator: bool = True
    answer_type: str = "numeric"


def few_shot_prefix(records: Sequence[CuratedRecord], *, kind: StudentKind = StudentKind.cot) -> str:
    """Solved examples in the training format, each followed by a blank line."""
    shots = [examples_for(kind, r.question, r.steps, r.final_answer)[0] for r in records]
    return "".join(f"{shot.prompt}{shot.completion}\n\n" for shot in shots)


def _stop_reason(final_answer: str | None, *, looped: bool) -> str:
    if final_answer is not None:
        return "answer"
    return "looped" if looped else "truncated"


def solve_single(
    model: TeacherBackend, questions: Sequence[str], params: SingleParams | None = None, *, prefix: str = ""
) -> list[Trace]:
    """One trace per question; its steps are the rationale's sentences (none for answer-only)."""
    params = params or SingleParams()
    generation = GenerationParams(
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=params.max_tokens,
        stop=STOP,
        seed=params.seed,
    )
    started = time.monotonic()
    outputs = generate_texts(
        model, [prefix + cot_prompt(q) for q in questions], generation, calculator=params.calculator
    )
    latency = time.monotonic() - started
    traces = []
    for generated in outputs:
        text = generated.text.strip()
        steps = [StepRecord(sub_question=None, answer=sentence) for sentence in cot_steps(text)]
        if steps:
            steps[-1].calculator = generated.calculator
        final_answer = extract_final_answer(text, params.answer_type, marker_required=True)
        traces.append(
            Trace(
                steps=steps,
                final_answer=final_answer,
                stop_reason=_stop_reason(final_answer, looped=generated.looped),
                raw_text=text,
                tokens_in=generated.tokens_in,
                tokens_out=generated.tokens_out,
                latency_s=latency,
                error=generated.error,
            )
        )
    return traces
