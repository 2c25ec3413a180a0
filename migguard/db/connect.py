"""Open psycopg connections with timeouts and an application_name; errors never carry the DSN."""

from __future__ import annotations

import psycopg

from migguard.errors import DatabaseError
from migguard.redact import redact_text

APPLICATION_NAME = "migguard"


def connect(url: str, *, autocommit: bool = False, connect_timeout: int = 10,
            statement_timeout: str | None = None) -> psycopg.Connection:
    """A connection to `url`; a failure raises DatabaseError with the target redacted."""
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
