"""Comparing two ladder runs arm by arm, paired on the problems both evaluated."""

from bench.ladder_report import compare_runs


def _result(arm: str, per_problem: dict[str, bool]) -> dict[str, object]:
    return {"arm": arm, "dataset": "gsm_symbolic", "per_problem": per_problem}


def test_a_rerun_is_compared_on_shared_problems_only_against_every_old_arm_of_its_setting() -> None:
    old = [
        _result("floor", {"1": False}),
        _result("cot", {"1": False, "2": False, "3": True, "4": True}),
        _result("cot", {"1": True}) | {"calculator": False},
    ]
    new = [_result("cot", {"1": True, "2": True, "3": False, "5": True}), _result("unified", {"1": True})]
    header, rule, *rows = compare_runs(new, old)
    assert header.count("|") == rule.count("|") == 9
    # problems 1-3 are shared: two wins, one loss; problem 4 (old only) and 5 (new only) do not count.
    # The old run's own arm comes first, then its other arms; never a row at another calculator setting.
    assert rows == [
        "| cot | gsm_symbolic | 2 | cot | 1 | 3 | +2 / -1 | 1 |",
        "| cot | gsm_symbolic | 1 | floor | 0 | 1 | +1 / -0 | 1 |",
        "| unified | gsm_symbolic | 1 | floor | 0 | 1 | +1 / -0 | 1 |",
        "| unified | gsm_symbolic | 1 | cot | 0 | 1 | +1 / -0 | 1 |",
    ]


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


def test_a_second_seed_run_alone_joins_its_first_run_and_is_tested_against_both_references() -> None:
    import pytest

    from bench.ladder_report import compare, merge, table

    config = {"n_train": 3600, "train_source": "gsm8k", "epochs": 1}
    first = {"preset": "gsm8k-cpu", "config": config, "students": {"cot": {"seconds": 5}}, "results": [
        _row("cot", {"1": True, "2": False, "3": False}),
        _row("answer_only", {"1": False, "2": False, "3": False}),
    ]}  # fmt: skip
    second = {"preset": "gsm8k-cpu", "config": config, "students": {"cot@1": {"seconds": 7}}, "results": [
        _row("cot", {"1": True, "2": True, "3": True}, seed=1),
        _row("cot", {"1": False, "2": False, "3": True}),  # the first run's own row wins
    ]}  # fmt: skip
    joined = merge(first, second)
    assert len(joined["results"]) == 3 and joined["results"][0]["per_problem"]["1"] is True
    rows = {(r["arm"], r["seed"]): r for r in compare(joined["results"])}
    # seed 1 against seed 0 of its own arm, and against answer-only's only seed
    assert rows[("cot", 1)]["vs_cot"] == {"only_this": 2, "only_cot": 0, "p": 0.5}
    assert rows[("cot", 1)]["vs_answer_only"]["only_this"] == 3
    assert "vs_cot" not in rows[("cot", 0)]
    text = table(joined | {"comparisons": compare(joined["results"])})
    assert "| cot s1 | gsm8k_test | 100.0% |" in text and "| 7 | 1 |" in text
    with pytest.raises(SystemExit, match="n_train"):
        merge(first, second | {"config": config | {"n_train": 1200}})


def test_runs_whose_imports_gave_other_ids_are_paired_problem_by_problem_not_id_by_id() -> None:
    """A run with 2 gsm_symbolic items imported first has every GSM8K test id 2 higher than a run without
    them: rows are paired by each problem's place in its set, never by a shared id of another problem."""
    import pytest

    from bench.ladder_report import aligned, compare, merge

    old_splits = {"gsm8k_test": [10, 11, 12], "gsm8k_test_clean": [10, 12], "svamp": [13, 14]}
    new_splits = {"gsm_symbolic_unseen": [10, 11], "gsm8k_test": [12, 13, 14], "svamp": [15, 16, 17]}
    old_cot = _row("cot", {"10": True, "11": False, "12": False})
    new_cot = _row("cot", {"12": True, "13": False, "14": True}, seed=1)
    assert aligned(old_cot, old_splits, new_splits)["per_problem"] == {"12": True, "13": False, "14": False}
    clean = _row("cot", {"10": True, "12": False}) | {"dataset": "gsm8k_test_clean"}
    assert aligned(clean, old_splits, new_splits)["per_problem"] == {"12": True, "14": False}
    assert aligned(old_cot | {"dataset": "svamp"}, old_splits, new_splits) is None  # 2 SVAMP items against 3
    # By id, problem 12 would be the old run's third question against the new run's first.
    *_, row = compare_runs([new_cot], [old_cot], new_splits, old_splits)
    assert row == "| cot s1 | gsm8k_test | 2 | cot | 1 | 3 | +1 / -0 | 1 |"
    assert compare_runs([new_cot], [old_cot | {"dataset": "svamp"}], new_splits, old_splits)[-1].endswith(
        "missing or of another size in one run): svamp"
    )
    config = {"n_train": 3600, "train_source": "gsm8k", "epochs": 1}
    first = {"config": config, "splits": new_splits, "results": [new_cot]}
    second = {"config": config, "splits": old_splits, "results": [old_cot]}
    joined = merge(first, second)
    rows = {(r["arm"], r["seed"]): r for r in compare(joined["results"])}
    assert rows[("cot", 1)]["vs_cot"] == {"only_this": 1, "only_cot": 0, "p": 1.0}
    with pytest.raises(SystemExit, match="svamp sets differ in size"):
        merge(first, second | {"results": [old_cot | {"dataset": "svamp"}]})
