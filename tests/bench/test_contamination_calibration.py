"""The calibration's alternative measures on crafted questions: a twin scores 1, an unrelated question 0,
inverse document frequency discounts phrasing that every training question shares, and the symmetric
share discounts a short question found inside a long one."""

from backend.evaluation.contamination import OverlapIndex
from bench.contamination_calibration import alternative_shares

CORPUS = [
    "Ann is 5 years older than Bob. How old is Bob?",
    "Carl is 3 years older than Dan. How old is Dan?",
    "Eve is 7 years older than Fay. How old is Fay?",
    "Gus bought 4 stamps with a snowflake design at the post office and 6 more. How many stamps?",
]


def test_a_twin_scores_one_and_an_unrelated_question_zero() -> None:
    twin = "Max bought 9 stamps with a snowflake design at the post office and 2 more. How many stamps?"
    scores = alternative_shares(CORPUS, [twin, "The train leaves the depot at noon"])
    assert scores["idf-weighted"] == [1.0, 0.0] and scores["symmetric"] == [1.0, 0.0]


def test_common_phrasing_weighs_less_and_a_short_question_inside_a_long_one_scores_less() -> None:
    # its words are the age puzzles' (common here) plus a clause of its own
    age = "Hal is 2 years older than Ian. How old is Ian if the school closes early?"
    plain, weighted = (
        OverlapIndex(CORPUS).overlap(age).share,
        alternative_shares(CORPUS, [age])["idf-weighted"][0],
    )
    assert 0 < weighted < plain - 0.1  # the shared grams occur in three of four training questions
    short = "Gus bought 4 stamps with a snowflake design"
    symmetric = alternative_shares(CORPUS, [short])["symmetric"][0]
    assert 0 < symmetric < 0.5  # all of its grams are in the stamps question, a third of that question's
