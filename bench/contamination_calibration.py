"""Calibrate the contamination check (backend/evaluation/contamination.py) on data whose answer is known.

GSM8K test against a gsm_symbolic pool: reasoning-gym's gsm_symbolic templates were written from GSM8K test
questions, so each template has a source question there (found here, independently of the measure, as the
test question whose masked word set is most like one of the template's items). GSM8K test against GSM8K
train: disjoint splits, nothing should be flagged. For each n-gram size it prints the score distribution of
both comparisons, and per threshold the template sources flagged (recall) and the train-side false flags.

For the app's 3-grams it then prints the grid of the rule the app uses: a share of at least THRESHOLD of
the question's grams *and* at least MIN_SHARED of them in one training question (all of them for a shorter
question), per threshold and floor, so that the floor's effect on both sides is seen.

`--alternatives` also scores two other measures with the app's 3-grams, to see whether either would drop
the false flags against GSM8K train (short age puzzles that look alike once masked) without losing
template sources: the share weighted by each gram's inverse document frequency in the training side
(common phrasing counts less), and the symmetric share (shared grams over the longer of the two questions).

Run (about a minute on one core):
    .venv/bin/python bench/contamination_calibration.py [--pool 2000] [--seed 1] [--alternatives]
"""

import argparse
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.evaluation.contamination import (  # noqa: E402
    MIN_SHARED,
    NGRAM,
    THRESHOLD,
    Overlap,
    OverlapIndex,
    masked_words,
    ngrams,
)

