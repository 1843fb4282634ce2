"""Student evaluation: Socratic loop, CoT / answer-only, Divide-or-Conquer; traces and their analysis."""
