"""The keep policies keep exactly what they say: correct samples with sound arithmetic, the first of each
question or all of them; a wrong answer or a wrong sum is never kept."""

import pytest
from sqlmodel import Session

from backend.rationales import RationaleDraft, add_rationale
from backend.rounds.config import RoundConfig
from backend.rounds.keep import (
    Sample,
    kept_per_question,
    kept_samples,
    load_samples,
    new_reasoning,
    select_kept,
)
from backend.student_formats import StepText
from backend.training.config import FilterPolicy
from db.models import RationaleSource, TeacherMode, TeacherRun, Verdict
from tests.backend.training.frozen_set import make_problems

SAMPLES = [
    Sample(rationale_id=1, problem_id=10, correct=False, arithmetic_ok=True),
    Sample(rationale_id=2, problem_id=10, correct=True, arithmetic_ok=True),
    Sample(rationale_id=3, problem_id=10, correct=True, arithmetic_ok=True),
    Sample(rationale_id=4, problem_id=20, correct=True, arithmetic_ok=False),  # right answer, wrong sum
    Sample(rationale_id=5, problem_id=20, correct=False, arithmetic_ok=False),
    Sample(rationale_id=6, problem_id=30, correct=True, arithmetic_ok=True),
]


def test_one_per_question_keeps_the_first_correct_sample_of_each_question() -> None:
    assert kept_samples(SAMPLES, FilterPolicy.one_correct_per_question) == [2, 6]


@pytest.mark.parametrize("policy", [FilterPolicy.all_correct, FilterPolicy.balanced])
def test_all_correct_and_balanced_keep_every_correct_sample_with_sound_arithmetic(
    policy: FilterPolicy,
) -> None:
    assert kept_samples(SAMPLES, policy) == [2, 3, 6]


def test_a_round_never_keeps_wrong_samples() -> None:
    with pytest.raises(ValueError, match="not all"):
        kept_samples(SAMPLES, FilterPolicy.all)
    with pytest.raises(ValueError, match="keep must be one of"):
        RoundConfig(student="cot", eval_dataset="gsm8k", keep=FilterPolicy.all)


def test_the_histogram_counts_questions_by_samples_kept() -> None:
    assert kept_per_question([10, 10, 30], [10, 20, 30, 40]) == {0: 2, 1: 1, 2: 1}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"student": " "}, "choose the student"),
        ({"samples": 0}, "samples must be 1..64"),
        ({"samples": 65}, "samples must be 1..64"),
        ({"samples": 4, "temperature": 0}, "need temperature > 0"),
        ({"temperature": 3}, "temperature must be 0..2"),
        ({"eval_dataset": ""}, "choose the dataset"),
        ({"eval_limit": 0}, "eval_limit must be >= 1"),
        ({"epochs": 0}, "epochs must be above 0"),
        ({"batch_size": 0}, "batch_size must be 1..512"),
        ({"surprise": 1}, "unknown round settings fields"),
    ],
)
def test_bad_round_settings_are_refused_with_the_field_named(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoundConfig(**({"student": "cot", "eval_dataset": "gsm8k"} | fields))  # type: ignore[arg-type]


def test_a_stored_sample_with_a_wrong_sum_is_marked_so(session: Session) -> None:
    problem = make_problems(session, name="toy")[1]  # Ann's books: 2 * 6 = 12
    run = TeacherRun(name="samples", backend="transformers", model="m", mode=TeacherMode.cot)
    session.add(run)
    session.commit()
    for index, text in enumerate(["2 * 6 = <<2*6=12>>12 dollars.", "2 * 6 = <<2*6=13>>12 dollars."]):
        draft = RationaleDraft(steps=[StepText(None, text)], final_answer="12", sample_index=index,
                               verdict=Verdict.correct)  # fmt: skip
        add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher, run_id=run.id)
    session.commit()
    samples = load_samples(session, [run.id or 0])
    assert [(s.correct, s.arithmetic_ok) for s in samples] == [(True, True), (True, False)]


def test_new_reasoning_drops_samples_reasoning_as_the_set_or_an_earlier_sample_does() -> None:
    from backend.teacher.parsing import reasoning_key

    gold = "Half of 240 is 240 / 2 = 120.\nShe needs 240 - 120 = 120 more.\n#### 120"
    same = "Half of 240 is 240 / 2 = 120. She needs  240 - 120 = 120 more. So the answer is: 120"
    other = "She has paid 240 / 2 = 120, so 120 is left. So the answer is: 120"
    assert reasoning_key(gold) == reasoning_key(same) != reasoning_key(other)
    kept = [
        Sample(1, 10, True, True, reasoning_key(same)),  # the gold, written back
        Sample(2, 10, True, True, reasoning_key(other)),  # a new way
        Sample(3, 10, True, True, reasoning_key(other)),  # the new way again
        Sample(4, 20, True, True, reasoning_key(other)),  # another question: its own set
    ]
    assert [s.rationale_id for s in new_reasoning(kept, {10: {reasoning_key(gold)}})] == [2, 4]
    assert [s.rationale_id for s in new_reasoning(kept, {})] == [1, 2, 4]


def test_select_kept_sorts_what_the_policy_passes_into_repeats_of_the_set_and_new_reasoning() -> None:
    from backend.sets.curation import CuratedRecord
    from backend.teacher.parsing import reasoning_key

    step_texts = ["Half of 240 is 240 / 2 = 120.", "She needs 240 - 120 = 120 more."]
    record = CuratedRecord(
        rationale_id=99, revision_number=1, problem_id=10, question="q", gold_answer="120",
        answer_type="number", steps=[StepText(None, text) for text in step_texts], final_answer="120",
    )  # fmt: skip
    copy = reasoning_key("Half of 240 is 240 / 2 = 120. She needs 240 - 120 = 120 more. #### 120")
    other = reasoning_key("She has paid 240 / 2 = 120, so 120 is left. #### 120")
    samples = [
        Sample(1, 10, True, True, copy),  # passes, repeats the set's rationale
        Sample(2, 10, True, True, other),  # passes, new
        Sample(3, 10, False, True, reasoning_key("It is 7. #### 7")),  # wrong: never passes
        Sample(4, 20, True, False, other),  # wrong sum: never passes
        Sample(5, 20, True, True, other),  # passes, new for its own question
    ]
    selection = select_kept(samples, FilterPolicy.all_correct, [record])
    assert [s.rationale_id for s in selection.passed] == [1, 2, 5]
    assert [s.rationale_id for s in selection.fresh] == [2, 5]
    assert selection.repeats == 1
    one = select_kept(samples, FilterPolicy.one_correct_per_question, [record])
    assert [s.rationale_id for s in one.passed] == [1, 5] and [s.rationale_id for s in one.fresh] == [5]
