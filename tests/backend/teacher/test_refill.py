"""Continuous batching (backend.teacher.refill) on tiny random models: freed slots are refilled while a long
sequence continues, greedy output equals the old static path, shared prefixes, sampling seeds, progress."""

from pathlib import Path

import pytest
import torch
from transformers import DynamicCache

from backend.teacher.base import GenerationParams
from backend.teacher.progress import GenerationProgress, listening
from backend.teacher.refill import RefillLoop, Request, common_prefix_length
from backend.teacher.sampling import EndRule, top_p_filter
from backend.teacher.transformers_backend import TransformersBackend

PROMPTS = ["Q: How many pens does Tom have? A:", "Tom has 3 boxes", "x", "Natalia sold clips to 48 friends"]
FEW_SHOT = "Question: Tom has 3 boxes of 5 pens. How many pens does he have? Answer: 3 * 5 = 15. #### 15\n\n"


def backend(model: Path, **options: object) -> TransformersBackend:
    return TransformersBackend(str(model), dtype="float32", **options)  # type: ignore[arg-type]


def test_a_short_sequences_slot_is_reused_while_a_long_one_continues(tiny_llama: Path) -> None:
    teacher = backend(tiny_llama)
    ids = [teacher._encode(prompt) for prompt in PROMPTS]
    # Lengths fixed by token budgets alone (no end token, no stop): one long sequence, three short.
    requests = [Request(0, 0, ids[0], 30)] + [Request(i, 0, ids[i], 3) for i in (1, 2, 3)]
    running: list[list[int]] = []  # per step, the prompts that had a row in the batch
    loop = RefillLoop(
        teacher.lm,
        GenerationParams(max_tokens=30),
        EndRule(end_ids=set(), pad_id=None, stop=[]),
        teacher._decode,
        slots=2,
        report=lambda progress: running.append([row.request.prompt for row in loop.batch.rows]),
    )
    finished = loop.run(requests)
    assert [len(done.tokens) for done in finished] == [30, 3, 3, 3]
    # Prompt 1 leaves after 3 tokens; 2 and then 3 take its slot while prompt 0 keeps its own.
    assert running[0] == [0, 1] and running[2] == [0]
    assert [0, 2] in running and [0, 3] in running
    assert all(step[0] == 0 for step in running[:-1])
    # Static batching would need 30 + 3 steps ([0, 1] until 0 ends, then [2, 3]); refilling needs 30.
    assert len(running) == 30


@pytest.mark.parametrize("params", [
    GenerationParams(max_tokens=20),
    GenerationParams(n=2, max_tokens=12),
    GenerationParams(max_tokens=20, stop=[" pens", "5"]),
])  # fmt: skip
def test_greedy_output_equals_the_static_path(tiny_llama: Path, params: GenerationParams) -> None:
    continuous = backend(tiny_llama, batch_size=2).generate(PROMPTS, params)
    static = backend(tiny_llama, batch_size=2, batching="static").generate(PROMPTS, params)
    for new, old in zip(continuous, static, strict=True):
        assert [(c.text, c.tokens_in, c.tokens_out) for c in new] == [
            (c.text, c.tokens_in, c.tokens_out) for c in old
        ]
        assert [c.logprob for c in new] == pytest.approx([c.logprob for c in old], abs=1e-4)


def test_greedy_output_equals_the_static_path_on_gpt2(tiny_gpt2: Path) -> None:
    params = GenerationParams(max_tokens=16)
    continuous = backend(tiny_gpt2, batch_size=3).generate(PROMPTS, params)
    static = backend(tiny_gpt2, batch_size=3, batching="static").generate(PROMPTS, params)
    assert [s[0].text for s in continuous] == [s[0].text for s in static]


