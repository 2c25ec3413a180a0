"""Redaction: no password survives in a URL, a key=value DSN, or free text holding either."""

from __future__ import annotations

import pytest

from migguard.core.errors import DatabaseError
from migguard.core.redact import redact_dsn, redact_text


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("postgresql://app:s3cret@db.internal:5432/prod", "postgresql://app:***@db.internal:5432/prod"),
        ("postgres://app:s3cret@db/prod?sslmode=require", "postgres://app:***@db/prod?sslmode=require"),
        ("postgresql+psycopg://app:s3cret@db/prod", "postgresql+psycopg://app:***@db/prod"),
        ("postgresql://:s3cret@db/prod", "postgresql://:***@db/prod"),  # no user name
        ("postgresql://app:@db/prod", "postgresql://app:***@db/prod"),  # empty password
        # unescaped special characters in the password: everything up to the host is masked
        ("postgresql://app:p@ss@db/prod", "postgresql://app:***@db/prod"),
        ("postgresql://app:p@s@s@db:5432/prod", "postgresql://app:***@db:5432/prod"),
        ("postgresql://app:pa:ss@db/prod", "postgresql://app:***@db/prod"),
        ("postgresql://app:pa/ss@db/prod", "postgresql://app:***@db/prod"),
        ("postgresql://app:p%40ss%3Aw%2F@db/prod", "postgresql://app:***@db/prod"),
        # password only in the query string
        ("postgresql://db/prod?user=app&password=s3cret&sslmode=require",
         "postgresql://db/prod?user=app&password=***&sslmode=require"),
    ],
)
def test_url_passwords_are_masked(dsn, expected):
    assert redact_dsn(dsn) == expected


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("host=db password=secret dbname=prod", "host=db password=*** dbname=prod"),
        ("host=db password = secret user=app", "host=db password = *** user=app"),
        ("host=db password='s e c r e t' user=app", "host=db password='***' user=app"),
        (r"password='it\'s a secret' user=app", "password='***' user=app"),
        ("password=p@ss:w/rd%20x", "password=***"),
        ('Server=db;Password="two words";Database=prod', 'Server=db;Password="***";Database=prod'),
        ("PASSWORD=secret", "PASSWORD=***"),
        ("export PGPASSWORD=secret", "export PGPASSWORD=***"),
        ("sslpassword=keypass sslmode=verify-full", "sslpassword=*** sslmode=verify-full"),
    ],
)
def test_key_value_passwords_are_masked(dsn, expected):
    assert redact_dsn(dsn) == expected


def test_text_with_several_urls_masks_each_and_keeps_the_rest():
    text = (
        "cannot connect to postgresql://app:one@prod.internal/prod, "
        "falling back to 'postgresql://shadow:two@localhost:5433/scratch' (host=x password=three user=y)"
    )
    redacted = redact_text(text)
    assert redacted == (
        "cannot connect to postgresql://app:***@prod.internal/prod, "
        "falling back to 'postgresql://shadow:***@localhost:5433/scratch' (host=x password=*** user=y)"
    )
    for secret in ("one", "two", "three"):
        assert secret not in redacted.replace("prod.internal", "")


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://app@db.internal:5432/prod",
        "postgresql://db.internal:5432/prod",
        "postgresql:///prod?host=/var/run/postgresql",
        "see https://www.postgresql.org/docs/current/sql-altertable.html",
        "https://registry.npmjs.org:443/@types/node",
        "mailto:ops@example.com and user@host",
        "ALTER TABLE accounts DROP COLUMN password;",
        "password_hash text NOT NULL",
        "",
    ],
)
def test_no_false_masking(text):
    assert redact_text(text) == text


def test_redaction_is_idempotent():
    once = redact_text("postgresql://u:p@ss@h/db password='x y'")
    assert redact_text(once) == once


def test_error_messages_are_redacted_on_construction():
    error = DatabaseError("cannot connect to postgresql://app:hunter2@db/prod: timeout")
    assert "hunter2" not in error.message and "hunter2" not in str(error)
    assert error.message == "cannot connect to postgresql://app:***@db/prod: timeout"
