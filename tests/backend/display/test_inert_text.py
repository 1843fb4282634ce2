"""Untrusted text as Markdown that renders literally."""

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from backend.display.inert_text import markdown_literal

PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> **b** [l](http://x) #h'


def _rendered_text(source: str) -> str:
    """What a reader sees: the rendered HTML with tags removed and entities decoded."""
    rendered = MarkdownIt("commonmark").render(source)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


def test_payload_renders_as_the_same_text_without_tags() -> None:
    source = markdown_literal(PAYLOAD)
    rendered = MarkdownIt("commonmark").render(source)
    assert (
        "<script" not in rendered
        and "<img" not in rendered
        and "<strong" not in rendered
        and "<a " not in rendered
    )
    assert _rendered_text(source) == PAYLOAD


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), max_size=80))
def test_any_text_without_whitespace_runs_round_trips(text: str) -> None:
    # Inline text (names, numbers, short labels) is what the app puts into Markdown this way.
    source = markdown_literal(text)
    rendered = MarkdownIt("commonmark").render(source)
    assert re.sub(r"</?p>", "", rendered).count("<") == 0
    assert _rendered_text(source) == text.strip()
