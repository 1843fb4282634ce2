"""The gpu preset is cut into stages that each fit a device call, and every evaluation is in exactly one."""

from collections import Counter
from dataclasses import replace

from bench.ladder_presets import PRESETS
from bench.ladder_stages import evaluations, nominal_sizes, plan


def test_every_gpu_stage_fits_a_ten_minute_call_and_runs_each_evaluation_once() -> None:
    preset = PRESETS["gpu"]
    stages = plan(preset)
    assert stages[0].name == "data" and all(stage.seconds <= preset.stage_seconds + 10 for stage in stages)
    assert preset.stage_seconds + 60 <= 600  # the snapshot after the stage fits the same call
    planned = Counter(e.key() for stage in stages for e in stage.evaluations)
    splits = {name: [0] * size for name, size in nominal_sizes(preset).items()}
    assert planned == Counter(e.key() for e in evaluations(preset, splits, dev=False))
    assert len({stage.name for stage in stages}) == len(stages)


def test_trained_arms_run_with_the_calculator_on_and_off_and_headline_arms_with_two_seeds() -> None:
    preset = PRESETS["gpu"]
    splits = {name: [0] * size for name, size in nominal_sizes(preset).items()}
    wanted = evaluations(preset, splits, dev=False)
    settings = {(e.arm, e.seed, e.calculator) for e in wanted}
    assert {("cot", 0, False), ("cot", 1, True), ("socratic_masked", 1, False)} <= settings
    assert {(e.seed, e.calculator) for e in wanted if e.arm == "floor"} == {(0, True)}
    assert {e.seed for e in wanted if e.arm == "answer_only"} == {0}
    assert not any(e.dataset.startswith("dev_") or e.dataset.endswith("_clean") for e in wanted)
    assert {e.dataset for e in evaluations(preset, splits, dev=True)} == {"dev_gsm8k_train"}


def test_gsm8k_cpu_judges_every_trained_arm_on_all_of_gsm8k_test() -> None:
    preset = PRESETS["gsm8k-cpu"]
    splits = {name: [0] * size for name, size in nominal_sizes(preset).items()}
    assert len(splits["gsm8k_test"]) == 1319 and preset.train_source == "gsm8k"
    wanted = evaluations(preset, splits, dev=False)
    full = {e.arm for e in wanted if e.dataset == "gsm8k_test" and not e.limit}
    assert full == {"answer_only", "cot", "socratic_masked"}


def test_the_floor_runs_only_on_the_sets_named_for_it_and_trained_arms_on_every_set() -> None:
    preset = replace(PRESETS["gsm8k-cpu"], n_eval_symbolic=200, floor_sets=("gsm_symbolic_unseen",))
    splits = {name: [0] * size for name, size in nominal_sizes(preset).items()}
    assert len(splits["gsm_symbolic_unseen"]) == 200 and "gsm_symbolic_seen" not in splits
    wanted = evaluations(preset, splits, dev=False)
    assert {e.dataset for e in wanted if e.arm == "floor"} == {"gsm_symbolic_unseen"}
    assert {e.dataset for e in wanted if e.arm == "cot"} == {"gsm_symbolic_unseen", "gsm8k_test", "svamp"}
