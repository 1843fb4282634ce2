"""Writing rationales: one place that creates a rationale with its steps and its first revision."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend.checks.calculator import annotate_step
from backend.student_formats import StepText
from db.models import Problem, Rationale, RationaleSource, Revision, Step, Verdict


@dataclass
class RationaleDraft:
    """A parsed rationale not yet stored (from an importer, a teacher, a student trace or a person)."""

    steps: list[StepText]
    final_answer: str | None
    raw_text: str = ""
    verdict: Verdict = Verdict.unchecked
    sample_index: int = 0
    logprob: float | None = None
    tokens_out: int = 0
    is_duplicate: bool = False
    error: str | None = None


def revision_content(steps: Sequence[StepText], final_answer: str | None) -> dict[str, Any]:
    return {
        "steps": [{"sub_question": step.sub_question, "text": step.text} for step in steps],
        "final_answer": final_answer,
    }


def steps_from_content(content: dict[str, Any]) -> list[StepText]:
    return [
        StepText(sub_question=s.get("sub_question"), text=s.get("text", "")) for s in content.get("steps", [])
    ]


def build_steps(rationale_id: int, steps: Sequence[StepText]) -> list[Step]:
    rows = []
    for position, step in enumerate(steps):
        expressions, value = annotate_step(step.text)
        rows.append(
            Step(
                rationale_id=rationale_id,
                position=position,
                sub_question=step.sub_question,
                text=step.text,
                expressions=expressions,
                value=value,
            )
        )
    return rows


def add_rationale(
    session: Session,
    *,
    problem: Problem,
    draft: RationaleDraft,
    source: RationaleSource,
    run_id: int | None = None,
    author_id: int | None = None,
) -> Rationale:
    """Add (not commit) a rationale, its steps and revision 1; the caller commits in batches."""
    assert problem.id is not None
    rationale = Rationale(
        problem_id=problem.id,
        dataset_id=problem.dataset_id,
        split=problem.split,
        run_id=run_id,
        source=source,
        sample_index=draft.sample_index,
        raw_text=draft.raw_text,
        final_answer=draft.final_answer,
        verdict=draft.verdict,
        logprob=draft.logprob,
        tokens_out=draft.tokens_out,
        is_duplicate=draft.is_duplicate,
        error=draft.error,
        num_steps=len(draft.steps),
        current_revision=1,
    )
    session.add(rationale)
    session.flush()  # assigns rationale.id for the child rows
    assert rationale.id is not None
    session.add_all(build_steps(rationale.id, draft.steps))
    session.add(
        Revision(
            rationale_id=rationale.id,
            number=1,
            author_id=author_id,
            content=revision_content(draft.steps, draft.final_answer),
            comment="original",
        )
    )
    return rationale
