"""User-given paths stay below their configured roots."""

from pathlib import Path

import pytest

from backend.files.paths import PathNotAllowed, confined_model, confined_path, confined_to_any, is_local_path


def test_relative_and_absolute_paths_inside_the_root(tmp_path: Path) -> None:
    assert confined_path("sets/a.jsonl", root=tmp_path) == tmp_path.resolve() / "sets" / "a.jsonl"
    assert confined_path(str(tmp_path / "b.jsonl"), root=tmp_path) == tmp_path.resolve() / "b.jsonl"


@pytest.mark.parametrize("bad", ["../x.jsonl", "/etc/passwd", "a/../../x", "", "  ", "a\x00b"])
def test_escapes_and_empty_paths_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PathNotAllowed):
        confined_path(bad, root=tmp_path / "root")


def test_a_link_pointing_out_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(PathNotAllowed):
        confined_path("link/file.jsonl", root=root)


def test_models_local_folders_are_confined_other_names_pass(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "tiny").mkdir(parents=True)
    assert confined_model(str(models / "tiny"), roots=[tmp_path / "runs", models]) == str(
        (models / "tiny").resolve()
    )
    assert confined_model("default", roots=[models]) == "default"
    assert confined_model("gpt-4o-mini", roots=[models]) == "gpt-4o-mini"
    assert is_local_path("./here") and not is_local_path("org/model-name")
    with pytest.raises(PathNotAllowed, match="outside the allowed folders"):
        confined_model("/etc", roots=[models])
    with pytest.raises(PathNotAllowed, match="none configured"):
        confined_to_any("/etc", roots=[])
