from backend.evaluation.cot import SingleParams, few_shot_prefix, solve_single
from backend.sets.curation import CuratedRecord
from backend.student_formats import StepText, cot_prompt
from db.models import StudentKind
from tests.backend.evaluation.scripted import ScriptedBackend

RECORD = CuratedRecord(
    rationale_id=1,
    revision_number=1,
    problem_id=1,
    question="Tom has 3 boxes of 5 pens. How many pens?",
    gold_answer="15",
    answer_type="numeric",
    steps=[StepText(None, "3 * 5 = <<3*5=15>>15 pens.")],
    final_answer="15",
)


def test_few_shot_prefix_uses_the_training_format():
    shot = "Q: Tom has 3 boxes of 5 pens. How many pens?\nA: 3 * 5 = <<3*5=15>>15 pens. So the answer is: 15"
    assert few_shot_prefix([RECORD]) == shot + "\n\n"
    assert few_shot_prefix([RECORD], kind=StudentKind.answer_only).endswith("A: So the answer is: 15\n\n")


def test_cot_is_one_generation_with_sentences_as_steps_and_the_stated_answer():
    def student(prompt: str) -> str:
        if prompt.endswith(">>"):
            return "8 apples. So the answer is: 8\nQ: a new question the model invents"
        return " She has 12 - 4 = <<12-4=9>>9 apples"

    backend = ScriptedBackend(student)
    [trace] = solve_single(backend, ["How many apples?"], prefix="SHOTS\n\n")
    assert backend.calls[0] == ["SHOTS\n\n" + cot_prompt("How many apples?")]
    assert (
        trace.raw_text == "She has 12 - 4 = <<12-4=8>>8 apples. So the answer is: 8"
    )  # cut at the next "Q:"
    assert trace.final_answer == "8" and trace.stop_reason == "answer"
    assert [s.answer for s in trace.steps] == ["She has 12 - 4 = <<12-4=8>>8 apples."]
    assert trace.steps[0].calculator == [{"expression": "12-4", "claimed": "9", "computed": "8"}]


def test_answer_only_without_a_number_is_unparseable():
    [trace] = solve_single(
        ScriptedBackend(lambda p: " I do not know."), ["How many?"], SingleParams(max_tokens=8)
    )
    assert trace.final_answer is None and trace.steps[0].answer == "I do not know."


def test_an_output_that_stops_before_its_answer_marker_is_truncated_not_graded_on_its_last_number():
    from backend.evaluation.traces import error_category

    backend = ScriptedBackend(lambda prompt: " He has 120 - 14 = 106 dollars. Then he spends")
    [trace] = solve_single(backend, ["How much is left?"], SingleParams(max_tokens=12))
    assert trace.final_answer is None and trace.stop_reason == "truncated"  # not "106"
    assert error_category(trace, correct=False, first_divergent=None, num_gold_steps=2) == "truncated"
