"""Prompt templates and few-shot examples for the four teacher modes.

A template is plain text with `{placeholders}` (literal braces are doubled: `{{` and `}}`):
`{examples}` (the rendered few-shot block), `{question}`, `{hint}` (the gold answer when the run shows
it: rationalization) and, for `rationalize` only, `{step}` (one reference solution step). Templates are
typed by users, so they are filled by `fill_template`, which knows only those names and replaces them
literally: str.format also evaluated format specs (`{question:>200000000}` built 200 MB) and attribute
lookups (`{question.__class__.__mro__}`). Few-shot
examples share one shape for every mode, so one list serves them all:
`{"question": str, "steps": [{"sub_question": str, "text": str}], "answer": str}`.
Both are copied onto the TeacherRun, so a run can always be reproduced and its prompt previewed.
"""

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from backend.access.limits import MAX_TEMPLATE_CHARS, check_length
from backend.checks.calculator import strip_annotations
from backend.student_formats import ANSWER_PREFIX
from db.models import Problem, TeacherMode

ALLOWED_FIELDS: dict[TeacherMode, set[str]] = {
    TeacherMode.cot: {"examples", "question", "hint"},
    TeacherMode.socratic: {"examples", "question", "hint"},
    TeacherMode.rationalize: {"examples", "question", "step"},
    TeacherMode.decompose: {"examples", "question", "hint"},
}
REQUIRED_FIELDS: dict[TeacherMode, set[str]] = {
    TeacherMode.cot: {"question"},
    TeacherMode.socratic: {"question"},
    TeacherMode.rationalize: {"step"},
    TeacherMode.decompose: {"question"},
}
# Where each mode's output ends: the model tends to carry on with another made-up problem.
DEFAULT_STOP: dict[TeacherMode, list[str]] = {
    TeacherMode.cot: ["\n\n", "\nQuestion:"],
    TeacherMode.socratic: ["\n\n", "\nProblem:"],
    TeacherMode.rationalize: ["\n"],  # one sub-question per generation
    TeacherMode.decompose: ["\n\n", "\nProblem:"],
}
DEFAULT_MAX_TOKENS: dict[TeacherMode, int] = {
    TeacherMode.cot: 256,
    TeacherMode.socratic: 320,
    TeacherMode.rationalize: 40,
    TeacherMode.decompose: 128,
}


@cache
def _template_file(name: str) -> str:
    return resources.files("backend.teacher").joinpath("templates", name).read_text(encoding="utf-8")


def default_template(mode: TeacherMode | str) -> str:
    return _template_file(f"{TeacherMode(mode).value}.txt")


def default_few_shot() -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = json.loads(_template_file("examples.json"))
    return examples


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")  # {{, }}, {name}, or a stray brace
_NAMES = frozenset(name for names in ALLOWED_FIELDS.values() for name in names)


def _placeholders(template: str) -> list[re.Match[str]]:
    """Every brace construct of a template; a stray brace or a placeholder that is not a plain known
    name (a format spec, an attribute, an index) is a ValueError saying how to write it."""
    found = []
    for match in _PLACEHOLDER.finditer(template):
        text = match.group()
        if text in ("{{", "}}"):
            found.append(match)
            continue
        name = match.group(1)
        if name is None:
            problem = f"a single {text!r} at character {match.start() + 1}"
        elif not name.isidentifier():
            shown = text if len(text) <= 40 else text[:37] + "...}"
            problem = f"{shown} is not a placeholder (no format specs, attributes or indexes)"
        else:
            found.append(match)
            continue
        raise ValueError(
            f"prompt template is not valid: {problem}; write a placeholder as {{question}} and a literal"
            " brace as {{ or }}"
        )
    return found


def template_fields(template: str) -> set[str]:
    """The placeholder names a template uses (its braces checked: see `_placeholders`)."""
    check_length("the prompt template", template, MAX_TEMPLATE_CHARS)
    return {match.group(1) for match in _placeholders(template) if match.group(1) is not None}


def fill_template(template: str, values: dict[str, str]) -> str:
    """The template with each `{name}` replaced by `values[name]` as it is, and `{{`, `}}` by one brace:
    one pass, nothing evaluated. Names must be checked first (`validate_template`)."""

    def replacement(match: re.Match[str]) -> str:
        name = match.group(1)
        return match.group()[0] if name is None else values[name]

    return _PLACEHOLDER.sub(replacement, template)


def validate_template(mode: TeacherMode | str, template: str) -> None:
    """Refuse malformed, unknown or missing placeholders with a message naming them."""
    mode = TeacherMode(mode)
    names = template_fields(template)
    unknown = names - ALLOWED_FIELDS[mode]
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in sorted(ALLOWED_FIELDS[mode]))
        shown = sorted(name if len(name) <= 40 else name[:37] + "..." for name in unknown)
        raise ValueError(f"unknown placeholder(s) {shown[:5]} in the {mode} template; allowed: {allowed}")
    missing = REQUIRED_FIELDS[mode] - names
    if missing:
        raise ValueError(
            f"the {mode} template must contain {', '.join('{' + m + '}' for m in sorted(missing))}"
        )


