"""The causal-LM training loss on CPUs, with the LM head run only where a label is, in the run's precision,
in chunks of trained positions.

TRL's SFTTrainer scores tokens through its fused LM head. On CUDA that is a Triton kernel that projects
only the labelled positions. Elsewhere it falls back to torch tiles that project *every* position (prompt
and padding included) and cast both operands to float32 before each product (`_addmm_fp32`). SmolLM2's
head (49,152 x 576) is a fifth of the model's FLOPs, so on a CPU with native bf16 that fallback costs about
as much as the rest of the model. Here the backbone runs as usual, and the head projects only the positions
whose next token is trained (the completion: 10-60% of a prompt + completion sequence), under the trainer's
autocast (bf16 where backend.precision chose it, with fp32 accumulation inside the matmul); the
cross-entropy is taken in float32. It is the loss a plain transformers forward with labels computes, on
the same positions: only the work on positions that carry no loss is skipped.

The head and cross-entropy run `chunk` trained positions at a time (`chunked_head_loss`): the fp32 logits
over the whole vocabulary exist for one chunk only (1,024 x 49,152 x 4 bytes = 200 MB, against 2 GB
and more for a batch of 8 long rationales held until the backward). Each chunk's gradients are taken in the
forward, while its logits are at hand, so nothing is recomputed in the backward.
"""

from functools import cache
from typing import Any

# Trained positions per head chunk: large enough that each (chunk x hidden) @ (hidden x vocab) product runs
# at full matmul speed, small enough that its fp32 logits (chunk x vocab) stay a few hundred MB.
LOSS_CHUNK = 1024


def _causal_lm(model: Any) -> Any:
    """The *ForCausalLM module under a PEFT wrapper (LoRA layers are injected in place, so they stay in)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _backbone_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Packed rows (backend.training.packing) carry position ids restarting at each example; from them
    transformers builds the per-example causal mask, so their 2D attention_mask (it only marks the real
    tokens, for the trainer's token count) is left out: given one, transformers would not look for packing."""
    if "position_ids" in inputs:
        return {"input_ids": inputs["input_ids"], "position_ids": inputs["position_ids"]}
    return {k: inputs[k] for k in ("input_ids", "attention_mask") if k in inputs}


def backbone_hidden(model: Any, inputs: dict[str, Any]) -> Any:
    """The last hidden states (B, T, H) of a batch, padded or packed. Without a cache: with one,
    transformers would not read the per-example mask of packed rows off their position ids."""
    decoder = _causal_lm(model).get_decoder()
    return decoder(**_backbone_inputs(inputs), use_cache=False).last_hidden_state


def _compute_dtype(hidden: Any, weight: Any) -> Any:
    """The head's matmul dtype: the autocast dtype where the run autocasts, else the weight's."""
    import torch

    device = hidden.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else weight.dtype


