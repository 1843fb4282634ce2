"""The Socratic loop: the decomposer proposes the next sub-question, the solver answers it, the pair is
appended, until the decomposer writes the end marker, the solver repeats a step, or the step cap is hit.

A repeated *question* does not stop the loop. Small decomposers learn generic questions from a small
teacher ("How many bricks are there in the tower?") and ask them again at the next step, where the solver,
seeing one more step done, writes the next one. Stopping there (the first rule of this loop) ended 68 of
150 held-out problems of the cpu ladder's Socratic pair on an intermediate value, 67 of them wrong
(docs/lab-notes/, run 3). What ends a loop that makes no progress is an answer the solver gave before.

Batched across problems: at step k every still-active problem goes to the decomposer in one batch, then to
the solver in one batch. The web app's step-through (backend.evaluation.stepthrough) drives one problem
through the same loop functions: `propose` / `answer` (the prompts of backend.student_formats, exactly as in
training, and the calculator), `decide` (the stop rules), `sub_answer`, `reached_cap` and
`socratic_final_answer`. tests/backend/evaluation/test_one_loop.py holds both to identical traces.
"""

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend import model_ref
from backend.checks.answers import extract_final_answer
from backend.evaluation.generate import Generated, generate_texts
from backend.evaluation.traces import StepRecord, Trace, socratic_transcript
from backend.student_formats import END_MARKER, StepText, decomposer_prompt, solver_prompt
from backend.teacher.base import GenerationParams, TeacherBackend

DEFAULT_MAX_STEPS = 8


@dataclass(frozen=True)
class LoopParams:
    max_steps: int = DEFAULT_MAX_STEPS
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int = 0
    question_tokens: int = 64  # longest sub-question
    answer_tokens: int = 128  # longest sub-answer
    calculator: bool = True
    answer_type: str = "numeric"

    def generation(self, max_tokens: int, step: int) -> GenerationParams:
        # A sub-question and a sub-answer are one line each in the training format.
        return GenerationParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=max_tokens,
            stop=["\n"],
            seed=self.seed + step,
        )


def parse_model_spec(session: Session, text: str) -> dict[str, Any]:
    """CLI/web text -> spec: a checkpoint, `default`, a configured endpoint or a model folder."""
    return model_ref.parse_model_spec(session, text)


def load_model(session: Session, spec: dict[str, Any], **options: Any) -> TeacherBackend:
    """The model a spec names, checked again (a spec may come back from a browser); `options` (e.g.
    batch_size) pass the backend options' allow-list."""
    return model_ref.open_model(session, spec, **options)


def _sub_question(text: str) -> str | None:
    """The proposed sub-question, or None when the decomposer ended (end marker or nothing written)."""
    line = text.strip().split("\n")[0].strip()
    if not line or END_MARKER in line or line.startswith(END_MARKER[:-1]):
        return None
    return line


def _normalised(question: str) -> str:
    return re.sub(r"\W+", " ", question.lower()).strip()


def decide(text: str, asked: Sequence[str | None]) -> tuple[str | None, str | None]:
    """The decomposer's stop rules, applied to what it wrote after the sub-questions `asked` so far:
    (sub-question, None) to go on, or (None, reason): "end" (end marker), "empty" (nothing at the first
    step)."""
    sub_question = _sub_question(text)
    if sub_question is None:
        return None, "end" if asked or END_MARKER in text else "empty"
    return sub_question, None


def repeats_step(answer: str, answers: Sequence[str | None]) -> bool:
    """The solver's stop rule: an answer it gave before (compared after normalisation) is no new step;
    the loop stops as "repeat" without it, so a stuck pair ends before the cap."""
    return _normalised(answer) in {_normalised(earlier or "") for earlier in answers}


def reached_cap(steps_done: int, params: LoopParams) -> bool:
    """The step cap: a decomposer that never ends still stops."""
    return steps_done >= params.max_steps


def sub_answer(text: str) -> str:
    """The solver's answer is its first line (one line per answer in the training format)."""
    return text.strip().split("\n")[0].strip()


def socratic_final_answer(answers: Sequence[str], answer_type: str) -> str | None:
    """The Socratic answer is read from the last sub-answer."""
    return extract_final_answer(answers[-1] if answers else "", answer_type)


def _pairs(trace: Trace) -> list[StepText]:
    return [StepText(step.sub_question, step.answer) for step in trace.steps]


