import dataclasses
from collections import Counter

import pytest

from backend.sets.curation import CuratedRecord, create_set, freeze, frozen_records
from backend.sets.exporters import export_records
from backend.student_formats import END_MARKER, StepText, examples_for
from backend.training.config import FilterPolicy
from backend.training.data import (
    NO_FINAL_ANSWER,
    WRONG_ANSWER,
    build_training_examples,
    is_correct,
    select_records,
    to_dataset,
)
from db.models import StudentKind
from tests.backend.training.frozen_set import add_sample, make_frozen_set, make_problems

STEPS = [
    StepText("How many pens?", "3 * 5 = <<3*5=15>>15."),
    StepText("How many left?", "15 - 4 = <<15-4=11>>11."),
]


def record(rationale_id: int, problem_id: int, final_answer: str, gold: str | None = "11") -> CuratedRecord:
    return CuratedRecord(
        rationale_id=rationale_id,
        revision_number=1,
        problem_id=problem_id,
        question=f"Question {problem_id}?",
        gold_answer=gold,
        answer_type="numeric",
        steps=STEPS,
        final_answer=final_answer,
    )


# Two questions: question 1 has two correct samples and one wrong; question 2 one correct, one wrong.
RECORDS = [
    record(1, 1, "11"),
    record(2, 1, "12"),
    record(3, 1, "11.0"),
    record(4, 2, "11"),
    record(5, 2, "$7"),
]


def examples_of(records: list[CuratedRecord], **options: object) -> list:  # type: ignore[type-arg]
    return build_training_examples(records, **options).examples  # type: ignore[arg-type]


def ids(records: list[CuratedRecord]) -> list[int]:
    return [r.rationale_id for r in records]


def test_correctness_compares_numbers_and_keeps_records_without_gold():
    assert is_correct(record(1, 1, "11.0")) and not is_correct(record(1, 1, "12"))
    assert is_correct(record(1, 1, "anything", gold=None))


def test_filter_policies():
    assert ids(select_records(RECORDS, policy=FilterPolicy.all)) == [1, 2, 3, 4, 5]
    assert ids(select_records(RECORDS, policy=FilterPolicy.all_correct)) == [1, 3, 4]
    assert ids(select_records(RECORDS, policy=FilterPolicy.one_correct_per_question)) == [1, 4]


def test_balanced_policy_sees_each_question_once_per_epoch_with_varying_rationales():
    chosen = select_records(RECORDS, policy=FilterPolicy.balanced, epochs=20, seed=1)
    assert len(chosen) == 40
    for epoch in range(20):  # each epoch block holds both questions exactly once
        assert sorted(r.problem_id for r in chosen[2 * epoch : 2 * epoch + 2]) == [1, 2]
    per_rationale = Counter(ids(chosen))
    assert set(per_rationale) == {1, 3, 4} and per_rationale[4] == 20  # wrong ones never drawn
    assert per_rationale[1] > 0 and per_rationale[3] > 0  # both correct samples of question 1 are used
    assert ids(select_records(RECORDS, policy=FilterPolicy.balanced, epochs=20, seed=1)) == ids(chosen)


def test_examples_come_from_the_shared_formats():
    examples = build_training_examples(
        RECORDS[:1], kind=StudentKind.decomposer, policy=FilterPolicy.all
    ).examples
    assert examples == examples_for(StudentKind.decomposer, "Question 1?", STEPS, "11")
    assert examples[-1].completion == f" {END_MARKER}"
    dataset = to_dataset(examples)
    assert dataset.column_names == ["prompt", "completion"] and len(dataset) == 3


def test_no_surviving_rationale_is_a_clear_error():
    with pytest.raises(ValueError, match="no rationale of the set passes the all_correct"):
        examples_of([RECORDS[1]], kind=StudentKind.cot, policy=FilterPolicy.all_correct)


def test_socratic_kind_on_rationales_without_sub_questions_names_them(session):
    curated_set = make_frozen_set(session, socratic=False)
    assert curated_set.id is not None
    records = frozen_records(session, set_id=curated_set.id)
    assert build_training_examples(
        records, kind=StudentKind.cot, policy=FilterPolicy.all
    ).examples  # fine for CoT
    with pytest.raises(ValueError, match=r"no decomposer example.*3 rationale\(s\) have steps without sub-q"):
        examples_of(records, kind=StudentKind.decomposer, policy=FilterPolicy.all)


def test_frozen_multi_sample_set_keeps_correct_samples(session):
    problem = make_problems(session)[0]
    good = add_sample(session, problem, [("How many?", "It is 11.")], "11", sample_index=0)
    bad = add_sample(session, problem, [("How many?", "It is 10.")], "10", sample_index=1)
    curated_set = create_set(session, name="multi", picks=[good, bad])
    assert curated_set.id is not None
    freeze(session, set_id=curated_set.id)
    records = frozen_records(session, set_id=curated_set.id)
    assert ids(select_records(records, policy=FilterPolicy.all_correct)) == [good]


