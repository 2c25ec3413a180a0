"""Redaction of connection strings and passwords; every output path goes through it."""

from __future__ import annotations

import re

# postgresql://user:password@host/db  → postgresql://user:***@host/db
# The password runs to the last '@' before the path, so an unescaped '@' (or ':' or '/') in it
# is masked too; stopping at the first '@' would print the rest of the password as the host.
# `host:port/path…@` (digits then '/') is a port, not a password: https://h:443/@scope/pkg.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s'\"]*):(?![0-9]+/)"
    r"(?P<pw>(?:[^@\s'\"]|@(?=[^\s'\"/]*@))*)@"
)
# key=value DSNs, query parameters and env assignments: password=secret, password='s e c', PGPASSWORD=x
_KV_PASSWORD = re.compile(
    r"(?P<key>\b(?:pgpassword|password|passwd|pwd|sslpassword)\s*=\s*)"
    r"(?:(?P<q>['\"])(?:\\.|(?!(?P=q)).)*(?P=q)|[^\s'\"&;]*)",
    re.I,
)

MASK = "***"


def redact_dsn(dsn: str) -> str:
    """Return the DSN with its password replaced by ***."""
    return redact_text(dsn)


def redact_text(text: str) -> str:
    """Replace every password found in URLs or key=value DSNs inside free text."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['key']}{m['q'] or ''}{MASK}{m['q'] or ''}", text)
