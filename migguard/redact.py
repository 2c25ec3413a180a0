"""Redaction of connection strings and passwords; every output path goes through it."""

from __future__ import annotations

import re

# postgresql://user:password@host/db  → postgresql://user:***@host/db
_URL_PASSWORD = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@\s]*)@")
# key=value DSNs and query parameters: password=secret
_KV_PASSWORD = re.compile(r"(?P<key>\b(?:password|passwd|pwd|sslpassword)\s*=\s*)(?P<q>'?)(?P<pw>(?:[^'\s&;]|\\')*)(?P=q)", re.I)

MASK = "***"


def redact_dsn(dsn: str) -> str:
    """Return the DSN with its password replaced by ***."""
    return redact_text(dsn)


def redact_text(text: str) -> str:
    """Replace every password found in URLs or key=value DSNs inside free text."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['key']}{m['q']}{MASK}{m['q']}", text)
