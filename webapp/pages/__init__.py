"""One builder per tab (`create_<tab>_tab`); the handlers they wire live in webapp.handlers."""
