"""Word-level diffs between two texts, shaped for gr.HighlightedText ("+" added, "-" removed, None same).

difflib's matcher takes up to cubic time on repetitive text, and any viewer may compare any stored revision,
so the work is bounded (backend.access.limits): short texts are compared word by word; long ones line by
line after their common first and last lines, with word-level detail inside changed lines while those are
short and a budget lasts. Beyond that a changed block is shown removed and added whole.
"""

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from backend.access.limits import DIFF_LINES, DIFF_WORD_BUDGET, DIFF_WORD_TOKENS
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


def _matched(segments: list[Segment], old: Sequence[str], new: Sequence[str]) -> None:
    """Append the diff of two token (or line) lists; each list must be small (see backend.access.limits)."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(segments, "".join(new[j1:j2]), None)
            continue
        if tag in ("delete", "replace"):
            _append(segments, "".join(old[i1:i2]), "-")
        if tag in ("insert", "replace"):
            _append(segments, "".join(new[j1:j2]), "+")


def _common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many leading and trailing items the two lists share (never overlapping)."""
    shortest = min(len(old), len(new))
    head = 0
    while head < shortest and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shortest - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return head, tail


def _line_diff(segments: list[Segment], before: str, after: str) -> None:
    """Long texts: common first and last lines, then the changed lines aligned (a bounded number), with
    word-level detail inside a changed block while it is short and the word budget lasts."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    head, tail = _common_ends(old, new)
    _append(segments, "".join(new[:head]), None)
    old_middle, new_middle = old[head : len(old) - tail], new[head : len(new) - tail]
    if len(old_middle) + len(new_middle) <= DIFF_LINES:
        opcodes = difflib.SequenceMatcher(a=old_middle, b=new_middle, autojunk=False).get_opcodes()
    else:
        opcodes = [("replace", 0, len(old_middle), 0, len(new_middle))]
    budget = DIFF_WORD_BUDGET
    for tag, i1, i2, j1, j2 in opcodes:
        removed, added = "".join(old_middle[i1:i2]), "".join(new_middle[j1:j2])
        if tag == "equal":
            _append(segments, added, None)
            continue
        words = (_tokens(removed), _tokens(added)) if tag == "replace" else ([], [])
        size = len(words[0]) + len(words[1])
        if tag == "replace" and size <= min(DIFF_WORD_TOKENS, budget):
            budget -= size
            _matched(segments, *words)
            continue
        _append(segments, removed, "-")
        _append(segments, added, "+")
    _append(segments, "".join(new[len(new) - tail :]), None)


def word_diff(before: str, after: str) -> list[Segment]:
    """Segments whose unlabelled and "-" parts rebuild `before`, and unlabelled and "+" parts `after`."""
    segments: list[Segment] = []
    old, new = _tokens(before), _tokens(after)
    if len(old) + len(new) <= DIFF_WORD_TOKENS:
        _matched(segments, old, new)
    else:
        _line_diff(segments, before, after)
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
