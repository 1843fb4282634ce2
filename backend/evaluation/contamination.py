"""Contamination check: is an evaluation problem one the evaluated models were trained on, give or take its
numbers and names?

Questions are compared after masking (lower case, every number one token, names one token, punctuation
dropped), so a template re-instantiated with other numbers and names still matches its source. The measure
is the decontamination measure of large-model papers, per training item: the share of the evaluation
question's word n-grams that occur in one training question, the best such item's share, with a floor on
how many grams that is (so that a short question is not flagged for generic phrasing alone). An inverted
index (n-gram -> training items) keeps 1,319 x 10,000 questions to about a second.

The training problems of a checkpoint are the problems behind every rationale of the curated set its
training run learned from, and, when the run started from another checkpoint of this app, that one's too.
bench/contamination_calibration.py measures the n, the threshold and the floor below (GSM8K test against a
gsm_symbolic pool, whose templates were written from GSM8K test, and against GSM8K train, which is
disjoint from it).
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from db.models import CuratedItem, ModelCheckpoint, Problem, Rationale, TrainingRun

# Calibrated by bench/contamination_calibration.py (GSM8K test against 2,000-item gsm_symbolic pools and
# against GSM8K train). A question is seen in training when one training question holds at least THRESHOLD
# of its masked 3-grams *and* at least MIN_SHARED of them (all of them, for a question with fewer): the
# share alone flagged short questions whose few grams are generic phrasing ("is twice as old as", "years
# older than": ten age puzzles of GSM8K test at 0.55 against GSM8K train), while template twins share long
# runs. With both, 91-92% of the 85 template-source questions are flagged in each of three pools (seeds
# 1-3; the share alone at 0.55: 89-91%), no other test question, and against GSM8K train only 9: its 8
# same-template twins of test questions and a 14-gram chained age puzzle contained whole in a longer one.
# Longer grams lose the sources whose template was reworded; weighting grams by inverse document
# frequency, or dividing by the longer question's grams, flagged more of GSM8K train (`--alternatives`).
NGRAM = 3
THRESHOLD = 0.35
MIN_SHARED = 17
NUMBER, NAME = "<num>", "<name>"


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Number words that templates turn into digits ("three" in the source, "{n}" in the template).
_NUMBER_WORDS = _word_set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion"
)
# Words that start sentences without being names; any other capitalised sentence start is masked as a name
# (templates put a name first: "Janet's ducks ..." / "{name}'s ducks ..."). A capitalised noun masked by
# mistake costs a little specificity on both sides alike.
_STARTERS = _word_set(
    "a about after all also among an and another any as assuming at because before both but by calculate "
    "currently during each every find finally first for from given half he her his how however i if in it "
    "it's its last later let let's many most my next no not now of on once one only our out over she since "
    "so some suppose that that's the their then there there's these they this those to today together "
    "unfortunately until we what what's when where which while who why with within yesterday you your"
)
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z]+(?:'[A-Za-z]+)?")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("\u2019", "'").replace("\u2018", "'"))


def masked_words(text: str) -> list[str]:
    """The question's words, lower-cased, with numbers and names each masked to one token.

    A capitalised word is a name (or a place, a brand: all change between instances of a template) unless
    it is a common sentence opener ("The", "How", "If"); mid-sentence capitals are names anyway, so no
    sentence boundaries are needed. Punctuation is dropped.
    """
    words: list[str] = []
    for token in _tokens(text):
        stem = token.split("'")[0]
        if token[0].isdigit() or stem.lower() in _NUMBER_WORDS:
            words.append(NUMBER)
        elif token[0].isupper() and token.lower() not in _STARTERS and stem.lower() not in _STARTERS:
            words.append(NAME)
        else:
            words.append(token.lower())
    return words


def ngrams(words: Sequence[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """The text's word n-grams; a text shorter than n is its one (shorter) gram, so it still compares."""
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class Overlap:
    share: float  # share of the question's n-grams found in the best-matching training question
    best: int | None  # that training question's index in the index's input (None: nothing shared)
    shared: int = 0  # how many of the question's n-grams that training question holds
    grams: int = 0  # the question's own n-grams

    def seen(self, threshold: float = THRESHOLD, min_shared: int = MIN_SHARED) -> bool:
        """Seen in training: enough of the question's grams in one training question, as a share and as
        a count (a question of fewer grams than `min_shared`: all of them)."""
        return bool(self.grams) and self.share >= threshold and self.shared >= min(min_shared, self.grams)


