"""Fine-tune one student with the field's libraries: TRL's SFTTrainer for causal LMs (Llama, GPT-2,
SmolLM2), transformers' Seq2SeqTrainer for encoder-decoders (T5), optionally through peft LoRA.

No hand-written loop: the trainers own batching, optimisation, mixed precision and multi-GPU (accelerate).
torch/transformers/trl are imported inside the functions so `import backend.training` stays light.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.student_formats import Dialogue, Example
from backend.training.compact_head import LOSS_CHUNK
from backend.training.config import CompileMode, FilterPolicy, TrainConfig
from backend.training.data import to_dataset

if TYPE_CHECKING:
    from backend.training.recorder import RunRecorder

MODEL_DIR = "model"  # the registered checkpoint: safetensors + tokenizer, loadable by plain transformers


@dataclass
class TrainOutcome:
    model_dir: Path
    step: int
    cancelled: bool
    seconds: float
    seq2seq: bool
    device: str
    is_main: bool  # the process that writes the database and the checkpoint (rank 0 under accelerate)
    settings: dict[str, Any]  # what the run used: precision, threads, packed sequences, tokens/s


@dataclass(frozen=True)
class CausalPath:
    """How the app's CPU trainer batches a causal student and takes its loss (each run's record names it)."""

    packed_rows: bool  # a batch's examples packed into rows with per-example attention, not padded rows
    loss_chunk: int | None  # LM head + cross-entropy in chunks of this many trained positions; None: at once

    def describe(self) -> str:
        rows = "packed rows" if self.packed_rows else "padded rows"
        head = f"head loss in chunks of {self.loss_chunk}" if self.loss_chunk else "head loss at once"
        return f"{rows}, {head} (trained positions only)"


# Both paths train the same model (same batches, same loss: tests/backend/training/test_fast_path.py).
PADDED_PATH = CausalPath(packed_rows=False, loss_chunk=None)  # the trainer up to issue 22
FAST_PATH = CausalPath(packed_rows=True, loss_chunk=LOSS_CHUNK)


def resolve_base_model(base_model: str) -> str:
    """'default' is the embedded SmolLM2-135M (prepared once as a safetensors folder); else a folder."""
    from backend.model_ref import model_path

    return model_path(base_model)


def is_seq2seq(model_path: str) -> bool:
    """Encoder-decoder configs (the T5 family) train as seq2seq; everything else as a causal LM."""
    from transformers import AutoConfig

    return bool(AutoConfig.from_pretrained(model_path).is_encoder_decoder)


def pick_device(device: str) -> tuple[str, bool]:
    """(device, bf16): bf16 mixed precision where the hardware runs it faster (backend.precision's probe on
    CPUs: about 2.5x on AVX-512 BF16, 3x slower on AVX2-only), fp32 elsewhere."""
    import torch

    from backend.precision import BFLOAT16, choose_dtype

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no GPU is visible")
    return device, choose_dtype(device) == BFLOAT16


def _lora_config(config: TrainConfig, task_type: str) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules,
        task_type=task_type,
    )


def _common_arguments(config: TrainConfig, output_dir: Path, device: str, bf16: bool) -> dict[str, Any]:
    # `balanced` already repeats each question once per epoch in the data, so the trainer makes one pass.
    epochs = 1.0 if config.filter_policy == FilterPolicy.balanced else config.epochs
    return {
        "output_dir": str(output_dir / "trainer"),
        "num_train_epochs": epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accumulation,
        "learning_rate": config.learning_rate,
        "warmup_steps": config.warmup,
        "seed": config.seed,
        "data_seed": config.seed,
        "logging_steps": 1,  # one TrainingMetric row per optimizer step
        "save_strategy": "no",  # the job saves the final (or cancelled-at) model itself
        "report_to": "none",
        "disable_tqdm": True,  # the recorder prints one JSON line per step to the job log instead
        "use_cpu": device == "cpu",
        "bf16": bf16,
        "gradient_checkpointing": False,
        "include_num_input_tokens_seen": "non_padding",
        # Batches of similar lengths (shuffled in megabatches): a padded batch costs its longest example
        # times its size, so random batches of rationales (60-300 tokens) spend a third on padding.
        "train_sampling_strategy": "group_by_length",
        "dataloader_pin_memory": device != "cpu",
    }


def _load_tokenizer(model_path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:  # GPT-2 has none; padding is masked out of the loss anyway
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _causal_trainer(
    config: TrainConfig,
    model_path: str,
    examples: Sequence[Example] | Sequence[Dialogue],
    arguments: dict[str, Any],
    callbacks: list[Any],
    path: CausalPath = FAST_PATH,
) -> Any:
    """TRL's SFTTrainer; on CPUs with the compact head loss and, on `path`, packed rows."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from backend.training.compact_head import compact_sft_trainer
    from backend.training.packing import PackedRowsCollator, dialogue_dataset

    # fp32 master weights; with bf16 the trainer autocasts the matmuls (pure bf16 AdamW loses updates).
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    args = SFTConfig(**arguments, max_length=config.max_length, completion_only_loss=True)
    tokenizer = _load_tokenizer(model_path)
    packed = bool(examples) and isinstance(examples[0], Dialogue)
    dataset = (
        dialogue_dataset(tokenizer, examples, config.max_length)  # type: ignore[arg-type]
        if packed
        else to_dataset(examples)  # type: ignore[arg-type]
    )
    # On CPUs TRL's fused LM head projects every position in fp32 (backend.training.compact_head).
    on_cpu = arguments["use_cpu"]
    trainer_class = compact_sft_trainer() if on_cpu else SFTTrainer
    packed_rows = on_cpu and path.packed_rows  # TRL's own loss would ignore the per-example attention
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=PackedRowsCollator(tokenizer.pad_token_id) if packed_rows else None,
        processing_class=tokenizer,
        peft_config=_lora_config(config, "CAUSAL_LM") if config.lora else None,
        callbacks=callbacks,
    )
    if on_cpu:
        trainer.loss_chunk = path.loss_chunk
    return trainer


