"""Checking answers and steps: the one answer extractor, the safe calculator, step-through's per-step
checks and the review checks of a teacher's sub-questions. Pure text work; no model, no session.
"""
