"""Rounds that make a student better (SCoTD's many samples, STaR's rationalization): a trained CoT student
samples k rationales for each question of the set it learned from, the ones that reach the gold answer with
sound arithmetic join that set, the next student trains on the union, and both are evaluated on the same
problems with a paired test. A round is a chain job (backend.jobs.chain) whose steps are ordinary teacher,
training and evaluation jobs; it imports backend.teacher, backend.training and backend.evaluation's
configs and starters, and nothing imports it but the pages and the CLI."""