def _seq2seq_dataset(examples: Sequence[Example], tokenizer: Any, max_length: int) -> Any:
    """Encoder input = prompt, labels = completion (+ EOS when the tokenizer does not add it itself)."""

    def encode(batch: dict[str, list[str]]) -> dict[str, Any]:
        inputs = tokenizer(batch["prompt"], truncation=True, max_length=max_length)
        labels = tokenizer(text_target=batch["completion"], truncation=True, max_length=max_length - 1)
        eos = tokenizer.eos_token_id
        inputs["labels"] = [ids if ids[-1:] == [eos] else [*ids, eos] for ids in labels["input_ids"]]
        return dict(inputs)

    return to_dataset(examples).map(encode, batched=True, remove_columns=["prompt", "completion"])


def _seq2seq_trainer(
    config: TrainConfig,
    model_path: str,
    examples: Sequence[Example],
    arguments: dict[str, Any],
    callbacks: list[Any],
) -> Any:
    import torch
    from transformers import (
        AutoModelForSeq2SeqLM,
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
    )

    model: Any = AutoModelForSeq2SeqLM.from_pretrained(model_path, dtype=torch.float32)
    if config.lora:
        from peft import get_peft_model

        model = get_peft_model(model, _lora_config(config, "SEQ_2_SEQ_LM"))
    tokenizer = _load_tokenizer(model_path)
    return Seq2SeqTrainer(
        model=model,
        args=Seq2SeqTrainingArguments(**arguments),
        train_dataset=_seq2seq_dataset(examples, tokenizer, config.max_length),
        data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def save_student(trainer: Any, config: TrainConfig, model_dir: Path) -> None:
    """Safetensors weights + tokenizer in one folder; LoRA is merged into the base weights when asked."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if config.lora and config.merge_lora:
        model = model.merge_and_unload()
    model.save_pretrained(model_dir)
    trainer.processing_class.save_pretrained(model_dir)


def describe_path(device: str, seq2seq: bool) -> str:
    """The training path a run took, for its record."""
    if seq2seq:
        return "transformers Seq2SeqTrainer"
    if device != "cpu":
        return "TRL SFTTrainer (its own loss)"
    return f"TRL SFTTrainer, compact head: {FAST_PATH.describe()}"


def train_student(
    config: TrainConfig,
    examples: Sequence[Example],
    *,
    output_dir: Path,
    recorder: "RunRecorder",
    dialogues: Sequence[Dialogue] = (),
) -> TrainOutcome:
    """Train to the end (or to the step where the recorder stopped it on a cancel); save output_dir/model.

    A causal Socratic student trains on `dialogues` when given (one packed sequence per rationale, the
    same contexts and targets as `examples`); seq2seq students always train on `examples`.
    """
    import torch

    from backend.training.compiling import CompileWhenItPays

    model_path = resolve_base_model(config.base_model)
    device, bf16 = pick_device(config.device)
    seq2seq = is_seq2seq(model_path)
    packed = bool(dialogues) and not seq2seq
    arguments = _common_arguments(config, output_dir, device, bf16)
    compiler = CompileWhenItPays(CompileMode.off if seq2seq else config.compile, device)
    if seq2seq:
        trainer = _seq2seq_trainer(config, model_path, examples, arguments, [recorder])
    else:
        trainer = _causal_trainer(
            config, model_path, dialogues if packed else examples, arguments, [compiler, recorder]
        )
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    from backend.jobs.allocator import in_use
    from backend.training.budgets import generation_budget

    tokens = int(trainer.state.num_input_tokens_seen)
    tokenizer = trainer.processing_class
    settings = {
        "generation_budget": generation_budget(tokenizer, config.kind, examples, dialogues),
        "precision": "bf16 autocast, fp32 weights" if bf16 else "fp32",
        "training_path": describe_path(device, seq2seq),
        "compiled": compiler.decision,  # not "compile": that key is the setting (TrainConfig.from_run)
        "threads": torch.get_num_threads(),
        "allocator": in_use(),
        "packed_sequences": len(dialogues) if packed else 0,
        "tokens_seen": tokens,
        "tokens_per_second": round(tokens / seconds, 1) if seconds else 0.0,
    }
    model_dir = output_dir / MODEL_DIR
    is_main = bool(trainer.is_world_process_zero())
    if is_main:
        save_student(trainer, config, model_dir)
    trainer.accelerator.wait_for_everyone()
    return TrainOutcome(
        model_dir=model_dir,
        step=int(trainer.state.global_step),
        cancelled=recorder.cancelled_at is not None,
        seconds=seconds,
        seq2seq=seq2seq,
        device=device,
        is_main=is_main,
        settings=settings,
    )
