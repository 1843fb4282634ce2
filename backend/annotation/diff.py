"""Word-level diffs between two texts, shaped for gr.HighlightedText ("+" added, "-" removed, None same)."""

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from backend.student_formats import StepText

Segment = tuple[str, str | None]

_TOKEN = re.compile(r"\S+|\s+")  # words and the whitespace between them: segments rejoin exactly


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _append(segments: list[Segment], text: str, label: str | None) -> None:
    # Merge runs with the same label: fewer, longer highlighted spans read better than one per word.
    if segments and segments[-1][1] == label:
        segments[-1] = (segments[-1][0] + text, label)
    elif text:
        segments.append((text, label))


def word_diff(before: str, after: str) -> list[Segment]:
    """Segments whose unlabelled and "-" parts rebuild `before`, and unlabelled and "+" parts `after`."""
    old, new = _tokens(before), _tokens(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(segments, "".join(new[j1:j2]), None)
            continue
        if tag in ("delete", "replace"):
            _append(segments, "".join(old[i1:i2]), "-")
        if tag in ("insert", "replace"):
            _append(segments, "".join(new[j1:j2]), "+")
    return segments


def steps_text(steps: Sequence[StepText], final_answer: str | None) -> str:
    """A rationale as plain text, one line per sub-question and per step, for diffs and messages."""
    lines = []
    for number, step in enumerate(steps, start=1):
        if step.sub_question:
            lines.append(f"Q{number}: {step.sub_question}")
        lines.append(f"{number}. {step.text}")
    lines.append(f"Answer: {final_answer or ''}")
    return "\n".join(lines)


def content_text(content: Mapping[str, Any]) -> str:
    """The text of a stored revision snapshot ({"steps": [...], "final_answer": ...})."""
    steps = [StepText(s.get("sub_question"), s.get("text", "")) for s in content.get("steps", [])]
    return steps_text(steps, content.get("final_answer"))


def diff_summary(segments: Sequence[Segment], *, limit: int = 600) -> str:
    """A diff as one readable line for an error message: [-removed-] {+added+}, long same runs elided."""
    parts = []
    for text, label in segments:
        flat = " ".join(text.split())
        if label == "-":
            parts.append(f"[-{flat}-]")
        elif label == "+":
            parts.append(f"{{+{flat}+}}")
        else:
            parts.append(flat if len(flat) <= 60 else f"{flat[:25]} ... {flat[-25:]}")
    summary = " ".join(part for part in parts if part)
    return summary if len(summary) <= limit else summary[: limit - 3] + "..."
