"""Held-out sets: split by template, near-duplicates removed by template and numbers, GSM8K test filtered."""

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from bench.ladder_data import held_out_template, import_data, near_duplicate_key, template_ids, template_of
from bench.ladder_presets import PRESETS, tiny


def _item(variables: dict, question: str = "q") -> SimpleNamespace:
    return SimpleNamespace(meta={"variables": variables}, question=question, external_id="1-0")


def test_near_duplicates_share_template_and_numbers_whatever_the_names() -> None:
    a = _item({"name": "John", "fruit": "kiwi", "count": 3, "price": 1.5}, "John buys 3 kiwis")
    b = _item({"name": "Ana", "fruit": "plum", "count": 3, "price": 1.5}, "Ana buys 3 plums")
    c = _item({"name": "John", "fruit": "kiwi", "count": 4, "price": 1.5}, "John buys 4 kiwis")
    assert near_duplicate_key(a, 7) == near_duplicate_key(b, 7)
    assert near_duplicate_key(a, 7) != near_duplicate_key(c, 7)
    assert near_duplicate_key(a, 7) != near_duplicate_key(b, 8)
    plain = SimpleNamespace(meta={}, question="How many?", external_id="x")
    assert near_duplicate_key(plain, None) == ("text", "how many")


def test_templates_are_read_from_the_generator_seed() -> None:
    import reasoning_gym

    ids = template_ids(5, 1)
    assert ids == list(reasoning_gym.create_dataset("gsm_symbolic", size=5, seed=1).task_indices)
    assert template_of(SimpleNamespace(external_id="1-3"), {1: ids}) == ids[3]
    assert held_out_template(10, PRESETS["cpu"]) and not held_out_template(11, PRESETS["cpu"])


def test_unseen_templates_never_train_and_seen_ones_did(
    session: Session, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCRATIC_DATASETS", str(shared_datasets))
    preset = replace(tiny(PRESETS["cpu"]), n_train=40, pool=80, n_eval_symbolic=80)
    calls: list[tuple[int, int]] = []

    def flag_first(train: list[str], questions: list[str]) -> list[bool]:
        calls.append((len(train), len(questions)))
        return [index == 0 for index in range(len(questions))]

    splits = import_data(session, preset, contamination_filter=flag_first)
    from db.models import Problem

    def templates(name: str) -> set[int]:
        problems = [session.get(Problem, pid) for pid in splits[name]]
        seeds = {1: template_ids(preset.pool, 1), 1000: template_ids(preset.n_eval_symbolic, 1000)}
        return {template_of(p, seeds) for p in problems}

    trained = templates("train")
    assert not any(held_out_template(t, preset) for t in trained)
    seen, unseen = templates("gsm_symbolic_seen"), templates("gsm_symbolic_unseen")
    assert seen and unseen and seen <= trained and not unseen & trained
    assert any(held_out_template(t, preset) for t in unseen)
    assert calls == [(len(splits["train"]), len(splits["gsm8k_test"]))]
    assert splits["gsm8k_test_clean"] == splits["gsm8k_test"][1:]
    assert "dev_gsm_symbolic" in splits and not set(splits["dev_gsm_symbolic"]) & set(splits["train"])


def test_a_gsm8k_trained_student_has_every_gsm_symbolic_template_unseen_and_a_clean_subset(
    session: Session, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCRATIC_DATASETS", str(shared_datasets))
    preset = replace(tiny(PRESETS["gsm8k-cpu"]), n_eval_symbolic=10, n_svamp=0)
    compared: list[tuple[list[str], list[str]]] = []

    def flag_last(train: list[str], questions: list[str]) -> list[bool]:
        compared.append((train, questions))
        return [index == len(questions) - 1 for index in range(len(questions))]

    splits = import_data(session, preset, contamination_filter=flag_last)
    assert splits["gsm_symbolic_seen"] == [] and len(splits["gsm_symbolic_unseen"]) == 10
    assert splits["gsm_symbolic_unseen_clean"] == splits["gsm_symbolic_unseen"][:-1]
    from db.models import Problem

    train_questions = [session.get(Problem, pid).question for pid in splits["train"]]
    unseen_questions = [session.get(Problem, pid).question for pid in splits["gsm_symbolic_unseen"]]
    assert compared[0] == (train_questions, unseen_questions)  # checked against GSM8K train itself