def test_stop_string_and_end_token_end_a_sequence_early(tiny_llama: Path) -> None:
    teacher = backend(tiny_llama)
    free = teacher.generate(PROMPTS[:1], GenerationParams(max_tokens=30))[0][0]
    marker = free.text.strip()[2:4]
    assert marker, "the tiny model produced no text to cut"
    stopped = teacher.generate(PROMPTS[:1], GenerationParams(max_tokens=30, stop=[marker]))[0][0]
    assert marker not in stopped.text and free.text.startswith(stopped.text)
    assert stopped.tokens_out < free.tokens_out
    with torch.inference_mode():
        first = int(teacher.lm(torch.tensor([teacher._encode(PROMPTS[0])])).logits[0, -1].argmax())
    teacher.end_ids = teacher.end_ids | {first}  # the first generated token now ends the sequence
    assert teacher.generate(PROMPTS[:1], GenerationParams(max_tokens=30))[0][0].tokens_out == 1


def test_shared_prefix_is_computed_once_and_changes_no_output(tiny_llama: Path) -> None:
    prompts = [FEW_SHOT + f"Question: {prompt} Answer:" for prompt in PROMPTS]
    params = GenerationParams(max_tokens=12)
    shared = backend(tiny_llama)
    plain = backend(tiny_llama, share_prefix=False)
    assert [s[0].text for s in shared.generate(prompts, params)] == [
        s[0].text for s in plain.generate(prompts, params)
    ]
    prefix = shared._prefix
    assert prefix is not None and len(prefix.ids) >= len(shared._encode(FEW_SHOT)) - 1
    shared.generate(prompts[2:], params)  # a later call of the same run reuses it
    assert shared._prefix is prefix and plain._prefix is None


def test_common_prefix_leaves_every_prompt_a_token_of_its_own() -> None:
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert common_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert common_prefix_length([[7, 1], [8, 1]]) == 0


def test_sampling_is_seeded_per_sample_whatever_the_slot_count(tiny_llama: Path) -> None:
    params = GenerationParams(n=3, temperature=1.0, top_p=0.9, max_tokens=10, seed=5)
    one_slot = backend(tiny_llama, batch_size=1).generate(PROMPTS, params)
    four_slots = backend(tiny_llama, batch_size=4).generate(PROMPTS, params)
    assert [[c.text for c in s] for s in one_slot] == [[c.text for c in s] for s in four_slots]
    assert len({c.text for c in one_slot[0]}) > 1  # samples of one prompt differ
    other_seed = backend(tiny_llama).generate(PROMPTS, GenerationParams(n=3, temperature=1.0, max_tokens=10))
    assert [[c.text for c in s] for s in other_seed] != [[c.text for c in s] for s in one_slot]


def test_top_p_keeps_the_smallest_set_reaching_the_mass() -> None:
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    assert top_p_filter(probs.clone(), 0.7)[0].tolist() == pytest.approx([0.5, 0.3, 0.0, 0.0])
    assert top_p_filter(probs.clone(), 0.1)[0].tolist() == pytest.approx([0.5, 0.0, 0.0, 0.0])


