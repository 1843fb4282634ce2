"""Divide-or-Conquer: a small decompose-only student writes the sub-question list once; any teacher
backend then solves the problem once with those sub-questions in its prompt (two static stages)."""

import re
import time
from collections.abc import Sequence

from backend.checks.answers import extract_final_answer
from backend.evaluation.cot import STOP, SingleParams
from backend.evaluation.generate import Generated, generate_texts
from backend.evaluation.traces import StepRecord, Trace, cot_steps
from backend.student_formats import ANSWER_PREFIX, NO_DECOMPOSITION, decompose_only_prompt
from backend.teacher.base import GenerationParams, TeacherBackend

_NUMBERED = re.compile(r"^\s*\d+[.)]\s*(.+?)\s*$")
MAX_SUB_QUESTIONS = 8


def parse_sub_questions(text: str) -> list[str]:
    """`\\n1. ...\\n2. ...` -> the questions; "No decomposition" (or nothing numbered) -> []."""
    if text.strip().startswith(NO_DECOMPOSITION):
        return []
    questions = [m.group(1) for line in text.splitlines() if (m := _NUMBERED.match(line))]
    return questions[:MAX_SUB_QUESTIONS]


def solver_prompt_with_plan(question: str, sub_questions: Sequence[str]) -> str:
    """The teacher's prompt: the CoT prompt with the plan written into the question."""
    if not sub_questions:
        return f"Q: {question.strip()}\nA:"
    plan = " ".join(f"({number}) {text}" for number, text in enumerate(sub_questions, start=1))
    return (
        f"Q: {question.strip()}\nAnswer these sub-questions in order: {plan}\n"
        f'End with "{ANSWER_PREFIX} <answer>".\nA:'
    )


def _trace(plan: Generated, subs: list[str], solution: Generated, latency: float, answer_type: str) -> Trace:
    """The plan's questions paired in order with the solver's sentences (for display and divergence)."""
    text = solution.text.strip()
    sentences = cot_steps(text)
    steps = [
        StepRecord(
            sub_question=subs[i] if i < len(subs) else None, answer=sentences[i] if i < len(sentences) else ""
        )
        for i in range(max(len(subs), len(sentences)))
    ]
    return Trace(
        steps=steps,
        final_answer=extract_final_answer(text, answer_type),
        stop_reason="single",
        raw_text=f"[plan]{plan.text}\n[solution] {text}",
        tokens_in=plan.tokens_in + solution.tokens_in,
        tokens_out=plan.tokens_out + solution.tokens_out,
        latency_s=latency,
        error=plan.error or solution.error,
    )


def solve_divide_conquer(
    decomposer: TeacherBackend,
    solver: TeacherBackend,
    questions: Sequence[str],
    params: SingleParams | None = None,
    *,
    prefix: str = "",
) -> list[Trace]:
    """`prefix`: solved examples before each solver prompt (a base model asked zero-shot in this plain
    format writes "10\nB: 10\nC: ..." or nothing; the shots show it what a solution looks like)."""
    params = params or SingleParams()
    plan_params = GenerationParams(max_tokens=128, stop=["\n\n", "\nProblem:"], seed=params.seed)
    started = time.monotonic()
    plans = generate_texts(
        decomposer, [decompose_only_prompt(q) for q in questions], plan_params, calculator=False
    )
    sub_questions = [parse_sub_questions(plan.text) for plan in plans]
    solve_params = GenerationParams(
        temperature=params.temperature,
        top_p=params.top_p,
        max_tokens=params.max_tokens,
        stop=STOP,
        seed=params.seed,
    )
    prompts = [
        prefix + solver_prompt_with_plan(q, subs) for q, subs in zip(questions, sub_questions, strict=True)
    ]
    solutions = generate_texts(solver, prompts, solve_params, calculator=params.calculator)
    latency = time.monotonic() - started
    return [
        _trace(plan, subs, solution, latency, params.answer_type)
        for plan, subs, solution in zip(plans, sub_questions, solutions, strict=True)
    ]
