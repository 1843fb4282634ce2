"""Secrets out of what people read: passwords inside URLs and connection strings are masked in job
records, stored log tails and error messages (`postgresql://studio:***@db/studio`)."""

import re

MASK = "***"
# scheme://user:PASSWORD@host  (the password may hold anything but '@', '/' and whitespace)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@]*:)[^\s/@]+(?=@)")
# libpq key=value strings and keyword arguments: password=..., password='...'
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """`text` with every URL password and `password=` value replaced by ***."""
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return _KEYWORD_PASSWORD.sub(rf"\g<head>{MASK}", text)