def test_progress_moves_within_one_call(tiny_llama: Path) -> None:
    reports: list[GenerationProgress] = []

    def copy(p: GenerationProgress) -> None:
        reports.append(GenerationProgress(p.sequences, p.finished, p.tokens_out, list(p.prompts_done)))

    params = GenerationParams(n=2, temperature=1.0, max_tokens=8)
    with listening(copy):
        results = backend(tiny_llama, batch_size=2).generate(PROMPTS, params)
    assert len(reports) > 4 and reports[-1].sequences == 8 and reports[-1].finished == 8
    assert sorted(reports[-1].prompts_done) == [0, 1, 2, 3]
    assert reports[-1].tokens_out == sum(c.tokens_out for s in results for c in s)
    middle = reports[len(reports) // 2]
    assert 0 < middle.tokens_out < reports[-1].tokens_out and middle.finished < 8
    assert [r.tokens_out for r in reports] == sorted(r.tokens_out for r in reports)


def test_precision_is_chosen_and_recorded(tiny_llama: Path) -> None:
    assert backend(tiny_llama).dtype == "float32"
    bf16 = TransformersBackend(str(tiny_llama), dtype="bfloat16")
    assert bf16.dtype == "bfloat16" and next(bf16.lm.parameters()).dtype == torch.bfloat16
    assert len(bf16.generate(PROMPTS[:2], GenerationParams(max_tokens=4))) == 2
    assert TransformersBackend(str(tiny_llama)).dtype in ("float32", "bfloat16")  # the probe's choice
    with pytest.raises(ValueError, match="dtype"):
        TransformersBackend(str(tiny_llama), dtype="float8")
    with pytest.raises(ValueError, match="batching"):
        TransformersBackend(str(tiny_llama), batching="dynamic")


def test_grouped_attention_matches_sdpa_with_shared_key_value_heads() -> None:
    """SmolLM2 shares each key/value head among 3 query heads; the tiny test models do not."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from backend.teacher.attention import use_grouped_attention

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=96, intermediate_size=128, num_hidden_layers=2, num_attention_heads=6,
        num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    sdpa = LlamaForCausalLM(config).eval()
    grouped = LlamaForCausalLM(config).eval()
    grouped.load_state_dict(sdpa.state_dict())
    use_grouped_attention(grouped)
    ids = torch.randint(0, 64, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, :5] = 0  # a left-padded row: its padding queries attend to nothing
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    with torch.inference_mode():
        expected = sdpa(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        got = grouped(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        causal = grouped(input_ids=ids[:1]).logits  # no padding: transformers skips the mask
    assert torch.allclose(got[0], expected[0], atol=1e-4) and torch.allclose(
        got[1, 5:], expected[1, 5:], atol=1e-4
    )
    assert torch.isfinite(got).all() and torch.allclose(causal, expected[:1], atol=1e-4)
    # One decoding step on a cache, the padded row's padding still masked (the path decoding takes).
    caches = [DynamicCache(), DynamicCache()]
    step = torch.randint(0, 64, (2, 1))
    step_mask = torch.cat([mask, torch.ones(2, 1, dtype=torch.long)], dim=1)
    with torch.inference_mode():
        decoded = []
        for model, cache in zip((sdpa, grouped), caches, strict=True):
            model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache)
            decoded.append(model(input_ids=step, attention_mask=step_mask, position_ids=positions[:, -1:] + 1,
                                 past_key_values=cache).logits)  # fmt: skip
    assert torch.allclose(decoded[1], decoded[0], atol=1e-4)


def greedy_tokens(lm: torch.nn.Module, ids: list[int], count: int) -> list[int]:
    """`count` greedy tokens after `ids`, the whole sequence read again at each step (no cache)."""
    ids = list(ids)
    with torch.inference_mode():
        for _ in range(count):
            ids.append(int(lm(torch.tensor([ids])).logits[0, -1].argmax()))
    return ids[-count:] if count else []


def test_a_revised_row_goes_on_as_if_its_new_text_were_read_from_scratch(tiny_llama: Path) -> None:
    teacher = backend(tiny_llama)
    ids = [teacher._encode(prompt) for prompt in PROMPTS]
    last_round: dict[int, int] = {}  # prompt -> tokens written after its last revision

    def revise(prompt: int, written: str, tokens_out: int, hit_budget: bool) -> str | None:
        assert hit_budget  # only the budget ends a row here
        if prompt in last_round:
            last_round[prompt] = tokens_out
            return None
        last_round[prompt] = -1
        return written[: len(written) // 2] + " 12 apples"  # drops tokens, writes new ones

    loop = RefillLoop(
        teacher.lm,
        GenerationParams(max_tokens=16),
        EndRule(end_ids=set(), pad_id=None, stop=[]),
        teacher._decode,
        encode=lambda text: list(teacher.tokenizer(text, add_special_tokens=False)["input_ids"]),
        slots=2,  # rows revise while another row runs beside them, and freed slots are refilled
    )
    finished = loop.run([Request(i, 0, ids[i], 16) for i in range(len(PROMPTS))], revise)
    for done in finished:
        new = last_round[done.request.prompt]
        assert 0 < new < 16 and len(done.tokens) == 16
        kept = done.tokens[:-new]
        assert teacher._decode(kept).endswith(" 12 apples")
        assert done.tokens[-new:] == greedy_tokens(teacher.lm, done.request.ids + kept, new)
