"""Replaying the loop rule on saved outputs: where it first ends a text, and what it counts."""

import json
from pathlib import Path

import pytest

from backend.teacher.loops import LoopRule
from bench.loop_replay import first_loop, replay, saved_outputs

RULE = LoopRule(frozenset({100}), copies=3, min_tokens=6)


def test_the_first_loop_is_the_shortest_prefix_the_rule_calls_one() -> None:
    text = [7, 8] + [1, 2] * 6
    end = first_loop(RULE, RULE.collapsed(text))
    assert end == 8  # [7, 8] + 3 copies of [1, 2]: 6 tokens
    assert first_loop(RULE, [1, 2, 3, 4, 5, 6, 7, 8]) is None


def test_a_replay_counts_ended_texts_by_answer_and_correctness() -> None:
    looping = [7] + [1, 2] * 5  # ended after 7 of 11 tokens
    texts = [(looping, False, False), (looping, True, False), ([1, 2, 3, 4], True, True)]
    counts = replay(RULE, texts)
    assert counts | {"tokens_saved": 0} == {
        "ended": 2, "unanswered": 1, "answered": 1, "correct": 0, "tokens_saved": 0,
    }  # fmt: skip
    assert counts["tokens_saved"] == pytest.approx(round(2 * 4 / 26, 3))


def test_outputs_are_read_from_the_calculator_on_evaluation_of_the_arm(tmp_path: Path) -> None:
    outputs = {"1": {"text": "a", "answer": "3", "correct": True}}
    results = [
        {"arm": "cot", "dataset": "gsm8k_test", "seed": 0, "calculator": False, "outputs": {"2": {}}},
        {"arm": "cot", "dataset": "gsm8k_test", "seed": 0, "calculator": True, "outputs": outputs},
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"results": results}))
    assert saved_outputs(path, "cot", 0, "gsm8k_test") == [outputs["1"]]
    with pytest.raises(SystemExit, match="no saved outputs"):
        saved_outputs(path, "cot", 1, "gsm8k_test")
