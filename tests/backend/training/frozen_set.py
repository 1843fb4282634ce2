"""Test data for student training and evaluation: small Socratic problems in a frozen curated set."""

from sqlmodel import Session

from backend.rationales import RationaleDraft, add_rationale
from backend.sets.curation import create_set, freeze
from backend.student_formats import StepText
from db.models import CuratedSet, Dataset, Problem, RationaleSource, Verdict

# (question, [(sub-question, step text)], gold answer)
PROBLEMS: list[tuple[str, list[tuple[str, str]], str]] = [
    (
        "Tom has 3 boxes of 5 pens. He gives away 4 pens. How many pens does he have?",
        [
            ("How many pens are in the boxes?", "3 * 5 = <<3*5=15>>15 pens."),
            ("How many pens are left?", "15 - 4 = <<15-4=11>>11 pens."),
        ],
        "11",
    ),
    (
        "Ann buys 2 books at $6 each. How much does she spend?",
        [("How much does Ann spend?", "2 * 6 = <<2*6=12>>12 dollars.")],
        "12",
    ),
    (
        "A farm has 12 cows and twice as many hens. How many animals are there?",
        [
            ("How many hens are there?", "12 * 2 = <<12*2=24>>24 hens."),
            ("How many animals are there?", "12 + 24 = <<12+24=36>>36 animals."),
        ],
        "36",
    ),
]


def make_problems(session: Session, *, name: str = "toy-socratic") -> list[Problem]:
    dataset = Dataset(name=name, source="jsonl")
    session.add(dataset)
    session.commit()
    problems = []
    for index, (question, steps, answer) in enumerate(PROBLEMS):
        gold_steps = [{"sub_question": q, "text": t, "expressions": [], "value": None} for q, t in steps]
        for gold, (_, text) in zip(gold_steps, steps, strict=True):
            gold["value"] = text.split(">>")[1].split()[0]
        assert dataset.id is not None
        problem = Problem(
            dataset_id=dataset.id,
            external_id=f"p{index}",
            question=question,
            gold_answer_raw=answer,
            gold_answer=answer,
            gold_steps=gold_steps,
            num_gold_steps=len(steps),
            content_hash=f"h{index}",
        )
        session.add(problem)
        problems.append(problem)
    session.commit()
    return problems


def add_sample(
    session: Session,
    problem: Problem,
    steps: list[tuple[str | None, str]],
    final_answer: str,
    *,
    sample_index: int = 0,
) -> int:
    draft = RationaleDraft(
        steps=[StepText(q, t) for q, t in steps],
        final_answer=final_answer,
        sample_index=sample_index,
        verdict=Verdict.correct if final_answer == problem.gold_answer else Verdict.wrong,
    )
    rationale = add_rationale(session, problem=problem, draft=draft, source=RationaleSource.manual)
    session.commit()
    assert rationale.id is not None
    return rationale.id


def make_frozen_set(session: Session, *, name: str = "toy-set", socratic: bool = True) -> CuratedSet:
    """A frozen set with one rationale per toy problem (without sub-questions unless `socratic`)."""
    problems = make_problems(session, name=f"{name}-data")
    picks = []
    for problem, (_, steps, answer) in zip(problems, PROBLEMS, strict=True):
        kept = [(q if socratic else None, t) for q, t in steps]
        picks.append(add_sample(session, problem, kept, answer))
    curated_set = create_set(session, name=name, picks=picks)
    assert curated_set.id is not None
    return freeze(session, set_id=curated_set.id)
