"""Rows the web app tests need: users of each role, and problems with rationales stored with revision 1."""

from sqlmodel import Session

from backend.access import auth
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.models import (
    Dataset,
    EvalRun,
    EvalTrace,
    JobStatus,
    Problem,
    Rationale,
    RationaleSource,
    Role,
    TeacherRun,
    User,
    Verdict,
)

PASSWORD = "correct-horse-battery"
XSS_QUESTION = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def make_users(session: Session) -> dict[str, User]:
    """admin, annotator (alice), second annotator (bob) and viewer (victor), all with PASSWORD."""
    users = {}
    for name, role in (
        ("admin", Role.admin),
        ("alice", Role.annotator),
        ("bob", Role.annotator),
        ("victor", Role.viewer),
    ):
        users[name] = auth.get_user(session, username=name) or auth.create_user(
            session, username=name, role=role, password=PASSWORD
        )
    return users


def seed_rationales(session: Session, *, problems: int = 6, dataset_name: str = "toy") -> list[Rationale]:
    """A dataset with `problems` Socratic problems (gold steps with values), a teacher run, and two teacher
    rationales per problem: sample 0 correct, sample 1 wrong. The fourth question is an XSS payload."""
    dataset = Dataset(name=dataset_name, source="jsonl")
    session.add(dataset)
    session.flush()
    run = TeacherRun(name="teacher-a", backend="transformers", model="tiny", dataset_id=dataset.id)
    session.add(run)
    session.flush()
    rationales = []
    for index in range(problems):
        boxes = index + 2
        question = (
            XSS_QUESTION if index == 3 else f"Tom has {boxes} boxes of 5 pens. How many pens does he have?"
        )
        assert dataset.id is not None
        problem = Problem(
            dataset_id=dataset.id,
            split="train" if index % 2 else "test",
            external_id=f"p{index}",
            question=question,
            gold_answer_raw=str(5 * boxes),
            gold_answer=str(5 * boxes),
            gold_steps=[
                {"sub_question": "How many pens are in one box?", "text": "5 pens.", "value": "5"},
                {
                    "sub_question": "How many pens in all?",
                    "text": f"{boxes} * 5 = {5 * boxes}",
                    "value": str(5 * boxes),
                },
            ],
            num_gold_steps=2,
            content_hash=f"h{index}",
        )
        session.add(problem)
        session.flush()
        for sample, answer in enumerate((5 * boxes, 5 * boxes + 1)):
            steps = [
                StepText("How many pens are in one box?", "Each box has 5 pens."),
                StepText("How many pens in all?", f"{boxes} * 5 = <<{boxes}*5={answer}>>{answer} pens."),
            ]
            draft = RationaleDraft(
                steps=steps,
                final_answer=str(answer),
                verdict=Verdict.correct if sample == 0 else Verdict.wrong,
                sample_index=sample,
                raw_text="\n".join(step.text for step in steps),
            )
            rationales.append(
                add_rationale(
                    session, problem=problem, draft=draft, source=RationaleSource.teacher, run_id=run.id
                )
            )
    session.commit()
    for rationale in rationales:
        session.refresh(rationale)
    return rationales


def seed_eval_run(
    session: Session, rationales: list[Rationale], *, name: str = "socratic-fixture"
) -> EvalRun:
    """A finished Socratic evaluation over three problems: the first right, two wrong at step 2."""
    run = EvalRun(name=name, method="socratic", n_problems=3, n_correct=1, status=JobStatus.succeeded)
    session.add(run)
    session.commit()
    problem_ids = [rationales[i].problem_id for i in (0, 2, 4)]
    for index, problem_id in enumerate(problem_ids):
        correct, answer = index == 0, str(7 + index)
        steps = [
            {"sub_question": "How many pens are in one box?", "answer": "5 pens.", "value": "5"},
            {"sub_question": "How many pens in all?", "answer": answer, "value": answer},
        ]
        session.add(
            EvalTrace(
                eval_run_id=run.id or 0,
                problem_id=problem_id,
                steps=steps,
                final_answer=answer,
                correct=correct,
                num_steps=2,
                first_divergent_step=None if correct else 1,
                error_category=None if correct else "wrong_final",
            )
        )
    session.commit()
    session.refresh(run)
    return run
