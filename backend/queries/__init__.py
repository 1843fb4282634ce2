"""Read-side queries the pages show: Explore's table and charts, the shared rationale filters, the choices
in pickers, and training-run monitors. SQL through db, nothing written.
"""
