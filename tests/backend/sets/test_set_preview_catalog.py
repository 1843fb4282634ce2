"""Set previews, choice lists and training-run monitoring queries."""

from sqlmodel import Session

from backend.queries import catalog, run_monitor
from backend.queries.filters import RationaleFilter
from backend.sets import curation, set_preview
from db.models import StudentKind, TrainingMetric, TrainingRun
from tests.webapp.seed import make_users, seed_rationales


def test_preview_counts_the_union_of_filter_and_picks(session: Session) -> None:
    rationales = seed_rationales(session)
    wrong_pick = rationales[1].id or 0
    preview = set_preview.preview_selection(
        session, rationale_filter=RationaleFilter(verdict="correct"), picks=[wrong_pick, 999]
    )
    assert preview.total == 7 and preview.by_verdict == {"correct": 6, "wrong": 1}
    assert preview.by_dataset == {"toy": 7} and preview.by_steps == {2: 7} and preview.missing_picks == [999]
    only_picks = set_preview.preview_selection(session, rationale_filter=None, picks=[wrong_pick])
    assert only_picks.total == 1
    assert set_preview.preview_selection(session, rationale_filter=None, picks=[]).total == 0
    rows = set_preview.sample_rows(session, rationale_filter=RationaleFilter(verdict="wrong"), limit=2)
    assert [row["verdict"] for row in rows] == ["wrong", "wrong"] and rows[0]["question"].startswith("Tom")


def test_choices_and_counts(session: Session) -> None:
    make_users(session)
    rationales = seed_rationales(session)
    assert [name for name, _ in catalog.dataset_choices(session)] == ["toy"]
    assert catalog.split_choices(session) == ["test", "train"]
    assert [label.split(" ")[0] for label, _ in catalog.user_choices(session)] == [
        "admin",
        "alice",
        "bob",
        "victor",
    ]
    assert catalog.count_rationales(session, rationale_filter=RationaleFilter(verdict="wrong")) == 6
    curated = curation.create_set(session, name="s", picks=[rationales[0].id or 0])
    assert catalog.set_choices(session, frozen_only=True) == []
    curation.freeze(session, set_id=curated.id or 0)
    assert catalog.set_choices(session, frozen_only=True)[0][1] == curated.id
    (run, stored), *_ = catalog.teacher_runs_with_counts(session)
    assert run.name == "teacher-a" and stored == 12
    first = catalog.first_problem(session, dataset_id=rationales[0].dataset_id, split="train")
    assert first is not None and first.split == "train"
    assert len(catalog.problem_choices(session, dataset_id=None, split=None, limit=3)) == 3


def test_step_through_lists_held_out_problems_first_with_their_split(session: Session) -> None:
    seed_rationales(session)  # problems alternate between the test and train splits
    choices = catalog.problem_choices(session, dataset_id=None, split=None)
    splits = [label.split("] ")[0].split("[")[1] for label, _ in choices]
    assert splits == sorted(splits) and splits[0] == "test" and "train" in splits  # "test" < "train"
    held_out = [pid for (_, pid), split in zip(choices, splits, strict=True) if split == "test"]
    assert held_out == sorted(held_out)


def test_loss_curves_and_config_diff(session: Session) -> None:
    rationales = seed_rationales(session)
    curated = curation.create_set(session, name="s", picks=[rationales[0].id or 0])
    runs = []
    for name, rate in (("a", 1e-4), ("b", 1e-4)):
        run = TrainingRun(name=name, set_id=curated.id or 0, student_kind=StudentKind.cot, base_model="tiny",
                          hyperparams={"learning_rate": rate, "epochs": 1 if name == "a" else 2})  # fmt: skip
        session.add(run)
        session.commit()
        runs.append(run.id or 0)
    metrics = [(2, 1.0, None), (1, 2.0, None), (3, None, 1e-5)]  # out of order; the last has no loss
    session.add_all(
        TrainingMetric(run_id=runs[0], step=s, loss=loss, learning_rate=lr) for s, loss, lr in metrics
    )
    session.commit()
    curves = run_monitor.loss_curves(session, run_ids=runs)
    assert curves == {runs[0]: ([1, 2], [2.0, 1.0]), runs[1]: ([], [])}
    status = run_monitor.get_run_status(session, run_id=runs[0])
    assert status.last_step == 2 and status.last_loss == 1.0 and status.job is None
    diff = run_monitor.config_diff(session, run_ids=runs)
    assert diff[0]["parameter"] == "epochs" and diff[0]["differs"]
    assert {row["parameter"] for row in diff if not row["differs"]} >= {"learning_rate", "base_model", "kind"}