DATASETS = Path(os.environ.get("SOCRATIC_DATASETS", ROOT.parent / "shared" / "datasets"))
SIZES = (3, 4, 5, 6, 8)
THRESHOLDS = (0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
FLOOR_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
FLOORS = (0, 12, 15, 16, 17, 18, 20)
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def questions(path: Path) -> list[str]:
    with path.open() as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


def pool(size: int, seed: int) -> tuple[list[str], list[int]]:
    """gsm_symbolic questions and the template each was generated from."""
    import reasoning_gym

    dataset = reasoning_gym.create_dataset("gsm_symbolic", size=size, seed=seed)
    return [item["question"] for item in dataset], list(dataset.task_indices)  # type: ignore[attr-defined]


def template_sources(
    test: list[str], items: list[str], templates: list[int]
) -> dict[int, tuple[int, float, float]]:
    """Template -> (its source test question, word-set Jaccard, the runner-up's): argmax over the test."""
    test_sets = [set(masked_words(q)) for q in test]
    by_template: dict[int, list[set[str]]] = defaultdict(list)
    for question, template in zip(items, templates, strict=True):
        by_template[template].append(set(masked_words(question)))
    sources = {}
    for template, sets in by_template.items():
        best = sorted(
            ((max(len(t & s) / len(t | s) for s in sets), index) for index, t in enumerate(test_sets)),
            reverse=True,
        )[:2]
        sources[template] = (best[0][1], best[0][0], best[1][0])
    return sources


def word_set_share(test: list[str], items: list[str]) -> list[float]:
    """The issue's measure: the largest share of a test question's masked word set in one item."""
    item_sets = [set(masked_words(q)) for q in items]
    shares = []
    for question in test:
        words = set(masked_words(question))
        shares.append(max(len(words & s) for s in item_sets) / len(words))
    return shares


def histogram(scores: list[float]) -> str:
    bins = list(pairwise(BINS))
    counts = [sum(low <= s < high for s in scores) for low, high in bins]
    return " ".join(
        f"[{low:.1f},{min(high, 1.0):.1f}{']' if high > 1 else ')'}:{n}"
        for (low, high), n in zip(bins, counts, strict=True)
    )


def report_size(n: int, test: list[str], items: list[str], train: list[str], sources: set[int]) -> None:
    started = time.perf_counter()
    symbolic, gsm_train = OverlapIndex(items, n), OverlapIndex(train, n)
    vs_pool = [symbolic.overlap(q).share for q in test]
    vs_train = [gsm_train.overlap(q).share for q in test]
    seconds = time.perf_counter() - started
    source_scores = sorted(vs_pool[i] for i in sources)
    others = [s for i, s in enumerate(vs_pool) if i not in sources]
    print(f"\n== {n}-grams ({seconds:.1f} s for both indexes and 2 x {len(test)} questions)")
    print(f"  test vs pool, template sources ({len(sources)}): {histogram(source_scores)}")
    print(f"  test vs pool, other questions ({len(others)}):   {histogram(others)}")
    print(f"  test vs GSM8K train ({len(test)}):              {histogram(vs_train)}")
    lowest, highest = [round(s, 3) for s in source_scores[:6]], [round(s, 3) for s in sorted(others)[-6:]]
    train_top = [round(s, 3) for s in sorted(vs_train)[-6:]]
    print(f"  lowest source scores {lowest}; highest others {highest}; highest vs train {train_top}")
    for threshold in THRESHOLDS:
        flagged = sum(s >= threshold for s in vs_pool)
        recall = sum(s >= threshold for s in source_scores)
        false_train = sum(s >= threshold for s in vs_train)
        print(f"  threshold {threshold:.2f}: flagged vs pool {flagged:4d} (sources {recall}/{len(sources)} = "
              f"{recall / len(sources):.0%}), flagged vs GSM8K train {false_train}")  # fmt: skip


def report_floor(test: list[str], items: list[str], train: list[str], sources: set[int]) -> None:
    """The app's rule over a grid of thresholds and floors: sources flagged, other test questions flagged
    against the pool, test questions flagged against GSM8K train."""
    symbolic, gsm_train = OverlapIndex(items, NGRAM), OverlapIndex(train, NGRAM)
    vs_pool: list[Overlap] = [symbolic.overlap(q) for q in test]
    vs_train = [gsm_train.overlap(q) for q in test]
    print(f"\n== {NGRAM}-grams, share >= threshold and at least `floor` grams shared (all, if fewer)")
    for floor in FLOORS:
        for threshold in FLOOR_THRESHOLDS:
            recall = sum(vs_pool[i].seen(threshold, floor) for i in sources)
            others = sum(o.seen(threshold, floor) for i, o in enumerate(vs_pool) if i not in sources)
            false_train = sum(o.seen(threshold, floor) for o in vs_train)
            app = " (the app)" if (threshold, floor) == (THRESHOLD, MIN_SHARED) else ""
            print(f"  floor {floor:2d}, threshold {threshold:.2f}: sources {recall}/{len(sources)} = "
                  f"{recall / len(sources):.0%}, other test questions vs pool {others}, "
                  f"flagged vs GSM8K train {false_train}{app}")  # fmt: skip


def alternative_shares(corpus: list[str], test: list[str]) -> dict[str, list[float]]:
    """Each test question's best score against `corpus` under the two alternative measures."""
    grams = [ngrams(masked_words(q), NGRAM) for q in corpus]
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, item in enumerate(grams):
        for gram in item:
            postings[gram].append(index)

    def idf(gram: tuple[str, ...]) -> float:  # a gram the corpus lacks weighs as one seen once
        return math.log((len(corpus) + 1) / (max(len(postings.get(gram, ())), 1) + 1))

    scores: dict[str, list[float]] = {"idf-weighted": [], "symmetric": []}
    for question in test:
        own = ngrams(masked_words(question), NGRAM)
        weighted: Counter[int] = Counter()
        shared: Counter[int] = Counter()
        for gram in own:
            for index in postings.get(gram, ()):
                weighted[index] += idf(gram)
                shared[index] += 1
        total = sum(idf(gram) for gram in own) or 1.0
        scores["idf-weighted"].append(max(weighted.values(), default=0.0) / total)
        symmetric = (count / max(len(own), len(grams[i])) for i, count in shared.items())
        scores["symmetric"].append(max(symmetric, default=0.0))
    return scores


def report_alternatives(test: list[str], items: list[str], train: list[str], sources: set[int]) -> None:
    vs_pool, vs_train = alternative_shares(items, test), alternative_shares(train, test)
    for measure in vs_pool:
        print(f"\n== {measure} share, {NGRAM}-grams")
        for threshold in THRESHOLDS:
            recall = sum(vs_pool[measure][i] >= threshold for i in sources)
            others = sum(s >= threshold for i, s in enumerate(vs_pool[measure]) if i not in sources)
            false_train = sum(s >= threshold for s in vs_train[measure])
            share = f"{recall}/{len(sources)} = {recall / len(sources):.0%}"
            print(f"  threshold {threshold:.2f}: sources {share}, other test questions vs pool {others}, "
                  f"flagged vs GSM8K train {false_train}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=2000, help="gsm_symbolic items (all 85 templates)")
    parser.add_argument("--seed", type=int, default=1, help="reasoning-gym seed (the ladder's training seed)")
    parser.add_argument(
        "--alternatives", action="store_true", help="also the idf-weighted and symmetric shares"
    )
    args = parser.parse_args()
    test = questions(DATASETS / "gsm8k" / "test.jsonl")
    train = questions(DATASETS / "gsm8k" / "train.jsonl")
    items, templates = pool(args.pool, args.seed)
    found = template_sources(test, items, templates)
    sources = {source for source, _, _ in found.values()}
    weakest = sorted(found.items(), key=lambda kv: kv[1][1])[:5]
    print(f"gsm_symbolic pool: {len(items)} items (seed {args.seed}), {len(found)} templates; "
          f"{len(sources)} distinct GSM8K test sources")  # fmt: skip
    print(
        "  weakest template -> source matches (template, test row, Jaccard, runner-up): "
        + ", ".join(f"({t}, {s}, {j:.2f}, {r:.2f})" for t, (s, j, r) in weakest)
    )
    shares = word_set_share(test, items)
    print(f"  issue's measure (word-set share >= 0.45 with one item): {sum(s >= 0.45 for s in shares)} "
          f"of {len(test)}; of the sources {sum(shares[i] >= 0.45 for i in sources)}")  # fmt: skip
    for n in SIZES:
        report_size(n, test, items, train, sources)
    report_floor(test, items, train, sources)
    if args.alternatives:
        report_alternatives(test, items, train, sources)
    print(f"\nThe app: {NGRAM}-grams, share >= {THRESHOLD} and >= {MIN_SHARED} shared. GSM8K test flagged "
          "against GSM8K train:")  # fmt: skip
    index = OverlapIndex(train, NGRAM)
    for row, question in enumerate(test):
        overlap = index.overlap(question)
        if overlap.seen() and overlap.best is not None:
            print(f"  {overlap.share:.2f} test {row}: {question[:90]!r}\n       train {overlap.best}: "
                  f"{train[overlap.best][:90]!r}")  # fmt: skip


if __name__ == "__main__":
    main()
