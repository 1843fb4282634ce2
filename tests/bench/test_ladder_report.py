"""Comparing two ladder runs arm by arm, paired on the problems both evaluated."""

from bench.ladder_report import compare_runs


def _result(arm: str, per_problem: dict[str, bool]) -> dict[str, object]:
    return {"arm": arm, "dataset": "gsm_symbolic", "per_problem": per_problem}


def test_a_rerun_is_compared_on_shared_problems_only() -> None:
    old = [_result("cot", {"1": False, "2": False, "3": True, "4": True}), _result("floor", {"1": False})]
    new = [_result("cot", {"1": True, "2": True, "3": False, "5": True}), _result("unified", {"1": True})]
    header, rule, *rows = compare_runs(new, old)
    assert header.count("|") == rule.count("|") == 8
    # problems 1-3 are shared: two wins, one loss; problem 4 (old only) and 5 (new only) do not count
    assert rows == ["| cot | gsm_symbolic | 2 | 1 | 3 | +2 / -1 | 1 |"]


def _row(arm: str, per_problem: dict[str, bool], **extra: object) -> dict[str, object]:
    n, correct = len(per_problem), sum(per_problem.values())
    counts = {"n_problems": n, "n_correct": correct, "accuracy": correct / n}
    timing = {"tokens_per_problem": 1, "eval_seconds": 1}
    return {"arm": arm, "dataset": "gsm8k_test", "per_problem": per_problem} | counts | timing | extra


def test_arms_are_compared_at_the_same_calculator_setting_and_seed_and_say_what_trained_them() -> None:
    from bench.ladder_report import compare, table

    results = [
        _row("cot", {"1": True, "2": True}),
        _row("cot", {"1": False, "2": False}, calculator=False),
        _row("answer_only", {"1": False, "2": True}, calculator=False),
    ]
    rows = {(r["arm"], r["calculator"]): r for r in compare(results)}
    # answer-only with the calculator off is paired with CoT with it off (not CoT with it on): +1/-0
    assert rows[("answer_only", False)]["vs_cot"] == {"only_this": 1, "only_cot": 0, "p": 1.0}
    text = table({"results": results, "comparisons": compare(results)})
    assert "| cot, calc off | gsm8k_test |" in text
    assert "- answer_only: supervised on reference solutions" in text
