"""The batched draw: the distribution it samples, and a row's draw independent of its batch; the nucleus."""

import torch
from scipy.stats import chisquare

from backend.teacher.sampling import NUCLEUS_CANDIDATES, draw, full_sort_nucleus, top_p_filter


def seeded(count: int, offset: int = 0) -> list[torch.Generator | None]:
    return [torch.Generator().manual_seed(offset + row) for row in range(count)]


def test_draws_follow_the_row_distribution_and_never_a_zero() -> None:
    probs = torch.tensor([0.5, 0.3, 0.15, 0.0, 0.05])
    draws = 4000
    tokens = draw(probs.expand(draws, -1), seeded(draws))
    counts = torch.bincount(tokens, minlength=5)
    assert counts[3] == 0
    kept = [0, 1, 2, 4]
    expected = (probs[kept] * draws).tolist()
    assert chisquare(counts[kept].tolist(), expected).pvalue > 0.001


def test_unnormalised_rows_and_a_single_token_row() -> None:
    probs = torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 7.0]])
    assert draw(probs, seeded(2)).tolist() == [1, 2]


def test_a_rows_token_depends_on_its_generator_not_on_the_other_rows() -> None:
    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(8, 1000), dim=-1)
    together = draw(probs, seeded(8))
    alone = [int(draw(probs[row : row + 1], seeded(1, offset=row))[0]) for row in range(8)]
    assert together.tolist() == alone
    assert draw(probs, seeded(8, offset=100)).tolist() != together.tolist()


def test_the_nucleus_among_the_likeliest_tokens_equals_the_full_sort() -> None:
    torch.manual_seed(0)
    vocabulary = NUCLEUS_CANDIDATES * 8
    peaked = torch.softmax(torch.randn(6, vocabulary) * 6, dim=-1)  # the candidates hold the nucleus
    assert bool((peaked.topk(NUCLEUS_CANDIDATES).values.sum(-1) >= 0.9).all())
    flat = torch.softmax(torch.randn(2, vocabulary) * 0.1, dim=-1)  # they do not: the whole row is sorted
    assert bool((flat.topk(NUCLEUS_CANDIDATES).values.sum(-1) < 0.9).all())
    for probs in (peaked, torch.cat([peaked, flat])):
        assert torch.equal(top_p_filter(probs.clone(), 0.9), full_sort_nucleus(probs.clone(), 0.9))
