"""The causal-LM training loss on CPUs, with the LM head run only where a label is, in the run's precision.

TRL's SFTTrainer scores tokens through its fused LM head. On CUDA that is a Triton kernel that projects
only the labelled positions. Elsewhere it falls back to torch tiles that project *every* position (prompt
and padding included) and cast both operands to float32 before each product (`_addmm_fp32`). SmolLM2's
head (49,152 x 576) is a fifth of the model's FLOPs, so on a CPU with native bf16 that fallback costs about
as much as the rest of the model. Here the backbone runs as usual, and the head projects only the positions
whose next token is trained (the completion: 10-60% of a prompt + completion sequence), under the trainer's
autocast (bf16 where backend.precision chose it, with fp32 accumulation inside the matmul); the
cross-entropy is taken in float32. It is the loss a plain transformers forward with labels computes, on
the same positions: only the work on positions that carry no loss is skipped.
"""

from functools import cache
from typing import Any


def _causal_lm(model: Any) -> Any:
    """The *ForCausalLM module under a PEFT wrapper (LoRA layers are injected in place, so they stay in)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def compact_causal_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
) -> tuple[Any, Any]:
    """(mean loss over trained tokens, top-1 accuracy of those tokens). `num_items_in_batch`, when the
    trainer counts tokens across gradient-accumulation steps, is the denominator (as in transformers)."""
    import torch
    import torch.nn.functional as F

    causal = _causal_lm(model)
    backbone_inputs = {k: inputs[k] for k in ("input_ids", "attention_mask", "position_ids") if k in inputs}
    hidden = causal.get_decoder()(**backbone_inputs, use_cache=False).last_hidden_state[:, :-1]
    targets = inputs["labels"][:, 1:]
    trained = targets != -100
    logits = causal.get_output_embeddings()(hidden[trained]).float()
    wanted = targets[trained]
    loss_sum = F.cross_entropy(logits, wanted, reduction="sum")
    denominator = trained.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    with torch.no_grad():
        accuracy = (logits.argmax(-1) == wanted).float().mean() if wanted.numel() else torch.zeros(())
    return loss_sum / torch.as_tensor(denominator, device=loss_sum.device), accuracy


@cache
def compact_sft_trainer() -> type:
    """SFTTrainer whose training loss is `compact_causal_loss` (one process; the app's CPU runs)."""
    from trl import SFTTrainer

    class CompactHeadSFTTrainer(SFTTrainer):  # type: ignore[misc]
        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            if return_outputs or not model.training:  # evaluation and prediction keep TRL's own path
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            # accelerate applies mixed precision by wrapping `model.forward`; the backbone and head called
            # here bypass that wrapper, so the run's autocast (bf16 where chosen) is entered explicitly.
            with self.accelerator.autocast():
                loss, accuracy = compact_causal_loss(model, inputs, num_items_in_batch)
            metrics = self._metrics["train"]
            metrics["mean_token_accuracy"].append(float(accuracy))
            if "attention_mask" in inputs:
                self._total_train_tokens += int(inputs["attention_mask"].sum())
            metrics["num_tokens"] = [self._total_train_tokens]
            return loss

    return CompactHeadSFTTrainer
