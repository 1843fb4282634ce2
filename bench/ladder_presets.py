"""The ladder's presets, arms and dataset layout: what the other ladder modules read; it imports none of them.

A preset says which problems train the students, which held-out sets judge them, and how long it may take.
An arm is one way of producing a solver (the untrained floor, or students trained on one recipe); each arm
says what trained it, since a student fitted to reference solutions is not a distilled one.
"""

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRAIN_DATASET = "ladder-train"
# reasoning-gym seeds: the training pool, the recorded held-out set and the development set never overlap
# in generator state; near-duplicates across them are removed by template and numbers (ladder_data).
TRAIN_SEED, EVAL_SEED, DEV_SEED = 1, 1000, 2000
# Files the ladder reads, relative to the dataset root: the shared folder here, the carried bundle on the
# GPU machine (bench/ladder_bundle.py lays it out from this one list).
GSM8K_TRAIN, GSM8K_TEST, SVAMP = "gsm8k/train.jsonl", "gsm8k/test.jsonl", "svamp/SVAMP.json"

# arm -> (student kind, frozen set it trains on) for each student it trains
STUDENTS = {
    "answer_only": [("answer_only", "reference")],
    "cot": [("cot", "reference")],
    "socratic": [("decomposer", "clean"), ("solver", "clean")],
    "socratic_unfiltered": [("decomposer", "all"), ("solver", "all")],
    "socratic_masked": [("decomposer", "all"), ("solver", "all")],
    "unified": [("unified", "clean")],
    "unified_masked": [("unified", "all")],
    "divide_conquer": [("decompose_only", "clean")],
}
# Arms whose asking students leave flagged sub-questions out of the loss (step-level curation).
SKIP_FLAGGED = ("socratic_masked", "unified_masked")

# What trained each arm's students. In rationalize mode the teacher writes only the sub-questions; every
# answer and every CoT is the dataset's reference solution. So a solver or CoT student is supervised, and
# only what a student learns from the teacher's sub-questions is distillation.
SUPERVISED = "supervised on reference solutions"
_PAIR = "decomposer distilled from a teacher's sub-questions; solver supervised on reference solutions"
_ONE_MODEL = "one model: sub-questions distilled from a teacher, answers supervised on reference steps"
TRAINED_BY = {
    "floor": "untrained base, few-shot (no training)",
    "answer_only": SUPERVISED,
    "cot": SUPERVISED,
    "socratic": _PAIR,
    "socratic_unfiltered": _PAIR,
    "socratic_masked": _PAIR,
    "unified": _ONE_MODEL,
    "unified_masked": _ONE_MODEL,
    "divide_conquer": "decomposer distilled from a teacher's sub-questions; untrained base solves",
}


# The held-out sets a ladder can record (each with a `_clean` subset where the contamination check runs).
EVAL_SETS = ("gsm_symbolic_seen", "gsm_symbolic_unseen", "gsm8k_test", "svamp")


