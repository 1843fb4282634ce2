"""The batched draw: the distribution it samples, and a row's draw independent of its batch."""

import torch
from scipy.stats import chisquare

from backend.teacher.sampling import draw


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
