"""The demo a fresh installation shows: 50 reasoning-gym problems with reference rationales, and the "Build
the demo students" chain of jobs with its progress. Imports db, jobs, teacher, training and evaluation.
"""
