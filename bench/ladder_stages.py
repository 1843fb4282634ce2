"""The ladder cut into stages that each fit one device call, sized from FLOPs and decode steps.

A stage is the data and teacher (`data`), or one arm at one seed: its students (trained again if the
machine is fresh and their checkpoints are gone) and the evaluations that fit the call's budget beside
them. Every stage writes results.json before the next starts; `--stage next` runs the first one whose
evaluations are not all in results.json, so a timed-out call loses at most its unfinished evaluation.

The estimates are for one H100/H200 and SmolLM2-135M, and are meant to fail safe, not to be exact:
  training   6 x 135M parameters x tokens at about 30 TFLOP/s achieved (small batches, a 135M model
             keeps a Hopper far from its 790 TFLOP/s): 40,000 tokens/s
  decoding   one step of a 256-sequence batch costs about 30 ms whatever the model's size at 135M (kernel
             launches dominate); a batch runs to its longest member, so steps = the method's token limit
  teacher    one sub-question per reference step (GSM8K train: 3.6 steps a problem), 40 tokens each;
             64 problems a batch, their sub-questions decoded together (one wave of 256 sequences)
On those figures the gpu preset is about 83 device minutes when each arm trains once (data and teacher 3;
answer-only 3, CoT 7 per seed, the pair 12.5 per seed, the single model 10.5, Divide-or-Conquer 12.5, the
floor 2.5), and about 99 as planned, where every stage of an arm counts its training for a fresh machine.
The issue's 40-70 minutes had one seed and the calculator on only: the second seed of CoT and the pair and
every calculator-off evaluation add about 30.
"""

import math
from dataclasses import dataclass
from typing import Any

from bench.ladder_presets import STUDENTS, Preset

TRAIN_TOKENS_PER_S = 40_000.0
DECODE_STEP_S = 0.03
LOAD_S = 15.0  # per evaluation: models loaded, few-shot prefix encoded
TEACHER_TOKENS, STEPS_PER_PROBLEM = 40, 3.6
# Training tokens per problem per epoch, from cpu run 9's students (gsm_symbolic: answer-only 87, CoT 170,
# decomposer and solver 225 each; the single model, packed, 225) with GSM8K's longer solutions rounded up.
TOKENS_PER_PROBLEM = {"answer_only": 90, "cot": 200, "decomposer": 250, "solver": 250, "unified": 250,
                      "decompose_only": 250}  # fmt: skip
# Decode steps of one batch: the method's token limit, and the pair's turns (about 5 of 40 + 60 tokens).
DECODE_STEPS = {"floor": 256, "answer_only": 32, "cot": 256, "socratic": 500, "unified": 500,
                "divide_conquer": 650}  # fmt: skip


@dataclass(frozen=True)
class Evaluation:
    arm: str
    seed: int
    dataset: str
    calculator: bool
    limit: int  # 0 = every problem of the set

    def key(self) -> tuple[str, str, bool, int]:
        return (self.arm, self.dataset, self.calculator, self.seed)


@dataclass(frozen=True)
class Stage:
    name: str
    arm: str | None  # None: the data and the teacher
    seed: int
    evaluations: tuple[Evaluation, ...]
    seconds: float  # estimated on the device


def seeds_of(preset: Preset, arm: str) -> tuple[int, ...]:
    return preset.seeds if arm in preset.headline else preset.seeds[:1]


def recorded_sets(splits: dict[str, list[int]], *, dev: bool) -> list[str]:
    """Sets evaluated: the development split alone with --dev, else every recorded held-out set. A clean
    subset is read from its parent's per-problem results, never evaluated twice."""
    return [
        name for name in splits
        if name != "train" and name.startswith("dev_") == dev and not name.endswith("_clean")
    ]  # fmt: skip


def evaluations(preset: Preset, splits: dict[str, list[int]], *, dev: bool) -> list[Evaluation]:
    """Every evaluation of the run, in the order the stages take them (the floor last: slowest, untrained)."""
    wanted: list[Evaluation] = []
    arms = [arm for arm in preset.arms if arm != "floor"] + [a for a in preset.arms if a == "floor"]
    for arm in arms:
        for seed in seeds_of(preset, arm):
            for dataset in recorded_sets(splits, dev=dev):
                if arm == "floor" and preset.floor_sets and dataset not in preset.floor_sets:
                    continue
                limit = preset.floor_limit if arm == "floor" else 0
                wanted.append(Evaluation(arm, seed, dataset, True, limit))
            if arm != "floor" and preset.calculator_off >= 0:  # the calculator's share, arm by arm
                for dataset in recorded_sets(splits, dev=dev):
                    wanted.append(Evaluation(arm, seed, dataset, False, preset.calculator_off))
    return wanted


