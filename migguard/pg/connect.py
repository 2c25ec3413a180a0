"""Open psycopg connections with timeouts and an application_name; errors never carry the DSN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict

from migguard.core.errors import DatabaseError, InputError
from migguard.core.redact import redact_text, remember_secret

APPLICATION_NAME = "migguard"

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


def connect(url: str, *, autocommit: bool = False, connect_timeout: int = 10,
            statement_timeout: str | None = None) -> psycopg.Connection:
    """A connection to `url`; a failure raises DatabaseError with the target redacted."""
    parse_url(url)
    options = f"-c statement_timeout={statement_timeout}" if statement_timeout else None
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout,
                               application_name=APPLICATION_NAME, options=options)
    except psycopg.Error as error:
        raise DatabaseError(f"cannot connect to {redact_text(url)}: {describe(error)}") from None


def describe(error: BaseException) -> str:
    """One redacted line describing a database error."""
    text = str(error).strip().splitlines()
    return redact_text(text[0] if text else type(error).__name__)


@contextmanager
def read_only_snapshot(conn: psycopg.Connection, name: str = "migguard_read") -> Iterator[None]:
    """One read-only repeatable-read snapshot, rolled back afterwards with the settings made in it.

    Inside a caller's transaction, a savepoint plays that role (its transaction stays usable)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        finally:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        return
    autocommit = conn.autocommit
    conn.autocommit = True
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.autocommit = autocommit
