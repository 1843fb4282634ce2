"""Turning untrusted text (questions, rationales, names) into inert display values.

Plain-text components (Textbox, Dataframe with "str" columns, HighlightedText, JSON) never interpret
what they show. Where a Markdown component must carry user text, `inert` escapes both HTML and the
Markdown punctuation, so `<script>`, `onerror=` or `**bold**` show exactly as typed.
"""

import html
import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")  # not < > &: html.escape covers them


def inert(text: object) -> str:
    """`text` as Markdown source that renders to exactly that text (no tags, links or emphasis)."""
    # Markdown first: escaping HTML first would leave entities such as `&#x27;` for the `#` rule to break.
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text)), quote=True)


def inert_html(text: object) -> str:
    """`text` escaped for an HTML context (gr.HTML, exported HTML, error modals)."""
    return html.escape(str(text), quote=True)