def _method(arm: str) -> str:
    return "socratic" if arm.startswith("socratic") else "unified" if arm.startswith("unified") else arm


def eval_seconds(preset: Preset, evaluation: Evaluation, n_problems: int) -> float:
    n = min(n_problems, evaluation.limit) if evaluation.limit else n_problems
    return LOAD_S + math.ceil(n / preset.eval_batch) * DECODE_STEPS[_method(evaluation.arm)] * DECODE_STEP_S


def train_seconds(preset: Preset, arm: str) -> float:
    kinds = [kind for kind, _ in STUDENTS.get(arm, [])]
    tokens = sum(TOKENS_PER_PROBLEM[kind] for kind in kinds) * preset.n_train * preset.epochs
    return tokens / TRAIN_TOKENS_PER_S + 30.0 * len(kinds)  # + loading and saving each student


def data_seconds(preset: Preset) -> float:
    needs_teacher = any(arm not in ("floor", "answer_only", "cot") for arm in preset.arms)
    if not needs_teacher:
        return 60.0
    batches = math.ceil(preset.n_train / preset.teacher_batch)
    waves = math.ceil(preset.teacher_batch * STEPS_PER_PROBLEM / preset.teacher_sequences)
    return 60.0 + batches * waves * TEACHER_TOKENS * DECODE_STEP_S


def nominal_sizes(preset: Preset) -> dict[str, int]:
    """Each set's size before the data is imported (near-duplicates not yet removed): stages are planned
    on these, so a stage's name and contents are the same before and after the data stage."""
    sizes = {"train": preset.n_train}
    if preset.n_dev:
        sizes["dev_gsm8k_train" if preset.train_source == "gsm8k" else "dev_gsm_symbolic"] = preset.n_dev
    if preset.n_eval_symbolic:
        unseen = preset.n_eval_symbolic // preset.templates_held_out if preset.templates_held_out else 0
        if preset.train_source == "gsm8k":  # a GSM8K-trained student saw no gsm_symbolic template
            unseen = preset.n_eval_symbolic
        sizes |= {"gsm_symbolic_seen": preset.n_eval_symbolic - unseen, "gsm_symbolic_unseen": unseen}
    if preset.n_eval_gsm8k >= 0:
        sizes["gsm8k_test"] = preset.n_eval_gsm8k or 1319
    if preset.n_svamp:
        sizes["svamp"] = preset.n_svamp
    return {name: size for name, size in sizes.items() if size}


def plan(preset: Preset, *, dev: bool = False) -> list[Stage]:
    """The data stage, then each arm and seed packed into stages of at most preset.stage_seconds; every
    stage of an arm counts its training, since a fresh machine trains the students again."""
    splits = {name: [0] * size for name, size in nominal_sizes(preset).items()}
    stages = [Stage("data", None, 0, (), data_seconds(preset))]
    groups: dict[tuple[str, int], list[Evaluation]] = {}
    for evaluation in evaluations(preset, splits, dev=dev):
        groups.setdefault((evaluation.arm, evaluation.seed), []).append(evaluation)
    for (arm, seed), todo in groups.items():
        training = train_seconds(preset, arm) if arm != "floor" else 0.0
        batch: list[Evaluation] = []
        spent = training
        for evaluation in todo:
            cost = eval_seconds(preset, evaluation, len(splits[evaluation.dataset]))
            if batch and spent + cost > preset.stage_seconds:
                stages.append(_stage(arm, seed, batch, spent, len(stages)))
                batch, spent = [], training
            batch.append(evaluation)
            spent += cost
        stages.append(_stage(arm, seed, batch, spent, len(stages)))
    return stages


def _stage(arm: str, seed: int, batch: list[Evaluation], seconds: float, number: int) -> Stage:
    return Stage(f"{number:02d}-{arm}-s{seed}", arm, seed, tuple(batch), round(seconds))


def describe(stages: list[Stage], done: set[Any], *, data_done: bool) -> str:
    lines = ["| stage | evaluations | estimated device s | status |", "|---|---|---|---|"]
    for stage in stages:
        names = ", ".join(f"{e.dataset}{'' if e.calculator else ' (calc off)'}" for e in stage.evaluations)
        finished = all(e.key() in done for e in stage.evaluations) if stage.arm else data_done
        lines.append(f"| {stage.name} | {names or 'data, teacher'} | {stage.seconds:.0f} | "
                     f"{'done' if finished else 'to do'} |")  # fmt: skip
    total = sum(stage.seconds for stage in stages)
    lines.append(f"\n{len(stages)} stages, about {total / 60:.0f} device minutes")
    return "\n".join(lines)