def propose(
    decomposer: TeacherBackend, items: Sequence[tuple[str, Sequence[StepText]]], params: GenerationParams
) -> list[Generated]:
    prompts = [decomposer_prompt(question, pairs) for question, pairs in items]
    return generate_texts(decomposer, prompts, params, calculator=False)


def answer(
    solver: TeacherBackend,
    items: Sequence[tuple[str, Sequence[StepText], str]],
    params: GenerationParams,
    *,
    calculator: bool,
) -> list[Generated]:
    prompts = [solver_prompt(question, pairs, sub_question) for question, pairs, sub_question in items]
    return generate_texts(solver, prompts, params, calculator=calculator)


def next_sub_question(
    decomposer: TeacherBackend, question: str, pairs: Sequence[StepText], *, params: LoopParams | None = None
) -> str | None:
    """The decomposer's next sub-question for one problem, or None when it ends."""
    params = params or LoopParams()
    [generated] = propose(
        decomposer, [(question, pairs)], params.generation(params.question_tokens, len(pairs))
    )
    sub_question, _ = decide(generated.text, [pair.sub_question for pair in pairs])
    return sub_question


def answer_sub_question(
    solver: TeacherBackend,
    question: str,
    pairs: Sequence[StepText],
    sub_question: str,
    *,
    params: LoopParams | None = None,
) -> str:
    """The solver's answer to one sub-question (calculator annotations evaluated as it writes)."""
    params = params or LoopParams()
    generation = params.generation(params.answer_tokens, len(pairs))
    [generated] = answer(solver, [(question, pairs, sub_question)], generation, calculator=params.calculator)
    return sub_answer(generated.text)


def _add_tokens(trace: Trace, generated: Generated) -> None:
    trace.tokens_in += generated.tokens_in
    trace.tokens_out += generated.tokens_out
    trace.error = trace.error or generated.error


def _ask(
    decomposer: TeacherBackend,
    traces: list[Trace],
    questions: Sequence[str],
    active: list[int],
    params: LoopParams,
    step: int,
) -> list[tuple[int, str, Generated]]:
    """One decomposer batch; ends the problems that stop, returns (problem, sub-question, generation)."""
    items = [(questions[i], _pairs(traces[i])) for i in active]
    proposals = propose(decomposer, items, params.generation(params.question_tokens, step))
    asking = []
    for index, generated in zip(active, proposals, strict=True):
        trace = traces[index]
        _add_tokens(trace, generated)
        sub_question, stop_reason = decide(generated.text, [step.sub_question for step in trace.steps])
        if sub_question is None:
            trace.stop_reason = stop_reason or "end"
        else:
            asking.append((index, sub_question, generated))
    return asking


def solve_socratic(
    decomposer: TeacherBackend,
    solver: TeacherBackend,
    questions: Sequence[str],
    params: LoopParams | None = None,
) -> list[Trace]:
    """One Socratic trace per question (repeat a question to sample it several times)."""
    params = params or LoopParams()
    traces = [Trace() for _ in questions]
    active = list(range(len(questions)))
    step = 0
    while active and not reached_cap(step, params):
        started = time.monotonic()
        asking = _ask(decomposer, traces, questions, active, params, step)
        items = [(questions[i], _pairs(traces[i]), sub_question) for i, sub_question, _ in asking]
        answers = answer(
            solver, items, params.generation(params.answer_tokens, step), calculator=params.calculator
        )
        latency = time.monotonic() - started
        repeated = set()
        for (index, sub_question, asked), generated in zip(asking, answers, strict=True):
            _add_tokens(traces[index], generated)
            if repeats_step(sub_answer(generated.text), [s.answer for s in traces[index].steps]):
                traces[index].stop_reason = "repeat"
                repeated.add(index)
                continue
            traces[index].steps.append(
                StepRecord(
                    sub_question=sub_question,
                    answer=sub_answer(generated.text),
                    tokens=asked.tokens_out + generated.tokens_out,
                    tokens_in=asked.tokens_in + generated.tokens_in,
                    latency_s=round(latency, 4),
                    calculator=generated.calculator,
                )
            )
        for index in active:  # every problem at this step waited for both batches
            traces[index].latency_s += latency
        active = [index for index, _, _ in asking if index not in repeated]
        step += 1
    for index in active:
        traces[index].stop_reason = "cap"
    for trace in traces:
        trace.final_answer = socratic_final_answer([s.answer for s in trace.steps], params.answer_type)
        trace.raw_text = socratic_transcript(trace)
    return traces
