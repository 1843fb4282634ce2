"""Long work as database-backed jobs: created here, run in a worker subprocess, watched by any page."""
