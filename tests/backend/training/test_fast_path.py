"""The fast CPU training path (issue 22) trains the same model as the padded one: the chunked head loss is
the loss taken at once (values and gradients), packed rows never attend across examples, and a few
training steps on the same batches give the same losses."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from backend.training.compact_head import compact_causal_loss, head_loss
from backend.training.packing import PackedRowsCollator, pack_rows


def _head_and_inputs(vocab: int = 50, width: int = 16, positions: int = 37) -> tuple[torch.nn.Linear, ...]:
    torch.manual_seed(0)
    head = torch.nn.Linear(width, vocab, bias=False)
    hidden = torch.randn(positions, width, requires_grad=True)
    wanted = torch.randint(0, vocab, (positions,))
    return head, hidden, wanted


def _loss_and_grads(chunk: int | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    head, hidden, wanted = _head_and_inputs()
    loss, hits = head_loss(head, hidden, wanted, chunk)
    (loss * 0.5).backward()  # an upstream gradient other than 1 must scale both gradients
    assert hidden.grad is not None and head.weight.grad is not None
    return loss.detach(), hits, hidden.grad, head.weight.grad


@pytest.mark.parametrize("chunk", [1, 8, 37, 1024])
def test_the_chunked_head_loss_equals_the_loss_at_once(chunk: int) -> None:
    loss, hits, grad_hidden, grad_weight = _loss_and_grads(None)
    chunked, chunked_hits, chunked_grad_hidden, chunked_grad_weight = _loss_and_grads(chunk)
    assert torch.allclose(chunked, loss, rtol=1e-6) and int(chunked_hits) == int(hits)
    assert torch.allclose(chunked_grad_hidden, grad_hidden, atol=1e-6)
    assert torch.allclose(chunked_grad_weight, grad_weight, atol=1e-6)


def test_the_chunked_head_loss_under_bf16_autocast_matches_the_loss_at_once() -> None:
    results = []
    for chunk in (None, 8):
        head, hidden, wanted = _head_and_inputs()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss, _ = head_loss(head, hidden, wanted, chunk)
        loss.backward()
        results.append((loss.detach(), hidden.grad, head.weight.grad))
    (loss, grad_hidden, grad_weight), (chunked, chunked_hidden, chunked_weight) = results
    assert chunked.dtype == torch.float32 and torch.allclose(chunked, loss, rtol=1e-3)
    assert torch.allclose(chunked_hidden, grad_hidden, atol=1e-2)  # type: ignore[arg-type]
    assert torch.allclose(chunked_weight, grad_weight, atol=2e-2)  # type: ignore[arg-type]


def test_the_chunked_loss_of_a_model_equals_its_own_loss_and_gradients(tiny_llama: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    torch.manual_seed(0)
    input_ids = torch.randint(3, 60, (3, 12))
    labels = input_ids.clone()
    labels[:, :5] = -100
    batch = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "labels": labels}
    model(**batch).loss.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    reference = model(**batch).loss
    model.zero_grad()
    loss, _ = compact_causal_loss(model, batch, chunk=5)  # 3 x 6 trained positions: 4 chunks
    loss.backward()
    assert torch.allclose(loss, reference, atol=1e-5)
    for name, grad in expected.items():
        assert torch.allclose(model.get_parameter(name).grad, grad, atol=1e-5), name  # type: ignore[arg-type]


def test_rows_are_packed_first_fit_decreasing_without_splitting_an_example() -> None:
    assert pack_rows([5, 2, 3, 4, 1]) == [[0], [3, 4], [2, 1]]
    assert pack_rows([7]) == [[0]]


def _examples() -> list[dict[str, list[int]]]:
    lengths = (9, 4, 5, 3, 9)
    rows = [[(7 * i + 3 * j) % 50 + 5 for j in range(n)] for i, n in enumerate(lengths)]
    return [{"input_ids": ids, "labels": [-100, -100, *ids[2:]]} for ids in rows]


def test_the_collator_restarts_positions_and_masks_each_examples_first_label() -> None:
    batch = PackedRowsCollator(pad_token_id=0)(_examples())
    assert batch["input_ids"].shape == (4, 9)  # 30 tokens in 4 rows of 9 instead of 5 padded rows
    assert int(batch["attention_mask"].sum()) == 30
    row = 2  # pack_rows puts examples 2 (5 tokens) and 1 (4 tokens) here, after the two 9-token ones
    assert batch["position_ids"][row].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3]
    assert batch["labels"][row, 5] == -100  # example 1's first token: never predicted from example 2
    assert batch["labels"][row, 7:].tolist() == _examples()[1]["input_ids"][2:]
    padded_row = batch["attention_mask"][3]  # example 3 (3 tokens) alone: 6 padding tokens after it
    assert padded_row.tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert batch["position_ids"][3].tolist() == [0, 1, 2, 0, 1, 2, 3, 4, 5]
    assert (batch["labels"][3, 3:] == -100).all()


def _segments(batch: dict[str, torch.Tensor]) -> list[tuple[int, int, int]]:
    """(row, start, length) of each example in packed rows (real tokens first, padding at the end)."""
    found = []
    for row, positions in enumerate(batch["position_ids"].tolist()):
        real = int(batch["attention_mask"][row].sum())
        starts = [c for c in range(real) if positions[c] == 0]
        found += [(row, s, e - s) for s, e in zip(starts, [*starts[1:], real], strict=True)]
    return found


@pytest.mark.parametrize("architecture", ["tiny_llama", "tiny_gpt2"])
def test_packed_rows_never_attend_across_examples(architecture: str, request: pytest.FixtureRequest) -> None:
    from backend.training.compact_head import backbone_hidden

    model = AutoModelForCausalLM.from_pretrained(request.getfixturevalue(architecture), dtype=torch.float32)
    model.eval()
    batch = PackedRowsCollator(pad_token_id=0)(_examples())
    segments = _segments(batch)
    assert len(segments) == 5 and len({row for row, _, _ in segments}) == 4
    with torch.no_grad():
        packed = model.get_output_embeddings()(
            backbone_hidden(model, batch)
        )  # the training loss's own backbone call
        # The control: the same rows and position ids with the 2D mask, read as one sequence per row.
        leaky = model(**batch, use_cache=False).logits
        for row, start, length in segments:
            alone = model(batch["input_ids"][None, row, start : start + length], use_cache=False).logits[0]
            assert torch.allclose(packed[row, start : start + length], alone, atol=1e-5)
            if start > 0:  # an example after another in its row: the control does see across
                assert not torch.allclose(leaky[row, start : start + length], alone, atol=1e-3)


def _losses(model_dir: Path, out: Path, path: object, bf16: bool) -> tuple[list[float], list[int]]:
    """The per-step losses of a 3-step run, and the rows of each batch."""
    from backend.student_formats import Example
    from backend.training.config import TrainConfig
    from backend.training.trainer import _causal_trainer, _common_arguments

    config = TrainConfig(set_id=0, max_steps=3, batch_size=4, learning_rate=1e-3, warmup=0.0)
    # 4 to 40 filler words: a long example leaves room for short ones beside it in a packed row.
    examples = [
        Example(
            f"Q: {a} + {a * 3} = ?\nA:", f" {a} + {a * 3} = {4 * a}." + " So" * (a * a % 41) + f" {4 * a}"
        )
        for a in range(1, 13)
    ]
    arguments = _common_arguments(config, out, "cpu", bf16)
    arguments["train_sampling_strategy"] = "random"  # mixed lengths in a batch (the same in both arms)
    trainer = _causal_trainer(config, str(model_dir), examples, arguments, [], path=path)  # type: ignore[arg-type]
    rows: list[int] = []
    collate = trainer.data_collator
    trainer.data_collator = lambda batch: rows.append(len((out := collate(batch))["input_ids"])) or out
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry], rows


@pytest.mark.parametrize("bf16", [False, True])
def test_the_fast_path_trains_the_same_model_as_the_padded_one(
    tiny_llama: Path, tmp_path: Path, bf16: bool
) -> None:
    """Same examples, same sampler, same seed: the same losses step by step (the weights after each step
    included, since every later loss depends on them), in fp32 and under bf16 autocast."""
    from backend.training.trainer import FAST_PATH, PADDED_PATH, CausalPath

    small_chunks = CausalPath(packed_rows=True, loss_chunk=7)  # several chunks per batch
    padded, padded_rows = _losses(tiny_llama, tmp_path / "padded", PADDED_PATH, bf16)
    fast, packed_rows = _losses(tiny_llama, tmp_path / "fast", FAST_PATH, bf16)
    chunked, _ = _losses(tiny_llama, tmp_path / "chunked", small_chunks, bf16)
    assert len(padded) == 3 and padded[0] > padded[-1]
    assert padded_rows[:3] == [4, 4, 4] and sum(packed_rows[:3]) < 12  # some rows hold several examples
    tolerance = 2e-2 if bf16 else 1e-4
    assert fast == pytest.approx(padded, abs=tolerance) and chunked == pytest.approx(padded, abs=tolerance)


def test_a_runs_record_names_its_training_path() -> None:
    from backend.training.trainer import describe_path

    assert describe_path("cpu", False).endswith(
        "packed rows, head loss in chunks of 1024 (trained positions only)"
    )
    assert describe_path("cuda", False) == "TRL SFTTrainer (its own loss)"
    assert describe_path("cpu", True) == "transformers Seq2SeqTrainer"
