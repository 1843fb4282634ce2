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
