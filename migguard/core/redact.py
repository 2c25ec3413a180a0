"""Redaction of connection strings and passwords; every output path goes through it.

Two layers: by shape (a URL's user info, `password=` pairs) and by value. libpq and other tools
quote pieces of a connection string in their errors (a host name that holds the rest of a
password with an unescaped '@'), which no shape can catch; so every password migguard reads
(`remember_secret`, called when a connection string is parsed) is masked wherever it appears,
in its plain and percent-encoded forms.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote

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
# Shorter values are not masked in free text: a two-letter password would blank every word holding
# those letters. Their URLs and key=value pairs are still masked by shape.
MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_by_value: re.Pattern[str] | None = None


def remember_secret(value: str | None) -> None:
    """Mask `value`, plain, percent-encoded and decoded, in everything redacted from now on."""
    global _by_value
    if not value:
        return
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value), unquote(value)}
    new = {form for form in forms if len(form) >= MIN_SECRET_LENGTH} - _secrets
    if new:
        _secrets.update(new)
        alternatives = sorted(_secrets, key=len, reverse=True)  # the longest form first
        _by_value = re.compile("|".join(re.escape(form) for form in alternatives))


def forget_secrets() -> None:
    """Mask only by shape again: what one run remembered is not the next run's secret (a second
    main() in one process, as the test suite runs the command line)."""
    global _by_value
    _secrets.clear()
    _by_value = None


def redact_dsn(dsn: str) -> str:
    """Return the DSN with its password replaced by ***."""
    return redact_text(dsn)


def redact_text(text: str) -> str:
    """Replace every password found in URLs or key=value DSNs inside free text."""
    if not text:
        return text
    if _by_value is not None:
        text = _by_value.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['key']}{m['q'] or ''}{MASK}{m['q'] or ''}", text)
