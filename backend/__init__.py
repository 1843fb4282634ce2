"""Domain logic, imports db and never webapp.

Packages: importers (datasets in), teacher (rationales written), annotation (edits and reviews), sets
(curated, frozen, exported), training (students), evaluation (students measured, step-through, failures),
checks (answers, calculator), jobs and model_worker (long work out of the web process), queries (what
pages read), access (accounts, sessions, limits), demo, files, display. Modules at this level are the
concepts every package shares: model references, rationale writing, student text formats, run configs,
precision and progress bars.
"""
