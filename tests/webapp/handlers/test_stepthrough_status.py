"""The step-through status line is a Markdown component: a sub-question or error quoted in it must render
as the literal text, never as a link, an image or HTML (the page renders it with markdown-it, as here)."""

from markdown_it import MarkdownIt

from backend.evaluation.stepthrough import Pair, StepSession
from webapp.handlers.stepthrough import StepThroughHandlers

HOSTILE = "[click me](javascript:alert(1)) ![tracker](http://evil.example/p.png) <img src=x onerror=alert(2)>"


def _rendered(markdown: str) -> str:
    return MarkdownIt().enable("table").render(markdown)


def test_a_hostile_sub_question_shows_as_text_in_the_status_line() -> None:
    state = StepSession(question="q", decomposer={}, solver={}, pairs=[Pair(sub_question=HOSTILE)])
    status = StepThroughHandlers._progress({"event": "text", "part": "answer"}, state)
    html = _rendered(status)
    assert "<img" not in html and "<a " not in html  # no remote image, no link, no raw HTML
    assert "click me" in html and "evil.example/p.png" in html and "&lt;img" in html  # shown as text
