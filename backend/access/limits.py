"""How much text one request may send, and the work the server does on text at most.

A text a user types (or that comes back from the browser, like step-through's trace state) is checked
against one of these limits on the server, by the handler or backend function it enters, before any
parser, diff or query sees it; a refusal is an InputRefused (a ValueError, which the handlers show as a
message to the user). One module, so that every limit can be found and changed in one place. The limits
sit well above what the app's own data holds: GSM8K questions are under 1,000 characters and a teacher's
or student's step under 1,000 (generation stops at a few hundred tokens).
"""

import re

# What a person types.
# A question typed in Step through (and the trace state's copy of it): GSM8K's longest is 985
# characters, and each step re-reads the question, so its length is model-worker time: a 5,001-character
# question held the shared worker (and everyone queued behind it) for 101 s on a CPU.
MAX_QUESTION_CHARS = 2_000
MAX_STEP_CHARS = 4_000  # one step's text or sub-question (Annotate's table, a step-through pair)
MAX_STEPS = 64  # steps in one rationale or step-through trace
MAX_ANSWER_CHARS = 2_000  # a final answer typed in Annotate
MAX_COMMENT_CHARS = 4_000  # an annotator's review or edit comment
MAX_NAME_CHARS = 100  # a curated set's or a teacher run's name
MAX_DESCRIPTION_CHARS = 2_000  # a curated set's description
MAX_SEARCH_CHARS = 200  # Explore's question search
MAX_TEMPLATE_CHARS = 20_000  # a teacher prompt template (Generate); the defaults are about 200
MAX_OPTIONS_CHARS = 4_000  # a teacher run's backend options (JSON)
MAX_CALCULATOR_RECORDS = 32  # corrections the calculator recorded on one step-through step
MAX_PICKS_CHARS = 100_000  # rationale ids typed or pasted into Curate (about 15,000 ids)
MAX_PATH_CHARS = 1_000  # an export path typed in Curate
MAX_MODEL_CHARS = 1_000  # a model typed or picked: checkpoint id or name, folder, endpoint name
MAX_MODEL_SPEC_CHARS = 4_000  # a model spec held by the browser (step-through state), as JSON
MAX_LABELS_CHARS_PER_STEP = 400  # Annotate's ratings JSON, per step shown: "-1" with all 8 tags is about 160

# The work done on text already stored (it may predate these limits, or come from an import).
CALCULATOR_SCAN_CHARS = 100_000  # the calculator reads equations in a text's first 100,000 characters
# difflib's matcher takes up to cubic time on repetitive input ("x " * 500 against "y " * 500: 10 s),
# so it is given small pieces only: the worst case of each bound below is about 0.05 s.
DIFF_WORD_TOKENS = 256  # words and spaces (both sides) compared word by word at once
DIFF_WORD_BUDGET = 2_048  # words and spaces compared word by word in one diff, all pieces together
DIFF_LINES = 256  # changed lines (both sides) aligned line by line; more are shown replaced whole

_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


class InputRefused(ValueError):
    """A text that is too long or holds characters it may not (the message says which and the limit)."""


def check_length(label: str, text: str, limit: int) -> str:
    """`text` unchanged when it has at most `limit` characters and no NUL, else InputRefused naming
    `label` (PostgreSQL refuses NUL in text, and SQLite's text functions stop at it)."""
    if len(text) > limit:
        raise InputRefused(f"{label} is too long: {len(text):,} characters, at most {limit:,} allowed")
    if "\x00" in text:
        raise InputRefused(f"{label} may not contain the NUL character (U+0000); remove it")
    return text


def check_count(label: str, count: int, limit: int) -> int:
    """`count` items (steps, records) when at most `limit`, else InputRefused naming `label`."""
    if count > limit:
        raise InputRefused(f"too many {label}: {count:,}, at most {limit:,} allowed")
    return count


def check_label(label: str, text: str, limit: int) -> str:
    """A name or description: `check_length`, and no bidirectional control characters (U+202A-U+202E,
    U+2066-U+2069), which make a name display as another."""
    check_length(label, text, limit)
    found = _BIDI_CONTROL.search(text)
    if found:
        raise InputRefused(
            f"{label} may not contain the control character U+{ord(found.group()):04X}; remove it"
        )
    return text
