"""Reading traces against the reference, with hand-made traces."""

import pytest

from backend.evaluation.traces import (
    StepRecord,
    Trace,
    cot_steps,
    error_category,
    first_divergent_step,
    majority_vote,
    trace_values,
    vote,
)

GOLD = [{"value": "15"}, {"value": "11"}, {"value": "22"}]


def trace(*answers: str, stop: str = "end", final: str | None = "22") -> Trace:
    return Trace(
        steps=[StepRecord(f"q{i}?", a) for i, a in enumerate(answers)], final_answer=final, stop_reason=stop
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["15", "11", "22"], None),  # follows the reference all the way
        (["15.0", "11", "22", "5"], None),  # extra steps after every reference value matched
        (["14", "11", "22"], 0),
        (["15", "12", "22"], 1),
        (["15", None, "22"], 1),  # a step without a number departs
        (["15"], 1),  # stopped before the second reference step
        ([], 0),
    ],
)
def test_first_divergent_step_by_intermediate_value(values, expected):
    assert first_divergent_step(values, GOLD) == expected


def test_reference_steps_without_values_are_skipped():
    assert first_divergent_step(["1", "2"], [{"value": None}, {"value": "2"}]) is None
    assert first_divergent_step(["1"], []) is None


def test_trace_values_read_calculator_results_first():
    assert trace_values(trace("3 * 5 = <<3*5=15>>15 pens.", "He has 11 left.", "Nothing")) == [
        "15",
        "11",
        None,
    ]


def test_error_categories_most_specific_first():
    def category(t: Trace, divergent: int | None, correct: bool = False, gold_steps: int = 3) -> str | None:
        return error_category(t, correct=correct, first_divergent=divergent, num_gold_steps=gold_steps)

    assert category(trace("a", "b", "22"), None, correct=True) is None
    assert category(trace("no number", final=None), 0) == "unparseable"
    assert category(trace("3 * 5 = <<3*5=16>>16", "x 11", "x 23", final="23"), 0) == "arithmetic"
    assert category(trace("15", "11", "1", "2", stop="cap", final="2"), 2) == "too_many_steps"
    assert category(trace("14", "11", "23", final="23"), 0) == "wrong_first_step"
    assert category(trace("15", final="15"), 1) == "stopped_early"
    assert category(trace("15", "11", "23", final="23"), 2) == "wrong_final"


def test_majority_vote_normalises_and_breaks_ties_by_first_seen():
    assert majority_vote(["12", "$12.00", "7", None]) == "12"
    assert majority_vote(["7", "12"]) == "7"
    assert majority_vote([None, "no number"]) is None


def test_vote_keeps_a_sample_with_the_winning_answer_and_the_cost_of_all():
    samples = [
        Trace(
            steps=[StepRecord("q", "7")],
            final_answer="7",
            tokens_in=10,
            tokens_out=2,
            latency_s=1.0,
            raw_text="a",
        ),
        Trace(
            steps=[StepRecord("q", "12")],
            final_answer="12",
            tokens_in=10,
            tokens_out=3,
            latency_s=2.0,
            raw_text="b",
        ),
        Trace(
            steps=[StepRecord("q", "12.0")],
            final_answer="12.0",
            tokens_in=10,
            tokens_out=4,
            latency_s=1.5,
            raw_text="c",
        ),
    ]
    voted = vote(samples)
    assert voted.final_answer == "12" and voted.steps == samples[1].steps
    assert (voted.tokens, voted.latency_s) == (39, 2.0)
    assert voted.raw_text.startswith("b") and "majority vote over 3 samples: 12 x2, 7 x1" in voted.raw_text
    assert vote(samples[:1]) is samples[0]


def test_cot_steps_are_the_sentences_before_the_answer():
    text = "Tom buys 3 * 5 = <<3*5=15>>15 pens. He gives 4 away, so 15 - 4 = 11 remain. So the answer is: 11"
    assert cot_steps(text) == [
        "Tom buys 3 * 5 = <<3*5=15>>15 pens.",
        "He gives 4 away, so 15 - 4 = 11 remain.",
    ]
    assert cot_steps("It costs $2.50 each.\nTotal 5.") == ["It costs $2.50 each.", "Total 5."]


def test_a_text_the_backend_ended_as_a_loop_is_looped_not_truncated():
    looped = trace("15 + 1 = 16", "15 + 1 = 16", final=None, stop="looped")
    assert error_category(looped, correct=False, first_divergent=0, num_gold_steps=3) == "looped"