@cache
def chunked_head_loss() -> Any:
    """The autograd Function below (a factory, so that importing this module does not import torch)."""
    import torch

    class ChunkedHeadLoss(torch.autograd.Function):
        """(sum of cross-entropies, correct top-1 count) of hidden (N, H) @ weight (V, H).T against
        wanted (N,), `chunk` rows at a time; the gradients are computed in the forward and scaled in the
        backward (the loss is linear in its upstream gradient)."""

        @staticmethod
        def forward(ctx: Any, hidden: Any, weight: Any, wanted: Any, chunk: int, dtype: Any) -> Any:
            need_hidden, need_weight = ctx.needs_input_grad[:2]
            grad_hidden = torch.empty_like(hidden) if need_hidden else None
            grad_weight = torch.zeros_like(weight, dtype=torch.float32) if need_weight else None
            loss = torch.zeros((), dtype=torch.float32, device=hidden.device)
            hits = torch.zeros((), dtype=torch.long, device=hidden.device)
            w = weight.to(dtype)  # (V, H)
            with torch.autocast(hidden.device.type, enabled=False):  # the casts are explicit here
                for start in range(0, wanted.numel(), chunk):
                    h = hidden[start : start + chunk].to(dtype)  # (n, H)
                    t = wanted[start : start + chunk]  # (n,)
                    logits = (h @ w.T).float()  # (n, V): rounded to `dtype` first, as under autocast
                    lse = logits.logsumexp(-1)  # (n,)
                    loss += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
                    hits += (logits.argmax(-1) == t).sum()
                    if not (need_hidden or need_weight):
                        continue
                    grad = logits.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
                    grad[torch.arange(t.numel(), device=t.device), t] -= 1  # d(sum of losses)/d logits
                    grad = grad.to(dtype)
                    if grad_hidden is not None:
                        grad_hidden[start : start + chunk] = grad @ w
                    if grad_weight is not None:
                        grad_weight += (grad.T @ h).float()  # (V, H)
            ctx.save_for_backward(grad_hidden, grad_weight)
            ctx.mark_non_differentiable(hits)
            return loss, hits

        @staticmethod
        def backward(ctx: Any, grad_loss: Any, _grad_hits: Any) -> Any:
            grad_hidden, grad_weight = ctx.saved_tensors
            scale = grad_loss.float()
            return (
                None if grad_hidden is None else grad_hidden * scale.to(grad_hidden.dtype),
                None if grad_weight is None else grad_weight * scale,
                None,
                None,
                None,
            )

    return ChunkedHeadLoss


def head_loss(head: Any, hidden: Any, wanted: Any, chunk: int | None) -> tuple[Any, Any]:
    """(sum of fp32 cross-entropies, correct top-1 count) of the head over hidden (N, H) against wanted (N,).

    `chunk`: positions per chunk (`chunked_head_loss`); None projects them all at once through the module
    (also the path for heads that are not a plain bias-free Linear, such as a LoRA-adapted head)."""
    import torch
    import torch.nn.functional as F

    plain = type(head) is torch.nn.Linear and head.bias is None
    if chunk is not None and plain and wanted.numel():
        dtype = _compute_dtype(hidden, head.weight)
        return chunked_head_loss().apply(hidden, head.weight, wanted, chunk, dtype)  # type: ignore[no-any-return]
    logits = head(hidden).float()
    with torch.no_grad():
        hits = (logits.argmax(-1) == wanted).sum()
    return F.cross_entropy(logits, wanted, reduction="sum"), hits


def compact_causal_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None, *, chunk: int | None = LOSS_CHUNK
) -> tuple[Any, Any]:
    """(mean loss over trained tokens, top-1 accuracy of those tokens). `num_items_in_batch`, when the
    trainer counts tokens across gradient-accumulation steps, is the denominator (as in transformers)."""
    import torch

    causal = _causal_lm(model)
    hidden = backbone_hidden(causal, inputs)[:, :-1]  # (B, T-1, H)
    targets = inputs["labels"][:, 1:]  # (B, T-1): position t predicts token t+1
    trained = targets != -100
    wanted = targets[trained]
    loss_sum, hits = head_loss(causal.get_output_embeddings(), hidden[trained], wanted, chunk)
    denominator = trained.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    accuracy = hits.float() / max(wanted.numel(), 1)
    return loss_sum / torch.as_tensor(denominator, device=loss_sum.device), accuracy


@cache
def compact_sft_trainer() -> type:
    """SFTTrainer whose training loss is `compact_causal_loss` (one process; the app's CPU runs)."""
    from trl import SFTTrainer

    class CompactHeadSFTTrainer(SFTTrainer):  # type: ignore[misc]
        loss_chunk: int | None = LOSS_CHUNK  # trained positions per head chunk; None: all at once

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
                loss, accuracy = compact_causal_loss(model, inputs, num_items_in_batch, chunk=self.loss_chunk)
            metrics = self._metrics["train"]
            metrics["mean_token_accuracy"].append(float(accuracy))
            if "attention_mask" in inputs:
                self._total_train_tokens += int(inputs["attention_mask"].sum())
            metrics["num_tokens"] = [self._total_train_tokens]
            return loss

    return CompactHeadSFTTrainer