@dataclass(frozen=True)
class Preset:
    n_train: int  # training problems (every arm)
    pool: int  # items generated (gsm_symbolic) or rows read (GSM8K train) to draw training problems from
    n_eval_symbolic: int  # held-out gsm_symbolic items generated (split into seen and unseen templates)
    n_eval_gsm8k: int  # 0 = all 1,319; -1 = no GSM8K test evaluation
    n_svamp: int  # 0 = no SVAMP evaluation
    epochs: float
    learning_rate: float
    batch_size: int
    arms: tuple[str, ...]
    few_shot: int = 5  # worked shots for the floor, inside the chat template: its fair chance
    teacher_backend: str = "transformers"
    # The teacher's problems per stored batch and sequences decoded together (rationalize asks one
    # sub-question per reference step: about 3.6 per GSM8K problem, so 64 problems fill about 230 of 256).
    teacher_batch: int = 8
    teacher_sequences: int = 16
    device: str = "auto"
    train_source: str = "gsm_symbolic"  # or "gsm8k": GSM8K train.jsonl rows [0, n_train)
    # Sequences decoded together in an evaluation: on a CPU decoding is memory-bound, so 64 at once cost
    # little more per step than 16 (the first cpu run, at 16, took 13 min per 64 floor problems).
    eval_batch: int = 64
    n_dev: int = 100  # development problems (recipes are chosen on these; --dev evaluates only them)
    # Arms trained once per seed (--seeds); the others train with the first seed only.
    headline: tuple[str, ...] = ("cot", "socratic_masked")
    seeds: tuple[int, ...] = (0, 1)
    # Every trained arm is evaluated with the calculator on; with it off on this many problems of each
    # recorded set (0 = all of them; -1 = never), which measures the calculator's share.
    calculator_off: int = 0
    floor_limit: int = 0  # the floor on the first N problems of each set (0 = all): it rambles to its limit
    floor_sets: tuple[str, ...] = ()  # the sets the floor is evaluated on (empty = every recorded set)
    compile: str = "off"  # the students' TrainConfig.compile: off, on or auto (backend.training.compiling)
    base_model: str = "default"  # every student's base, the floor and the teacher
    decode_cap: int = 0  # > 0: every token limit at most this and two Socratic steps (the dry run's speed)
    templates_held_out: int = 5  # gsm_symbolic templates with id % this == 0 never train (0 = none held out)
    stage_seconds: int = field(default=540, compare=False)  # a device call's budget for one stage


def recorded_preset(results: dict[str, Any]) -> Preset:
    """The preset a ladder ran with, as its results.json records it (JSON lists back to tuples)."""
    recorded = results["config"].items()
    return Preset(**{key: tuple(value) if isinstance(value, list) else value for key, value in recorded})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def datasets_root() -> Path:
    """The shared datasets beside the project, or SOCRATIC_DATASETS (the carried bundle, a dry run's)."""
    return Path(os.environ.get("SOCRATIC_DATASETS", ROOT.parent / "shared" / "datasets"))


def dataset_files(preset: Preset) -> list[str]:
    """Every file the preset reads, relative to the dataset root."""
    files = [GSM8K_TRAIN] if preset.train_source == "gsm8k" else []
    if preset.n_eval_gsm8k >= 0:
        files.append(GSM8K_TEST)
    if preset.n_svamp:
        files.append(SVAMP)
    return files