def validate_few_shot(mode: TeacherMode | str, few_shot: list[dict[str, Any]]) -> None:
    """Each example needs a question and steps; sub-questions and answers where the mode shows them."""
    mode = TeacherMode(mode)
    needs_sub_question = mode != TeacherMode.cot
    for number, example in enumerate(few_shot, start=1):
        where = f"few-shot example {number}"
        if not isinstance(example, dict) or not str(example.get("question", "")).strip():
            raise ValueError(f"{where}: needs a non-empty 'question'")
        steps = example.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValueError(f"{where}: needs a non-empty list of 'steps'")
        for index, step in enumerate(steps, start=1):
            if not isinstance(step, dict) or not str(step.get("text", "")).strip():
                raise ValueError(f"{where}, step {index}: needs a non-empty 'text'")
            if needs_sub_question and not str(step.get("sub_question") or "").strip():
                raise ValueError(f"{where}, step {index}: the {mode} mode needs a 'sub_question'")
        if mode in (TeacherMode.cot, TeacherMode.socratic) and not str(example.get("answer", "")).strip():
            raise ValueError(f"{where}: the {mode} mode needs an 'answer'")


def render_example(mode: TeacherMode, example: dict[str, Any]) -> str:
    """One example laid out exactly as the mode's output should look, then a blank line."""
    question, steps = example["question"].strip(), example["steps"]
    answer = f"{ANSWER_PREFIX} {str(example.get('answer', '')).strip()}\n"
    if mode == TeacherMode.cot:
        return (
            f"Question: {question}\nAnswer:\n"
            + "".join(f"{s['text'].strip()}\n" for s in steps)
            + answer
            + "\n"
        )
    if mode == TeacherMode.socratic:
        pairs = "".join(
            f"Q{n}: {s['sub_question'].strip()}\nA{n}: {s['text'].strip()}\n"
            for n, s in enumerate(steps, start=1)
        )
        return f"Problem: {question}\n{pairs}{answer}\n"
    if mode == TeacherMode.rationalize:
        # Step -> question pairs alone: with the problem text in each example SmolLM2 asked about the
        # problem instead of the step, and the prompt was twice as long.
        return "".join(
            f"Step: {strip_annotations(s['text']).strip()}\nQuestion: {s['sub_question'].strip()}\n\n"
            for s in steps
        )
    numbered = "".join(f"{n}. {s['sub_question'].strip()}\n" for n, s in enumerate(steps, start=1))
    return f"Problem: {question}\nSub-questions:\n{numbered}\n"


def render_examples(mode: TeacherMode | str, few_shot: list[dict[str, Any]]) -> str:
    mode = TeacherMode(mode)
    validate_few_shot(mode, few_shot)
    return "".join(render_example(mode, example) for example in few_shot)


def render_prompt(
    mode: TeacherMode | str,
    *,
    question: str,
    template: str | None = None,
    few_shot: list[dict[str, Any]] | None = None,
    gold_answer: str | None = None,
    step: str | None = None,
) -> str:
    """The exact prompt sent to the teacher (the web app previews it with a problem and the run's settings).

    `gold_answer` fills `{hint}` (leave it None unless the run shows the gold answer); `step` is the
    reference step for `rationalize`.
    """
    mode = TeacherMode(mode)
    template = default_template(mode) if template is None else template
    validate_template(mode, template)
    if mode == TeacherMode.rationalize and not (step or "").strip():
        raise ValueError("the rationalize mode needs a reference step")
    hint = f"Hint: the correct answer is {gold_answer.strip()}.\n" if gold_answer else ""
    values = {
        "examples": render_examples(mode, default_few_shot() if few_shot is None else few_shot),
        "question": question.strip(),
        "hint": hint,
        "step": strip_annotations(step or "").strip(),
    }
    return fill_template(template, values)


def reference_steps(problem: Problem) -> list[str]:
    """The problem's gold solution steps (rationalize asks one sub-question per step)."""
    return [
        str(step.get("text", "")).strip() for step in problem.gold_steps if str(step.get("text", "")).strip()
    ]


def problem_prompts(
    mode: TeacherMode | str,
    problem: Problem,
    *,
    template: str,
    few_shot: list[dict[str, Any]],
    show_gold: bool,
) -> list[str]:
    """All prompts one problem needs: one per reference step for rationalize, else one."""
    mode = TeacherMode(mode)
    gold = (problem.gold_answer or problem.gold_answer_raw or None) if show_gold else None
    if mode != TeacherMode.rationalize:
        return [
            render_prompt(
                mode, question=problem.question, template=template, few_shot=few_shot, gold_answer=gold
            )
        ]
    steps = reference_steps(problem)
    if not steps:
        raise ValueError(f"problem {problem.id} has no reference solution steps to rationalize")
    return [
        render_prompt(mode, question=problem.question, template=template, few_shot=few_shot, step=step)
        for step in steps
    ]
