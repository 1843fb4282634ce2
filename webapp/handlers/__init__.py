"""Event handlers: plain methods over an AppContext, unit-tested without a browser."""