# The gpu preset's arms: the pair and the single model with flagged sub-questions masked (the curation that
# did best on CPU, `cpu-socratic` runs 4-6), the unfiltered pair beside them, and Divide-or-Conquer.
GPU_ARMS = (
    *("floor", "answer_only", "cot", "socratic_masked"),
    *("socratic_unfiltered", "unified_masked", "divide_conquer"),
)
CPU = Preset(600, 900, 300, 150, 0, 3, 2e-4, 8, ("answer_only", "cot", "socratic_masked", "floor"))
PRESETS = {
    # 600 problems x 3 epochs (the first run, 240 problems x 1 epoch: 30 optimizer steps, learned nothing).
    # Run 9: about 1.3M training tokens over the four students, about 30 minutes at 590-770 tokens/s (2 AMX
    # cores); 61 minutes in all. 300 held-out items give about 240 in seen templates and 60 in unseen ones.
    "cpu": CPU,
    # The other arms at the same size: the unfiltered pair (every sub-question learned, the same solver)
    # measures the curation, the single model asks and answers, Divide-or-Conquer plans for the untrained
    # base.
    "cpu-extra": replace(
        CPU, arms=("socratic_masked", "socratic_unfiltered", "unified_masked", "divide_conquer", "floor")
    ),
    # Step-level curation of the Socratic pair against CoT and the floor on held-out gsm_symbolic only.
    "cpu-socratic": replace(
        CPU,
        n_eval_gsm8k=-1,
        epochs=2,
        arms=("cot", "socratic_masked", "socratic_unfiltered", "unified_masked", "floor"),
    ),
    # Trained on GSM8K train's gold solutions (their <<a op b=c>> annotations feed the calculator), judged
    # on all 1,319 GSM8K test problems and a fixed SVAMP subset; students that never saw a gsm_symbolic
    # template. Sized for at most 170 minutes on 2 cores: see the sizing comment below.
    "gsm8k-cpu": Preset(
        n_train=360,
        pool=360,
        n_eval_symbolic=0,
        n_eval_gsm8k=0,
        n_svamp=200,
        epochs=1,
        learning_rate=2e-4,
        batch_size=8,
        arms=("answer_only", "cot", "socratic_masked", "floor"),
        train_source="gsm8k",
        seeds=(0,),
        calculator_off=100,
        floor_limit=150,
        n_dev=100,
    ),
    # All of GSM8K train but 300 rows kept for development; all 1,319 GSM8K test problems; all of SVAMP.
    "gpu": Preset(
        n_train=7473 - 300,
        pool=7473,
        n_eval_symbolic=1000,
        n_eval_gsm8k=0,
        n_svamp=1000,
        epochs=2,
        learning_rate=1e-4,
        batch_size=32,
        arms=GPU_ARMS,
        device="cuda",
        train_source="gsm8k",
        teacher_batch=64,
        teacher_sequences=256,
        eval_batch=256,
        n_dev=300,
    ),
}
# gsm8k-cpu's size, in seconds of 2 cores (170 minutes = 10,200 s).
# Training speed, measured 2026-12-05 on this AVX2-only AMD EPYC (fp32, its faster precision): a plain
# fp32 SmolLM2-135M step (4 x 256 tokens, full-vocabulary head, AdamW) ran 21 tokens/s on 2 threads that got
# 0.85 of a core (load average 5 from other work), about 50 tokens/s on 2 quiet cores. The app's trainer
# (compact head, packed sequences) ran 1.3x plain TRL in the lab notes: 70 tokens/s is assumed here.
# Training tokens per problem and epoch, from cpu run 9: answer-only 90, CoT 200, decomposer and solver 250
# each, 790 for the four students: 11.3 s per problem-epoch. The teacher: 0.26 s per sub-question (run 2),
# about 0.9 s per problem. Evaluation per problem at run 9's speeds: answer-only 0.08 s, CoT 0.9 s, the
# pair 1.4 s, the floor with 5 shots about 4 s. Every trained arm on all 1,319 GSM8K test problems and 200
# of SVAMP, with the calculator off on 100 of each; the floor on 150 of each: about 5,300 s. Data about
# 120 s. That leaves about 4,700 s for teacher and training: 360 problems x 1 epoch (4,060 s of training,
# 340 s of teacher), 164 minutes in all. Problems rather than epochs are the knob spent first: GSM8K's
# variety is what a student has to learn. One seed: a second seed of CoT and the pair would cost about
# 5,000 s more (the gpu preset runs two). If the log's first tokens/s is below 70, lower --epochs.


def tiny(preset: Preset, base_model: str | None = None) -> Preset:
    """The same code path at a size that runs in minutes on a CPU (`--dry-run`)."""
    return replace(
        preset,
        n_train=8,
        pool=min(preset.pool, 12),
        n_eval_symbolic=min(preset.n_eval_symbolic, 6),
        n_eval_gsm8k=-1 if preset.n_eval_gsm8k < 0 else 4,
        n_svamp=min(preset.n_svamp, 4),
        epochs=1,
        batch_size=4,
        few_shot=1,
        device="auto",
        eval_batch=8,
        n_dev=min(preset.n_dev, 2),
        seeds=preset.seeds[:1],
        calculator_off=-1 if preset.calculator_off < 0 else 2,
        floor_limit=2,
        decode_cap=12,
        base_model=base_model or preset.base_model,
    )
