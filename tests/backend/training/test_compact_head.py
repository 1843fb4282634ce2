"""The CPU training loss (LM head only where a label is) is the model's own loss, value and gradient,
padding and masked prompts included; and the app's CPU trainer uses it."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from backend.training.compact_head import compact_causal_loss, compact_sft_trainer


def _batch() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    input_ids = torch.randint(3, 60, (3, 12))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 9:] = 0  # a padded row
    labels = input_ids.clone()
    labels[:, :5] = -100  # the prompt
    labels[attention_mask == 0] = -100
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


@pytest.mark.parametrize("lora", [False, True])
def test_compact_loss_and_gradients_equal_the_models_own(tiny_llama: Path, lora: bool) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        )
    batch = _batch()
    reference = model(**batch).loss
    reference.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    loss, accuracy = compact_causal_loss(model, batch)
    loss.backward()
    assert torch.allclose(loss, reference, atol=1e-5) and 0.0 <= float(accuracy) <= 1.0
    got = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert got.keys() == expected.keys() and len(got) > 0
    for name, grad in got.items():
        assert torch.allclose(grad, expected[name], atol=1e-5), name


def test_a_token_count_from_the_trainer_is_the_denominator(tiny_llama: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    batch = _batch()
    trained = int((batch["labels"][:, 1:] != -100).sum())
    mean, _ = compact_causal_loss(model, batch)
    halved, _ = compact_causal_loss(model, batch, num_items_in_batch=torch.tensor(2 * trained))
    assert torch.allclose(halved, mean / 2, atol=1e-6)


@pytest.mark.parametrize("bf16", [False, True])
def test_the_apps_cpu_trainer_uses_the_compact_loss_in_its_precision(
    tiny_llama: Path, tmp_path: Path, bf16: bool
) -> None:
    """bf16 runs must really compute in bf16: accelerate autocasts `model.forward` only, which the compact
    loss does not call (a first version trained the backbone in fp32 at half the speed)."""
    from trl import SFTTrainer

    from backend.student_formats import Example
    from backend.training.config import TrainConfig
    from backend.training.trainer import _causal_trainer, _common_arguments

    config = TrainConfig(set_id=0, max_steps=1, batch_size=2)
    examples = [Example("Q: 1+1?\nA:", " 2 So the answer is: 2")] * 2
    arguments = _common_arguments(config, tmp_path, "cpu", bf16)
    trainer = _causal_trainer(config, str(tiny_llama), examples, arguments, [])
    assert isinstance(trainer, compact_sft_trainer()) and isinstance(trainer, SFTTrainer)
    seen: list[torch.dtype] = []
    layer = trainer.model.get_decoder().layers[0].self_attn.q_proj
    layer.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    trainer.train()
    assert trainer.state.global_step == 1 and trainer.state.log_history[0]["loss"] > 0
    assert seen and set(seen) == {torch.bfloat16 if bf16 else torch.float32}
