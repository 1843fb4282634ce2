"""The docs hold together: README's links to docs/ resolve, results.md gives each table its command and
date, and README quotes no percentage or speed-up that results.md does not have."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RESULTS = DOCS / "results.md"

MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
DOCS_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*[\w/]")
# A percentage or a speed-up ("61.3%", "1.5x"), not part of a longer number or word.
FIGURE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:%|x\b)")
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def local_targets(text: str) -> list[str]:
    """Link targets that name a file of the repository (no URLs, no in-page anchors), anchors cut."""
    targets = [t for t in MARKDOWN_LINK.findall(text) if not re.match(r"[a-z]+:|#", t)]
    return [t.split("#", 1)[0] for t in targets]


def missing_docs_in_readme(text: str, root: Path) -> list[str]:
    """Every docs/ path README names, as a link or in prose, that does not exist under root."""
    paths = set(DOCS_PATH.findall(text)) | {t for t in local_targets(text) if t.startswith("docs/")}
    return sorted(p for p in paths if not (root / p).exists())


def sections(text: str) -> dict[str, str]:
    """The `## ` sections of a markdown text by title (the preamble before the first is left out)."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def tables_without_command(text: str) -> list[str]:
    """Titles of the sections that hold a table but lack a command block or a date."""
    bad = []
    for title, body in sections(text).items():
        if not re.search(r"^\|.*\|\s*$", body, flags=re.MULTILINE):
            continue
        block = re.search(r"\*\*Command:\*\*\s*```\w*\n\s*\S.*?```", body, flags=re.DOTALL)
        if block is None or DATE.search(body) is None:
            bad.append(title)
    return bad


def test_readme_links_only_docs_that_exist() -> None:
    text = README.read_text()
    assert "docs/results.md" in text
    assert missing_docs_in_readme(text, ROOT) == []


def test_links_between_docs_resolve() -> None:
    broken = [
        f"{page.relative_to(ROOT)} -> {target}"
        for page in sorted(DOCS.rglob("*.md"))
        for target in local_targets(page.read_text())
        if target and not (page.parent / target).exists()
    ]
    assert broken == []


def test_every_results_table_has_its_command_and_date() -> None:
    text = RESULTS.read_text()
    assert len(sections(text)) >= 5
    assert tables_without_command(text) == []


def test_readme_figures_come_from_results() -> None:
    """Each percentage and speed-up README quotes appears in results.md."""
    in_results = set(FIGURE.findall(RESULTS.read_text()))
    assert sorted(set(FIGURE.findall(README.read_text())) - in_results) == []


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """A missing docs file, a table without a command and a figure results.md lacks are each found."""
    assert missing_docs_in_readme("see [it](docs/gone.md) and docs/also-gone.md", tmp_path) == [
        "docs/also-gone.md",
        "docs/gone.md",
    ]
    with_command = "## A\n\n**Command:**\n\n```bash\nrun a\n```\n\n2026-12-01\n\n| x |\n|---|\n"
    page = with_command + "\n## B\n\n| y |\n|---|\n"
    assert tables_without_command(page) == ["B"]
    assert FIGURE.findall("CoT 6.7% (p = 0.012), 1.5x faster, 2x2 grid, v1.3x") == ["6.7%", "1.5x"]
