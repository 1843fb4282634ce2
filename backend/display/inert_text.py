"""Untrusted text (questions, rationales, names) made inert for Markdown output.

`markdown_literal` escapes the Markdown punctuation and then HTML, so `<script>`, `onerror=`, links or
`**bold**` render exactly as typed, in the web app's Markdown and in exported Markdown files alike.
"""

import html
import re

# Not < > &: html.escape turns them into entities, which a backslash in front would break.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_literal(text: object) -> str:
    """`text` as Markdown source that renders to exactly that text (no tags, links or emphasis)."""
    # Markdown first: escaping HTML first would leave entities such as `&#x27;` for the `#` rule to break.
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text)), quote=True)
