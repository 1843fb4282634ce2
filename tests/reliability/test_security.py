"""Backend security: roles enforced by every annotation write, argon2 passwords, user paths confined to
their roots, untrusted text stored and returned verbatim (escaping is the renderer's job), no shell."""

import ast
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from backend.access.auth import PermissionDenied, authenticate, create_user
from backend.annotation import assign_rationales, bulk_review, revert, review_rationale, save_edit
from backend.files.paths import PathNotAllowed, confined_path, confined_to_any
from backend.queries.explore import page_rationales
from backend.queries.filters import RationaleFilter
from backend.rationales import RationaleDraft, add_rationale
from backend.student_formats import StepText
from db.models import RationaleSource, Review, Revision, Role, User
from tests.factories import make_dataset, make_problem

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<script>alert(1)</script> <img src=x onerror="alert(2)"> **bold** [link](javascript:alert(3))'


@pytest.fixture
def hostile(session: Session) -> int:
    problem = make_problem(session, make_dataset(session, name="<b>ds</b>"), question=HOSTILE)
    draft = RationaleDraft(steps=[StepText(HOSTILE, HOSTILE)], final_answer="<svg onload=alert(4)>")
    rationale = add_rationale(session, problem=problem, draft=draft, source=RationaleSource.teacher)
    session.commit()
    assert rationale.id is not None
    return rationale.id


def _writes(rationale_id: int, user: User) -> dict[str, object]:
    """Every annotation write, each as a call to make as `user`."""
    return {
        "save_edit": lambda s: save_edit(
            s,
            rationale_id=rationale_id,
            expected_version=1,
            steps=[StepText(None, "x")],
            final_answer="1",
            author=user,
        ),
        "review": lambda s: review_rationale(
            s, rationale_id=rationale_id, expected_version=1, verdict="accept", reviewer=user
        ),
        "revert": lambda s: revert(
            s, rationale_id=rationale_id, to_number=1, expected_version=1, author=user
        ),
        "bulk_review": lambda s: bulk_review(
            s, rationale_filter=RationaleFilter(), verdict="reject", reviewer=user
        ),
        "assign": lambda s: assign_rationales(s, rationale_ids=[rationale_id], assignee=None, by=user),
    }


def test_a_viewer_can_write_nothing(session: Session, hostile: int):
    viewer = create_user(session, username="vic", role=Role.viewer)
    for name, write in _writes(hostile, viewer).items():
        with pytest.raises(PermissionDenied, match="role"):
            write(session)  # type: ignore[operator]
            pytest.fail(f"{name} let a viewer write")
    assert session.exec(select(func.count()).select_from(Revision)).one() == 1
    assert session.exec(select(func.count()).select_from(Review)).one() == 0


def test_an_annotator_cannot_bulk_review_or_assign(session: Session, hostile: int):
    annotator = create_user(session, username="ann", role=Role.annotator)
    writes = _writes(hostile, annotator)
    for name in ("bulk_review", "assign"):
        with pytest.raises(PermissionDenied, match="admin role"):
            writes[name](session)  # type: ignore[operator]
    with pytest.raises(PermissionDenied, match="log in"):  # no user at all (logged out)
        save_edit(
            session,
            rationale_id=hostile,
            expected_version=1,
            steps=[StepText(None, "x")],
            final_answer="1",
            author=None,
        )  # type: ignore[arg-type]


def test_passwords_are_argon2_hashes(session: Session):
    user = create_user(session, username="pat", role=Role.annotator, password="correct horse")
    other = create_user(session, username="sam", role=Role.annotator, password="correct horse")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash and user.password_hash != other.password_hash  # salted
    assert authenticate(session, username="pat", password="correct horse") is not None
    assert authenticate(session, username="pat", password="wrong horse") is None


def test_untrusted_text_is_stored_and_returned_verbatim(session: Session, hostile: int):
    """The backend neither renders nor mangles hostile text; the web layer shows it in escaping components
    (H5's browser test checks the page)."""
    rows, _ = page_rationales(session, rationale_filter=RationaleFilter(search="<script>"))
    assert rows and rows[0]["question"].startswith(HOSTILE[:100]) and rows[0]["dataset"] == "<b>ds</b>"
    assert rows[0]["final_answer"] == "<svg onload=alert(4)>"


def test_user_paths_stay_inside_their_root(tmp_path: Path):
    root = tmp_path / "exports"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "secret"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    assert confined_path("sub/set.jsonl", root=root) == (root / "sub" / "set.jsonl").resolve()
    assert confined_path(str(root / "a.jsonl"), root=root) == (root / "a.jsonl").resolve()
    for bad in ("../secret/x.jsonl", "sub/../../secret", "/etc/passwd", "escape/x.jsonl", "", "a\x00b"):
        with pytest.raises(PathNotAllowed):
            confined_path(bad, root=root)
    models = tmp_path / "models"
    models.mkdir()
    assert confined_to_any(str(models / "m"), roots=[root, models]) == (models / "m").resolve()
    with pytest.raises(PathNotAllowed, match="outside the allowed folders"):
        confined_to_any("/tmp", roots=[root, models])


def _python_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "__pycache__"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def _dangerous_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and not keyword.value.value
            ):
                found.append(f"line {node.lineno}: shell={ast.unparse(keyword.value)}")
        name = ast.unparse(node.func)
        if name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "system"):
            found.append(f"line {node.lineno}: {name}(...)")
    return found


def test_no_shell_anywhere():
    """Commands run with list arguments, never through a shell (style.md, issue 6)."""
    offenders = {}
    for path in _python_files():
        calls = _dangerous_calls(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if calls:
            offenders[str(path.relative_to(ROOT))] = calls
    assert not offenders, offenders
    assert len(_python_files()) > 50  # the walk really saw the project


def test_the_shell_check_catches_what_it_should():
    bad = "subprocess.run('ls', shell=True)\nos.system('ls')\nsubprocess.Popen(x, shell=flag)"
    assert len(_dangerous_calls(ast.parse(bad))) == 3
    assert _dangerous_calls(ast.parse("subprocess.run(['ls'], shell=False)")) == []


def test_api_keys_only_from_the_environment():
    """No string literal passed as an api_key / password / token argument in the project's code."""
    offenders = []
    for path in _python_files():
        if "tests" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal = isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant)
            if (
                literal
                and node.arg in ("api_key", "token", "secret")
                and node.value.value not in (None, "", "EMPTY")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert not offenders, offenders