def test_a_rationale_without_a_final_answer_is_never_correct_and_never_gets_the_gold(session, tmp_path):
    """A teacher output cut off before its answer must not train a student to write the gold after it."""
    problem = make_problems(session)[0]
    cut_off = add_sample(session, problem, [("How many pens?", "3 * 5 = 15 pens. Then")], "", sample_index=0)
    good = add_sample(session, problem, [("How many?", "It is 11.")], "11", sample_index=1)
    wrong = add_sample(session, problem, [("How many?", "It is 10.")], "10", sample_index=2)
    curated_set = create_set(session, name="with-cut-off", picks=[cut_off, good, wrong])
    assert curated_set.id is not None
    freeze(session, set_id=curated_set.id)
    records = frozen_records(session, set_id=curated_set.id)
    assert [r.final_answer for r in records] == ["", "11", "10"]  # not filled in from the gold "11"
    assert not is_correct(records[0]) and not is_correct(record(9, 9, "", gold=None))
    build = build_training_examples(records, kind=StudentKind.cot, policy=FilterPolicy.all_correct)
    assert [e.completion for e in build.examples] == [" It is 11. So the answer is: 11"]
    assert build.dropped == Counter({NO_FINAL_ANSWER: 1, WRONG_ANSWER: 1})
    report = export_records(records, kind=StudentKind.cot, fmt="prompt_completion", path="x.jsonl",
                            allowed_root=tmp_path)  # fmt: skip
    assert (report.written, report.skipped) == (2, 1) and report.dropped == {NO_FINAL_ANSWER: 1}
    assert "dropped 1 rationales: 1 no final answer" in report.summary()


def test_decompose_only_rationales_make_decomposer_but_never_empty_solver_examples():
    decomposition = CuratedRecord(
        rationale_id=7, revision_number=1, problem_id=7, question="Q?", gold_answer="11",
        answer_type="numeric", steps=[StepText("How many pens?", ""), StepText("How many left?", "")],
        final_answer="",
    )  # fmt: skip
    full = record(8, 8, "11")
    solver = build_training_examples([decomposition, full], kind=StudentKind.solver, policy=FilterPolicy.all)
    assert len(solver.examples) == 2 and all(e.completion.strip() for e in solver.examples)
    assert list(solver.dropped) == ["steps without text (decompose-only)"]
    decomposer = build_training_examples(
        [decomposition], kind=StudentKind.decomposer, policy=FilterPolicy.all
    ).examples
    assert [e.completion for e in decomposer] == [" How many pens?", " How many left?", f" {END_MARKER}"]


def test_flagged_sub_questions_stay_as_context_but_out_of_the_decomposer_loss():
    # Step 2 repeats step 1's sub-question: a check flags it; the rationale keeps its depth and its end.
    steps = [STEPS[0], StepText("How many pens?", STEPS[1].text)]
    flagged = dataclasses.replace(record(1, 1, "11"), steps=steps)
    plain = build_training_examples([flagged], kind=StudentKind.decomposer, policy=FilterPolicy.all)
    skipped = build_training_examples(
        [flagged], kind=StudentKind.decomposer, policy=FilterPolicy.all, skip_flagged_sub_questions=True
    )
    assert len(plain.examples) == 3 and plain.untrained_sub_questions == 0
    # The repeated question is not a target any more; the first question and the end marker still are.
    assert [e.completion for e in skipped.examples] == [" How many pens?", f" {END_MARKER}"]
    assert skipped.untrained_sub_questions == 1
    [dialogue] = skipped.dialogues
    trained = [text for text, is_trained in dialogue.segments if is_trained]
    assert trained == [" How many pens?\n", f" {END_MARKER}"]
    assert "A2: 15 - 4" in dialogue.text  # the flagged step is still context for what follows


def test_skipping_flagged_sub_questions_leaves_the_solver_alone():
    steps = [STEPS[0], StepText("How many pens?", STEPS[1].text)]
    flagged = dataclasses.replace(record(1, 1, "11"), steps=steps)
    options = {"kind": StudentKind.solver, "policy": FilterPolicy.all}
    plain = build_training_examples([flagged], **options)  # type: ignore[arg-type]
    skipped = build_training_examples([flagged], skip_flagged_sub_questions=True, **options)  # type: ignore[arg-type]
    assert plain.examples == skipped.examples and plain.dialogues == skipped.dialogues
    assert skipped.untrained_sub_questions == 0
