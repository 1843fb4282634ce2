"""Turning untrusted text (questions, rationales, names) into inert display values.

Plain-text components (Textbox, Dataframe with "str" columns, HighlightedText, JSON) never interpret
what they show. Where a Markdown component must carry user text, `inert` escapes both HTML and the
Markdown punctuation, so `<script>`, `onerror=` or `**bold**` show exactly as typed.
"""

from backend.display.inert_text import markdown_literal

inert = markdown_literal