class OverlapIndex:
    """Training questions indexed by masked n-gram; `overlap` scores one evaluation question against it."""

    def __init__(self, questions: Iterable[str], n: int = NGRAM) -> None:
        self.n = n
        self.size = 0
        self.postings: dict[tuple[str, ...], list[int]] = {}
        for index, question in enumerate(questions):
            for gram in ngrams(masked_words(question), n):
                self.postings.setdefault(gram, []).append(index)
            self.size = index + 1

    def overlap(self, question: str) -> Overlap:
        grams = ngrams(masked_words(question), self.n)
        hits: Counter[int] = Counter()
        for gram in grams:
            hits.update(self.postings.get(gram, ()))
        if not grams or not hits:
            return Overlap(0.0, None, 0, len(grams))
        best, count = hits.most_common(1)[0]
        return Overlap(count / len(grams), best, count, len(grams))


# --- what the evaluated models were trained on ---------------------------------------------------------


def _checkpoint_for_base(session: Session, base_model: str) -> ModelCheckpoint | None:
    """The registered checkpoint a training run started from, when its base model is one (by folder)."""
    if not base_model or base_model == "default":
        return None
    candidates = {base_model, str(Path(base_model).expanduser().resolve())}
    query = select(ModelCheckpoint).where(col(ModelCheckpoint.path).in_(candidates))
    return session.exec(query.order_by(col(ModelCheckpoint.id))).first()


def training_set_ids(session: Session, *, checkpoint_ids: Iterable[int]) -> set[int]:
    """Every curated set the checkpoints learned from, following checkpoints trained from checkpoints."""
    sets: set[int] = set()
    todo, visited = list(checkpoint_ids), set()
    while todo:
        checkpoint_id = todo.pop()
        if checkpoint_id in visited:
            continue
        visited.add(checkpoint_id)
        checkpoint = session.get(ModelCheckpoint, checkpoint_id)
        run_id = checkpoint.training_run_id if checkpoint is not None else None
        run = session.get(TrainingRun, run_id) if run_id is not None else None
        if run is None:
            continue
        sets.add(run.set_id)
        for base_text in {run.base_model, checkpoint.base_model if checkpoint else ""}:
            base = _checkpoint_for_base(session, base_text)
            if base is not None and base.id is not None:
                todo.append(base.id)
    return sets


def evaluated_checkpoints(specs: Iterable[dict[str, Any]]) -> list[int]:
    """The checkpoint ids among an evaluation's model specs (teacher backends have no training data here)."""
    return [int(spec["checkpoint_id"]) for spec in specs if spec.get("checkpoint_id") is not None]


def training_questions(session: Session, *, checkpoint_ids: Iterable[int]) -> dict[int, str]:
    """Problem id -> question of every problem the checkpoints were trained on."""
    sets = training_set_ids(session, checkpoint_ids=checkpoint_ids)
    if not sets:
        return {}
    query = (
        select(Problem.id, Problem.question)
        .join(Rationale, col(Rationale.problem_id) == Problem.id)
        .join(CuratedItem, col(CuratedItem.rationale_id) == Rationale.id)
        .where(col(CuratedItem.set_id).in_(sets))
        .distinct()
    )
    return {int(problem_id or 0): question for problem_id, question in session.exec(query).all()}


@dataclass
class ContaminationCheck:
    """An evaluation's check: its training problems, indexed; `flag` reads one evaluation problem."""

    problem_ids: frozenset[int]
    index: OverlapIndex
    threshold: float = THRESHOLD

    @classmethod
    def for_models(cls, session: Session, specs: Iterable[dict[str, Any]]) -> "ContaminationCheck | None":
        """None when no evaluated model is a checkpoint of this app (nothing known to compare with)."""
        checkpoint_ids = evaluated_checkpoints(specs)
        if not checkpoint_ids:
            return None
        questions = training_questions(session, checkpoint_ids=checkpoint_ids)
        return cls(frozenset(questions), OverlapIndex(questions.values()))

    def flag(self, problem_id: int | None, question: str) -> tuple[bool, float]:
        """(seen in training, overlap share); a problem trained on itself is seen whatever its text."""
        if problem_id is not None and problem_id in self.problem_ids:
            return True, 1.0
        overlap = self.index.overlap(question)
        return overlap.seen(self.threshold), round(overlap.share, 4)
