"""Packed Socratic sequences: the same contexts and targets as the per-step examples, read off the real
tokenizer's offsets; SmolLM2's own tokenizer (pad == eos there, unlike the tiny test tokenizers)."""

from pathlib import Path

import pytest

from backend.student_formats import (
    END_MARKER,
    StepText,
    decomposer_prompt,
    examples_for,
    socratic_dialogue,
    solver_prompt,
)
from backend.training.packing import tokenize_dialogue, trained_spans
from db.models import StudentKind

QUESTION = "Tom has 3 boxes of 5 pens. He gives away 4 pens. How many pens does he have?"
STEPS = [
    StepText("How many pens are in the boxes?", "3 * 5 = 15 pens."),
    StepText("How many pens are left?", "15 - 4 = 11 pens."),
]


def test_every_trained_turn_follows_exactly_the_per_step_prompt() -> None:
    dialogue = socratic_dialogue(QUESTION, STEPS, questions=True, answers=True)
    text = dialogue.text
    starts = [start for start, _ in trained_spans(dialogue)]
    # Trained turns alternate: sub-question 1, answer 1, sub-question 2, answer 2, end marker.
    assert text[: starts[0]] == decomposer_prompt(QUESTION, [])
    assert text[: starts[1]] == solver_prompt(QUESTION, [], STEPS[0].sub_question or "")
    assert text[: starts[2]] == decomposer_prompt(QUESTION, STEPS[:1])
    assert text[: starts[3]] == solver_prompt(QUESTION, STEPS[:1], STEPS[1].sub_question or "")
    assert text[: starts[4]] == decomposer_prompt(QUESTION, STEPS)
    assert text.endswith(f" {END_MARKER}")
    per_step = examples_for(StudentKind.unified, QUESTION, STEPS, "11")
    targets = sorted(e.completion.strip() for e in per_step)
    assert sorted(text[a:b].strip() for a, b in trained_spans(dialogue)) == targets


def test_decomposer_and_solver_masks_cover_only_their_own_turns(tiny_llama: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    for questions, answers, wanted in (
        (True, False, ["How many pens are in the boxes?", "How many pens are left?", END_MARKER]),
        (False, True, ["3 * 5 = 15 pens.", "15 - 4 = 11 pens."]),
    ):
        dialogue = socratic_dialogue(QUESTION, STEPS, questions=questions, answers=answers)
        row = tokenize_dialogue(tokenizer, dialogue, max_length=512)
        trained = [t for t, m in zip(row["input_ids"], row["completion_mask"], strict=True) if m]
        decoded = tokenizer.decode(trained)
        for target in wanted:
            assert target in decoded
        assert "Problem:" not in decoded and "A1:" not in decoded
        assert row["input_ids"][-1] == tokenizer.eos_token_id
        assert row["completion_mask"][-1] == int(questions)  # only the decomposer learns to end


@pytest.mark.slow
def test_smollm2_examples_mask_the_prompt_end_with_eos_and_a_fitted_student_stops(
    tmp_path: Path,
) -> None:
    """With SmolLM2's real tokenizer (pad == eos): the prompt is masked, EOS is trained, and a student
    fitted on a handful of examples writes the trained format and stops."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from backend.teacher.default_model import prepare_default_model
    from backend.training.data import to_dataset

    model_dir = prepare_default_model()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples = [
        e
        for a, b in ((2, 3), (4, 5), (6, 2), (7, 3))
        for e in examples_for(
            StudentKind.cot, f"What is {a} times {b}?", [StepText(None, f"{a} * {b} = {a * b}.")], str(a * b)
        )
    ]
    args = SFTConfig(
        output_dir=str(tmp_path / "out"), max_steps=12, per_device_train_batch_size=4, learning_rate=3e-4,
        report_to="none", use_cpu=True, save_strategy="no", completion_only_loss=True, max_length=64,
        logging_steps=100, disable_tqdm=True, dataloader_pin_memory=False,
        bf16=False,  # TRL's default is bf16, emulated and about 6x slower on a CPU without native bf16
    )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=to_dataset(examples), processing_class=tokenizer
    )
    row = trainer.train_dataset[0]
    prompt_ids = tokenizer(examples[0].prompt)["input_ids"]
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # the case the tiny tokenizers do not cover
    assert row["labels"][: len(prompt_ids)] == [-100] * len(prompt_ids)  # the prompt is masked
    assert row["input_ids"][-1] == tokenizer.eos_token_id and row["labels"][-1] == tokenizer.eos_token_id
    trainer.train()
    model.eval()
    prompt = examples[1].prompt
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **inputs, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.eos_token_id
        )
    new_tokens = out[0, inputs["input_ids"].shape[1] :].tolist()
    assert tokenizer.eos_token_id in new_tokens, tokenizer.decode(new_tokens)  # it stops
    text = tokenizer.decode(new_tokens, skip_special_tokens=True)
    assert text.strip().startswith("4 * 5 =") and "So the answer is:" in text, text


def test_generation_budgets_come_from_the_training_targets(tiny_llama: Path) -> None:
    from transformers import AutoTokenizer

    from backend.training.budgets import generation_budget, token_budget

    assert token_budget([10] * 99 + [200]) == int(10 * 1.2) + 8  # the 99th percentile, not the outlier
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    examples = examples_for(StudentKind.cot, QUESTION, STEPS, "11")
    longest = len(tokenizer(examples[0].completion, add_special_tokens=False)["input_ids"])
    assert generation_budget(tokenizer, StudentKind.cot, examples)["max_tokens"] > longest
    dialogue = socratic_dialogue(QUESTION, STEPS, questions=True, answers=False)
    decomposer = examples_for(StudentKind.decomposer, QUESTION, STEPS, "11")
    budget = generation_budget(tokenizer, StudentKind.decomposer, decomposer, [dialogue])
    assert budget["max_steps"] == len(STEPS) + 1 and budget["question_tokens"] > 0
