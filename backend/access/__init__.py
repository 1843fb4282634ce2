"""Who may do what, and how much: accounts and argon2 passwords, login sessions and throttling, the
activity log, and the size limits every typed text is checked against. Imports db.
"""
