"""Connection strings: a postgresql:// URL or key=value pairs, checked before libpq sees them, and
their passwords remembered for redaction. Read where a secret is resolved (config) and before
every connection (pg/connect.py), so it sits in the core."""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

from migguard.core.errors import InputError
from migguard.core.redact import remember_secret

_SCHEME = re.compile(r"^\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
URL_SHAPE = "postgresql://HOST:PORT/DATABASE, user and percent-encoded password before the host"


def parse_url(url: str, name: str = "the connection string") -> dict[str, str]:
    """libpq's parameters of a postgresql:// URL or a key=value string; its passwords are
    remembered for redaction. Anything else is an input error (exit 2) that never quotes the value:
    libpq's own messages repeat pieces of it, password included."""
    scheme = _SCHEME.match(url)
    if scheme is not None:
        if scheme["scheme"].lower() not in ("postgresql", "postgres"):
            raise InputError(f"{name} is a {scheme['scheme']}:// URL, not a PostgreSQL one: {URL_SHAPE}")
        _check_url_escapes(url[scheme.end():], name)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        raise InputError(f"{name} is not a PostgreSQL connection string: a postgresql:// URL or "
                         "key=value pairs") from None
    for key in ("password", "sslpassword"):
        remember_secret(str(params[key]) if params.get(key) else None)
    return {key: str(value) for key, value in params.items()}


def _check_url_escapes(rest: str, name: str) -> None:
    """Characters libpq would split a URL at must be percent-encoded in the user name and password.

    libpq ends the user info at the first '@' and reads the rest as the host, so an unescaped '@'
    or '/' in a password prints its tail as a host name; an unescaped '%' cannot be decoded."""
    at = rest.rfind("@")
    userinfo = rest[:at] if at >= 0 else ""
    remember_secret(userinfo.partition(":")[2] or None)  # whatever was meant as the password
    if any(char in userinfo for char in "@/?#"):
        raise InputError(f"{name}: the user name or password holds a character that must be percent-encoded "
                         "in a URL (@ as %40, / as %2F, ? as %3F, # as %23, % as %25)")
    if _BAD_PERCENT.search(rest):
        raise InputError(f"{name}: a '%' is not followed by two hex digits; percent-encode it as %25")
