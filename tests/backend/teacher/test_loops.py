"""The loop rule (backend.teacher.loops): which tails count as a loop, and the refilling loop ending a
looping row at once (and never continuing it through a revision) on a tiny random model."""

from pathlib import Path

import pytest

from backend.teacher.base import GenerationParams
from backend.teacher.loops import LoopRule, number_token_ids
from backend.teacher.refill import RefillLoop, Request
from backend.teacher.sampling import EndRule
from backend.teacher.transformers_backend import TransformersBackend

DIGITS = frozenset(range(100, 110))  # token ids standing for digits in the unit tests
RULE = LoopRule(DIGITS)  # 3 copies spanning at least 32 tokens, a block of at most 64
PROMPTS = ["Tom has 3 boxes", "x", "Natalia sold clips to 48 friends", "How many pens"]


def block(length: int, start: int = 1) -> list[int]:
    return list(range(start, start + length))


def test_three_copies_of_a_block_are_a_loop() -> None:
    assert RULE.repeats([500, 501] + block(12) * 3)
    assert RULE.repeats(block(64) * 3)


def test_two_copies_too_short_a_span_or_too_long_a_block_are_not() -> None:
    assert not RULE.repeats([500] + block(12) * 2)
    assert not RULE.repeats(block(8) * 3)  # 24 tokens: under min_tokens
    assert not RULE.repeats(block(65) * 3)  # a block longer than max_period
    assert not RULE.repeats(block(200))
    assert not RULE.repeats(block(12) * 3 + [500])  # the text has moved on


def test_a_short_block_counts_once_its_copies_span_enough() -> None:
    assert not RULE.repeats(block(8) * 5)  # 40 tokens, but no block of 11 or more seen 3 times
    assert RULE.repeats(block(8) * 6)  # 48 tokens: 3 copies of a 16-token block


def test_numbers_carried_forward_still_loop() -> None:
    """'So he drives 171-2=169 mph.' then '169-2=167', ...: digit runs of any length compare as one."""
    sentences = []
    for value in (171, 169, 167):
        digits = [100 + int(d) for d in str(value)]
        sentences += block(10) + digits + [50] + [102] + [51] + digits[:2] + block(4, start=60)
    assert RULE.repeats(sentences)
    assert not LoopRule(frozenset()).repeats(sentences)  # without the placeholder the blocks differ


def test_a_rule_needs_two_copies() -> None:
    with pytest.raises(ValueError):
        LoopRule(DIGITS, copies=1)


def test_number_tokens_are_the_digit_tokens(tiny_llama: Path) -> None:
    teacher = TransformersBackend(str(tiny_llama), dtype="float32")
    numbers = number_token_ids(teacher.tokenizer)
    assert numbers
    for token in teacher.tokenizer.convert_ids_to_tokens(sorted(numbers)):
        assert token.lstrip("Ġ▁ ").isdigit()
    assert teacher.tokenizer.convert_tokens_to_ids("the") not in numbers


@pytest.fixture(scope="module")
def looping_outputs(tiny_llama: Path) -> tuple[list[list[int]], list[list[int]], TransformersBackend]:
    """Greedy outputs of a tiny random model without and with a loop rule: random weights loop soon."""
    teacher = TransformersBackend(str(tiny_llama), dtype="float32", stop_loops=False)
    rules = [None, LoopRule(number_token_ids(teacher.tokenizer), min_tokens=12)]
    runs = []
    for rule in rules:
        end = EndRule(set(), None, [], rule)
        loop = RefillLoop(teacher.lm, GenerationParams(max_tokens=120), end, teacher._decode, slots=2)
        requests = [Request(i, 0, teacher._encode(p), 120) for i, p in enumerate(PROMPTS)]
        runs.append([done.tokens for done in loop.run(requests)])
    return runs[0], runs[1], teacher


def test_a_looping_row_ends_where_its_loop_is_seen(looping_outputs: tuple) -> None:
    unstopped, stopped, teacher = looping_outputs
    rule = LoopRule(number_token_ids(teacher.tokenizer), min_tokens=12)
    assert any(len(cut) < len(full) for cut, full in zip(stopped, unstopped, strict=True))
    for cut, full in zip(stopped, unstopped, strict=True):
        assert full[: len(cut)] == cut  # the same text up to the cut: the rule only ends rows
        if len(cut) < len(full):
            assert rule.repeats(cut) and not rule.repeats(cut[:-1])


def test_a_looping_row_is_never_continued_by_a_revision(looping_outputs: tuple) -> None:
    _, stopped, teacher = looping_outputs
    seen: list[tuple[int, bool]] = []

    def revise(index: int, text: str, tokens: int, cut_off: bool) -> str | None:
        seen.append((index, cut_off))
        return text + " and more"  # would go on forever if the loop let it

    rule = LoopRule(number_token_ids(teacher.tokenizer), min_tokens=12)
    loop = RefillLoop(
        teacher.lm, GenerationParams(max_tokens=120), EndRule(set(), None, [], rule), teacher._decode,
        encode=lambda text: teacher.tokenizer(text, add_special_tokens=False)["input_ids"], slots=2,
    )  # fmt: skip
    looping = next(i for i, tokens in enumerate(stopped) if len(tokens) < 120)
    prompt = teacher._encode(PROMPTS[looping])
    (done,) = loop.run([Request(0, 0, prompt, 120)], revise)
    assert seen == [(0, True)]
    assert done.tokens == stopped[looping]


@pytest.mark.parametrize("calculator", [False, True])
def test_an_evaluation_trace_ended_by_the_rule_is_its_own_error_class(
    looping_outputs: tuple, calculator: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.evaluation.cot import SingleParams, solve_single
    from backend.evaluation.traces import error_category

    _, _, teacher = looping_outputs
    monkeypatch.setattr(teacher, "loop_rule", LoopRule(number_token_ids(teacher.tokenizer), min_tokens=12))
    params = SingleParams(max_tokens=120, calculator=calculator)
    traces = solve_single(teacher, PROMPTS, params)
    looped = [t for t in traces if t.stop_reason == "looped"]
    assert looped, [t.stop_reason for t in traces]
    for trace in looped:
        assert trace.final_answer is None and trace.tokens_out < 120
        assert error_category(trace, correct=False, first_divergent=None, num_gold_steps=2) == "looped"
    monkeypatch.setattr(teacher, "loop_rule", None)
    assert all(t.stop_reason != "looped" for t in solve_single(teacher, PROMPTS, params))
